//! What the merge layers (`Add`, `Concatenate`) share: checking that there are inputs to
//! merge, and combining the inputs' masks as Keras does.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::nn::{Mask, Shape, format_shape};
use crate::tensor::Tensor;

/// Refuses fewer than two inputs, naming the layer.
pub fn check_several(kind: &str, count: usize) -> Result<()> {
    if count < 2 {
        return Err(Error::value(format!(
            "a {kind} layer merges at least 2 inputs, received {count}"
        )));
    }
    Ok(())
}

/// Whether two dimensions can be the same (an unknown one can be anything).
pub fn dims_agree(a: Option<usize>, b: Option<usize>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The shapes listed for an error message: "(None, 3), (None, 4)".
pub fn list_shapes(shapes: &[Shape]) -> String {
    shapes
        .iter()
        .map(|s| format_shape(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A step is kept where every input that has a mask keeps it (Keras's merge of masks); `None`
/// where no input has a mask.
pub fn and_masks(kind: &'static str, masks: &[Option<Mask>]) -> Result<Option<Mask>> {
    let mut present = masks.iter().flatten();
    let Some(first) = present.next() else {
        return Ok(None);
    };
    let mut merged: Option<ndarray::Array2<bool>> = None;
    for mask in present {
        if mask.dim() != first.dim() {
            return Err(Error::shape(
                kind,
                format!(
                    "the inputs' masks differ in shape: {:?} and {:?}",
                    first.dim(),
                    mask.dim()
                ),
            ));
        }
        let target = merged.get_or_insert_with(|| (**first).clone());
        target.zip_mut_with(mask, |a, &b| *a = *a && b);
    }
    Ok(Some(merged.map_or_else(|| first.clone(), Arc::new)))
}

/// The output shape of an elementwise merge (`Subtract`, `Multiply`, ...): the inputs agree on
/// every dimension, and a dimension known in any input is known in the output. `exactly` is
/// the number of inputs the layer takes, when it takes a fixed number.
pub fn elementwise_shape(
    kind: &'static str,
    input: &[Shape],
    exactly: Option<usize>,
) -> Result<Shape> {
    if let Some(n) = exactly
        && input.len() != n
    {
        return Err(Error::value(format!(
            "a {kind} layer should be called on exactly {n} inputs, received {} (shapes {})",
            input.len(),
            list_shapes(input)
        )));
    }
    check_several(kind, input.len())?;
    let first = &input[0];
    let same = input
        .iter()
        .all(|s| s.len() == first.len() && s.iter().zip(first).all(|(&a, &b)| dims_agree(a, b)));
    if !same {
        return Err(Error::shape(
            kind,
            format!(
                "a {kind} layer merges inputs of one shape, received shapes {}",
                list_shapes(input)
            ),
        ));
    }
    Ok((0..first.len())
        .map(|axis| input.iter().find_map(|s| s[axis]))
        .collect())
}

/// Folds the inputs of an elementwise merge with `step`, after checking that they have one
/// shape.
pub fn elementwise_fold(
    kind: &'static str,
    inputs: &[Tensor],
    step: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    check_several(kind, inputs.len())?;
    if let Some(other) = inputs.iter().find(|t| t.shape() != inputs[0].shape()) {
        return Err(Error::shape(
            kind,
            format!(
                "a {kind} layer merges inputs of one shape, received {:?} and {:?}",
                inputs[0].shape(),
                other.shape()
            ),
        ));
    }
    let mut acc = step(&inputs[0], &inputs[1])?;
    for x in &inputs[2..] {
        acc = step(&acc, x)?;
    }
    Ok(acc)
}

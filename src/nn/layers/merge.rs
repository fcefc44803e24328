//! What the merge layers (`Add`, `Concatenate`) share: checking that there are inputs to
//! merge, and combining the inputs' masks as Keras does.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::nn::{Mask, Shape, format_shape};

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

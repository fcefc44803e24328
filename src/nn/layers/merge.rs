//! What the merge layers share: checking that there are inputs to merge, their shapes,
//! combining the inputs' masks as Keras does, and `ElementwiseMerge`, the one layer behind
//! `Subtract`, `Multiply`, `Average`, `Maximum` and `Minimum`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{Context, Layer, Mask, Shape, format_shape, parse_config};
use crate::ops::binary::BinaryOp;
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

/// How an elementwise merge layer combines its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Combine {
    /// `a - b` (exactly two inputs).
    Difference,
    Product,
    /// The sum divided by the number of inputs.
    Mean,
    Maximum,
    Minimum,
}

impl Combine {
    /// The number of inputs the layer takes, where it is fixed.
    fn exactly(self) -> Option<usize> {
        (self == Combine::Difference).then_some(2)
    }

    fn step(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        match self {
            Combine::Difference => a.sub(b),
            Combine::Product => a.mul(b),
            Combine::Mean => a.add(b),
            Combine::Maximum => a.maximum(b),
            Combine::Minimum => a.minimum(b),
        }
    }
}

/// The settings of an elementwise merge layer: none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// An elementwise merge of inputs of one shape (`Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`: each file registers its kind with its `Combine`), built from tensor ops so that
/// gradients are automatic. The output mask keeps a step where every masked input does.
pub struct ElementwiseMerge {
    kind: &'static str,
    combine: Combine,
}

impl ElementwiseMerge {
    /// The layer `kind` for inputs of `input_shapes`, its settings checked (it has none).
    pub fn build(
        kind: &'static str,
        combine: Combine,
        config: &serde_json::Value,
        input_shapes: &[Shape],
    ) -> Result<Box<dyn Layer>> {
        parse_config::<NoSettings>(kind, config)?;
        let layer = ElementwiseMerge { kind, combine };
        layer.output_shape(input_shapes)?;
        Ok(Box::new(layer))
    }
}

impl Layer for ElementwiseMerge {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({})
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        elementwise_shape(self.kind, input, self.combine.exactly())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let shapes: Vec<Shape> = inputs
            .iter()
            .map(|t| t.shape().iter().map(|&d| Some(d)).collect())
            .collect();
        elementwise_shape(self.kind, &shapes, self.combine.exactly())?;
        let out = elementwise_fold(self.kind, inputs, |a, b| self.combine.step(a, b))?;
        match self.combine {
            Combine::Mean => out.scalar_op(BinaryOp::Div, inputs.len() as f64, false),
            _ => Ok(out),
        }
    }

    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![and_masks(self.kind, masks)?])
    }
}

/// Tests shared by the elementwise merge layers' files.
#[cfg(test)]
pub mod merge_tests {
    use rand::SeedableRng;

    use super::*;
    use crate::dtype::DType;
    use crate::nn::build_layer;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &dyn Layer, inputs: &[Tensor]) -> Result<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(inputs, None, &mut ctx)
    }

    /// The registered layer `kind` on `count` random (2, 3) inputs equals `expected` of their
    /// values elementwise, with gradients that pass the finite-difference check; it refuses
    /// inputs of different shapes and a single input.
    pub fn check_merge(kind: &str, count: usize, expected: impl Fn(&[f64]) -> f64) {
        let shapes = vec![vec![None, Some(3)]; count];
        let layer = build_layer(kind, &serde_json::json!({}), &shapes, DType::F64).unwrap();
        let inputs: Vec<Tensor> = (0..count).map(|i| randn(&[2, 3], i as u64 + 1)).collect();
        let values: Vec<Vec<f64>> = inputs.iter().map(Tensor::to_f64_vec).collect();
        let out = run(layer.as_ref(), &inputs).unwrap().to_f64_vec();
        for (position, got) in out.iter().enumerate() {
            let column: Vec<f64> = values.iter().map(|v| v[position]).collect();
            let want = expected(&column);
            assert!((got - want).abs() < 1e-12, "{kind}: {got} != {want}");
        }
        check_gradients(&inputs, |t| run(layer.as_ref(), t).unwrap());

        let mismatched = [vec![None, Some(3)], vec![None, Some(4)]];
        let err = build_layer(kind, &serde_json::json!({}), &mismatched, DType::F64)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(kind) && err.contains("(None, 3), (None, 4)"),
            "{err}"
        );
        let single = [vec![None, Some(3)]];
        assert!(build_layer(kind, &serde_json::json!({}), &single, DType::F64).is_err());
        let unknown = serde_json::json!({"axis": 1});
        assert!(build_layer(kind, &unknown, &shapes, DType::F64).is_err());
    }
}

//! `Add`: the elementwise sum of two or more inputs of the same shape (Keras's merge layer).

use serde::{Deserialize, Serialize};

use super::merge::{and_masks, check_several, dims_agree, list_shapes};
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddConfig {}

/// Sums its inputs elementwise; the output mask keeps a step where every masked input does.
pub struct Add {
    config: AddConfig,
}

impl Add {
    pub fn build(config: AddConfig, input_shapes: &[Shape]) -> Result<Add> {
        let add = Add { config };
        add.output_shape(input_shapes)?;
        Ok(add)
    }
}

impl Layer for Add {
    fn kind(&self) -> &'static str {
        "Add"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        check_several("Add", input.len())?;
        let first = &input[0];
        let same = input.iter().all(|s| {
            s.len() == first.len() && s.iter().zip(first).all(|(&a, &b)| dims_agree(a, b))
        });
        if !same {
            return Err(Error::shape(
                "Add",
                format!(
                    "an Add layer adds inputs of one shape, received shapes {}",
                    list_shapes(input)
                ),
            ));
        }
        // A dimension known in any input is known in the output.
        Ok((0..first.len())
            .map(|axis| input.iter().find_map(|s| s[axis]))
            .collect())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        check_several("Add", inputs.len())?;
        if let Some(other) = inputs.iter().find(|t| t.shape() != inputs[0].shape()) {
            return Err(Error::shape(
                "Add",
                format!(
                    "an Add layer adds inputs of one shape, received {:?} and {:?}",
                    inputs[0].shape(),
                    other.shape()
                ),
            ));
        }
        let mut sum = inputs[0].add(&inputs[1])?;
        for x in &inputs[2..] {
            sum = sum.add(x)?;
        }
        Ok(sum)
    }

    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![and_masks("Add", masks)?])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Add",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Add::build(parse_config("Add", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Add, inputs: &[Tensor]) -> Result<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(inputs, None, &mut ctx)
    }

    #[test]
    fn sums_its_inputs_with_their_gradients() {
        let layer = Add::build(AddConfig {}, &[vec![None, Some(3)], vec![None, Some(3)]]).unwrap();
        let (a, b, c) = (randn(&[2, 3], 1), randn(&[2, 3], 2), randn(&[2, 3], 3));
        let out = run(&layer, &[a.clone(), b.clone(), c.clone()]).unwrap();
        let expected: Vec<f64> = a
            .to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .zip(c.to_f64_vec())
            .map(|((a, b), c)| a + b + c)
            .collect();
        assert_eq!(out.to_f64_vec(), expected);
        check_gradients(&[a, b, c], |t| run(&layer, t).unwrap());
    }

    #[test]
    fn shapes_must_agree_and_masks_are_anded() {
        let err = Add::build(AddConfig {}, &[vec![None, Some(3)], vec![None, Some(4)]])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("(None, 3), (None, 4)"), "{err}");
        assert!(Add::build(AddConfig {}, &[vec![None, Some(3)]]).is_err());
        let layer = Add::build(AddConfig {}, &[vec![None, Some(3)], vec![Some(2), None]]).unwrap();
        assert_eq!(
            layer
                .output_shape(&[vec![None, Some(3)], vec![Some(2), None]])
                .unwrap(),
            vec![Some(2), Some(3)]
        );
        let m1: Mask = Arc::new(ndarray::arr2(&[[true, true, false]]));
        let m2: Mask = Arc::new(ndarray::arr2(&[[true, false, false]]));
        let x = [randn(&[1, 3, 2], 1), randn(&[1, 3, 2], 2)];
        let only_one = layer.output_masks(&x, &[None, Some(m1.clone())]).unwrap();
        assert_eq!(only_one[0].as_deref(), Some(&*m1));
        let both = layer
            .output_masks(&x, &[Some(m1), Some(m2.clone())])
            .unwrap();
        assert_eq!(both[0].as_deref(), Some(&*m2));
        assert!(layer.output_masks(&x, &[None, None]).unwrap()[0].is_none());
    }
}

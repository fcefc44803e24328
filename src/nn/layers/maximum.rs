//! `Maximum`: the elementwise maximum of two or more inputs of one shape (Keras's merge layer), built from tensor ops so that gradients are
//! automatic.

use serde::{Deserialize, Serialize};

use super::merge::{and_masks, elementwise_fold, elementwise_shape};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaximumConfig {}

/// Computes the elementwise maximum of two or more inputs of one shape; the output mask keeps a step where every masked input does.
pub struct Maximum {
    config: MaximumConfig,
}

impl Maximum {
    pub fn build(config: MaximumConfig, input_shapes: &[Shape]) -> Result<Maximum> {
        let layer = Maximum { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for Maximum {
    fn kind(&self) -> &'static str {
        "Maximum"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        elementwise_shape("Maximum", input, None)
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
        elementwise_shape("Maximum", &shapes, None)?;
        let out = elementwise_fold("Maximum", inputs, |a, b| a.maximum(b))?;
        Ok(out)
    }

    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![and_masks("Maximum", masks)?])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Maximum",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Maximum::build(parse_config("Maximum", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Maximum, inputs: &[Tensor]) -> Result<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(inputs, None, &mut ctx)
    }

    #[test]
    fn computes_its_merge_with_gradients() {
        let layer = Maximum::build(
            MaximumConfig {},
            &[
                vec![None, Some(3)],
                vec![None, Some(3)],
                vec![None, Some(3)],
            ],
        )
        .unwrap();
        let (a, b, c) = (randn(&[2, 3], 1), randn(&[2, 3], 2), randn(&[2, 3], 3));
        let out = run(&layer, &[a.clone(), b.clone(), c.clone()]).unwrap();
        let expected: Vec<f64> = a
            .to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .zip(c.to_f64_vec())
            .map(|((&a, b), c)| a.max(b).max(c))
            .collect();
        let got = out.to_f64_vec();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{g} != {e}");
        }
        check_gradients(&[a, b, c], |t| run(&layer, t).unwrap());
    }

    #[test]
    fn refuses_inputs_of_different_shapes() {
        let err = Maximum::build(
            MaximumConfig {},
            &[vec![None, Some(3)], vec![None, Some(4)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("Maximum") && err.contains("(None, 3), (None, 4)"),
            "{err}"
        );
        assert!(Maximum::build(MaximumConfig {}, &[vec![None, Some(3)]]).is_err());
    }
}

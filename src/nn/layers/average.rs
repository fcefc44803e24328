//! `Average`: the elementwise mean of two or more inputs of one shape (Keras's merge layer), built from tensor ops so that gradients are
//! automatic.

use serde::{Deserialize, Serialize};

use super::merge::{and_masks, elementwise_fold, elementwise_shape};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::ops::binary::BinaryOp;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AverageConfig {}

/// Computes the elementwise mean of two or more inputs of one shape; the output mask keeps a step where every masked input does.
pub struct Average {
    config: AverageConfig,
}

impl Average {
    pub fn build(config: AverageConfig, input_shapes: &[Shape]) -> Result<Average> {
        let layer = Average { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for Average {
    fn kind(&self) -> &'static str {
        "Average"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        elementwise_shape("Average", input, None)
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
        elementwise_shape("Average", &shapes, None)?;
        let out = elementwise_fold("Average", inputs, |a, b| a.add(b))?;
        out.scalar_op(BinaryOp::Div, inputs.len() as f64, false)
    }

    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![and_masks("Average", masks)?])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Average",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Average::build(parse_config("Average", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Average, inputs: &[Tensor]) -> Result<Tensor> {
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
        let layer = Average::build(
            AverageConfig {},
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
            .map(|((&a, b), c)| (a + b + c) / 3.0)
            .collect();
        let got = out.to_f64_vec();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{g} != {e}");
        }
        check_gradients(&[a, b, c], |t| run(&layer, t).unwrap());
    }

    #[test]
    fn refuses_inputs_of_different_shapes() {
        let err = Average::build(
            AverageConfig {},
            &[vec![None, Some(3)], vec![None, Some(4)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("Average") && err.contains("(None, 3), (None, 4)"),
            "{err}"
        );
        assert!(Average::build(AverageConfig {}, &[vec![None, Some(3)]]).is_err());
    }
}

//! `Subtract`: the first input minus the second (exactly two inputs of one shape) (Keras's merge layer), built from tensor ops so that gradients are
//! automatic.

use serde::{Deserialize, Serialize};

use super::merge::{and_masks, elementwise_fold, elementwise_shape};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtractConfig {}

/// Computes the first input minus the second (exactly two inputs of one shape); the output mask keeps a step where every masked input does.
pub struct Subtract {
    config: SubtractConfig,
}

impl Subtract {
    pub fn build(config: SubtractConfig, input_shapes: &[Shape]) -> Result<Subtract> {
        let layer = Subtract { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for Subtract {
    fn kind(&self) -> &'static str {
        "Subtract"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        elementwise_shape("Subtract", input, Some(2))
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
        elementwise_shape("Subtract", &shapes, Some(2))?;
        let out = elementwise_fold("Subtract", inputs, |a, b| a.sub(b))?;
        Ok(out)
    }

    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![and_masks("Subtract", masks)?])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Subtract",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Subtract::build(parse_config("Subtract", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Subtract, inputs: &[Tensor]) -> Result<Tensor> {
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
        let layer = Subtract::build(
            SubtractConfig {},
            &[vec![None, Some(3)], vec![None, Some(3)]],
        )
        .unwrap();
        let (a, b) = (randn(&[2, 3], 1), randn(&[2, 3], 2));
        let out = run(&layer, &[a.clone(), b.clone()]).unwrap();
        let expected: Vec<f64> = a
            .to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .map(|(&a, b)| a - b)
            .collect();
        let got = out.to_f64_vec();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{g} != {e}");
        }
        check_gradients(&[a, b], |t| run(&layer, t).unwrap());
    }

    #[test]
    fn refuses_inputs_of_different_shapes() {
        let err = Subtract::build(
            SubtractConfig {},
            &[vec![None, Some(3)], vec![None, Some(4)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("Subtract") && err.contains("(None, 3), (None, 4)"),
            "{err}"
        );
        assert!(Subtract::build(SubtractConfig {}, &[vec![None, Some(3)]]).is_err());
    }
}

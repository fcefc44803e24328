//! `Softmax`: the softmax over one axis.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::tensor::Tensor;

fn last_axis() -> i64 {
    -1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftmaxConfig {
    #[serde(default = "last_axis")]
    pub axis: i64,
}

/// `exp(x) / sum(exp(x))` over `axis` (negative counts from the end).
pub struct Softmax {
    config: SoftmaxConfig,
}

impl Softmax {
    pub fn build(config: SoftmaxConfig, input_shapes: &[Shape]) -> Result<Softmax> {
        let input = single_shape("Softmax", input_shapes)?;
        let rank = input.len() as i64;
        if config.axis >= rank || config.axis < -rank || config.axis == 0 || config.axis == -rank {
            return Err(Error::value(format!(
                "Softmax: axis={} is not a non-batch axis of inputs of shape {}",
                config.axis,
                format_shape(input)
            )));
        }
        Ok(Softmax { config })
    }
}

impl Layer for Softmax {
    fn kind(&self) -> &'static str {
        "Softmax"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("Softmax", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        single_input("Softmax", inputs)?.softmax(self.config.axis as isize)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Softmax",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Softmax::build(parse_config("Softmax", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Softmax, x: &Tensor) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer
            .forward(std::slice::from_ref(x), None, &mut ctx)
            .unwrap()
    }

    #[test]
    fn normalises_the_chosen_axis() {
        let input = vec![None, Some(3), Some(2)];
        let softmax = Softmax::build(SoftmaxConfig { axis: 1 }, &[input]).unwrap();
        let x = randn(&[2, 3, 2], 1);
        let y = run(&softmax, &x).to_f64_vec();
        let xs = x.to_f64_vec();
        // Sample 0, feature 0 runs over the elements 0, 2, 4.
        let total: f64 = [0, 2, 4].iter().map(|&i| xs[i].exp()).sum();
        for i in [0, 2, 4] {
            assert!((y[i] - xs[i].exp() / total).abs() < 1e-12);
        }
        check_gradients(&[x], |t| run(&softmax, &t[0]));
    }

    #[test]
    fn the_batch_axis_and_missing_axes_are_refused() {
        for axis in [0, 3, -3] {
            let err = Softmax::build(SoftmaxConfig { axis }, &[vec![None, Some(3), Some(2)]])
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(&format!("Softmax: axis={axis}")), "{err}");
        }
    }
}

//! `GaussianDropout`: multiplies its input by normal noise of mean 1 during training; the
//! identity at inference.

use parking_lot::Mutex;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::gaussian_noise::{normal_like, own_generator};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianDropoutConfig {
    pub rate: f64,
    /// A generator of the layer's own; without it the draws come from the model's.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Multiplies its input by `N(1, rate / (1 - rate))` noise in training (Keras's formula: the
/// variance of the multiplicative noise of dropout at `rate`).
pub struct GaussianDropout {
    config: GaussianDropoutConfig,
    generator: Option<Mutex<ChaCha8Rng>>,
}

impl GaussianDropout {
    pub fn build(config: GaussianDropoutConfig) -> Result<GaussianDropout> {
        // rate = 1 would mean infinite noise: refused rather than producing infinities.
        if !(0.0..1.0).contains(&config.rate) {
            return Err(Error::value(format!(
                "GaussianDropout: rate must be a number in [0, 1), received rate={}",
                config.rate
            )));
        }
        let generator = own_generator(config.seed);
        Ok(GaussianDropout { config, generator })
    }
}

impl Layer for GaussianDropout {
    fn kind(&self) -> &'static str {
        "GaussianDropout"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("GaussianDropout", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("GaussianDropout", inputs)?;
        let rate = self.config.rate;
        if !ctx.training || rate == 0.0 {
            return Ok(x.clone());
        }
        let stddev = (rate / (1.0 - rate)).sqrt();
        let noise = normal_like(x, 1.0, stddev, self.generator.as_ref(), ctx)?;
        x.mul(&noise)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "GaussianDropout",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(GaussianDropout::build(parse_config("GaussianDropout", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::dtype::DType;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &GaussianDropout, x: &Tensor, training: bool) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut ctx = Context {
            training,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer
            .forward(std::slice::from_ref(x), None, &mut ctx)
            .unwrap()
    }

    #[test]
    fn multiplicative_noise_of_mean_one() {
        let layer = GaussianDropout::build(GaussianDropoutConfig {
            rate: 0.2,
            seed: None,
        })
        .unwrap();
        let x = Tensor::full(&[200, 100], 3.0, DType::F64).unwrap();
        assert_eq!(run(&layer, &x, false).to_f64_vec(), x.to_f64_vec());
        let y = run(&layer, &x, true).to_f64_vec();
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let std = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - 3.0).abs() < 0.03, "{mean}");
        assert!((std - 3.0 * 0.5).abs() < 0.03, "{std}");
        // The noise is a constant of the pass: the gradient is the noise itself.
        check_gradients(&[randn(&[3, 4], 1)], |t| run(&layer, &t[0], true));
        for rate in [-0.1, 1.0] {
            assert!(GaussianDropout::build(GaussianDropoutConfig { rate, seed: None }).is_err());
        }
    }
}

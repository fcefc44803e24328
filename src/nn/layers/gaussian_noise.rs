//! `GaussianNoise`: adds zero-mean normal noise during training (a regulariser); the identity at
//! inference.

use parking_lot::Mutex;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::storage::Storage;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianNoiseConfig {
    pub stddev: f64,
    /// A generator of the layer's own; without it the draws come from the model's (seeded by
    /// `set_seed`).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A layer's own generator when it was given a seed, advancing from call to call as Keras's
/// `SeedGenerator` does.
pub(super) fn own_generator(seed: Option<u64>) -> Option<Mutex<ChaCha8Rng>> {
    seed.map(|seed| Mutex::new(ChaCha8Rng::seed_from_u64(seed)))
}

/// A constant tensor of `x`'s shape and dtype holding `mean + stddev * N(0, 1)` draws, from the
/// layer's own generator if it has one, else from the pass's.
pub(super) fn normal_like(
    x: &Tensor,
    mean: f64,
    stddev: f64,
    own: Option<&Mutex<ChaCha8Rng>>,
    ctx: &mut Context<'_>,
) -> Result<Tensor> {
    let draw = |rng: &mut ChaCha8Rng| -> Vec<f64> {
        (0..x.numel())
            .map(|_| mean + stddev * rng.sample::<f64, _>(StandardNormal))
            .collect()
    };
    let values = match own {
        Some(generator) => draw(&mut generator.lock()),
        None => draw(ctx.rng),
    };
    Ok(Tensor::new(
        Storage::from_f64_vec(x.dtype(), x.shape(), values)?,
        false,
    ))
}

/// Adds normal noise of standard deviation `stddev` to its input in training.
pub struct GaussianNoise {
    config: GaussianNoiseConfig,
    generator: Option<Mutex<ChaCha8Rng>>,
}

impl GaussianNoise {
    pub fn build(config: GaussianNoiseConfig) -> Result<GaussianNoise> {
        // Keras's bounds: a standard deviation in [0, 1].
        if !(0.0..=1.0).contains(&config.stddev) {
            return Err(Error::value(format!(
                "GaussianNoise: stddev must be a number in [0, 1], received stddev={}",
                config.stddev
            )));
        }
        let generator = own_generator(config.seed);
        Ok(GaussianNoise { config, generator })
    }
}

impl Layer for GaussianNoise {
    fn kind(&self) -> &'static str {
        "GaussianNoise"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("GaussianNoise", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("GaussianNoise", inputs)?;
        if !ctx.training || self.config.stddev == 0.0 {
            return Ok(x.clone());
        }
        let noise = normal_like(x, 0.0, self.config.stddev, self.generator.as_ref(), ctx)?;
        x.add(&noise)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "GaussianNoise",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(GaussianNoise::build(parse_config("GaussianNoise", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn run(layer: &GaussianNoise, x: &Tensor, training: bool, seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
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
    fn noise_has_the_standard_deviation_in_training_only() {
        let layer = GaussianNoise::build(GaussianNoiseConfig {
            stddev: 0.5,
            seed: None,
        })
        .unwrap();
        let x = Tensor::full(&[200, 100], 2.0, DType::F64).unwrap();
        assert_eq!(run(&layer, &x, false, 0).to_f64_vec(), x.to_f64_vec());
        let y = run(&layer, &x, true, 0).to_f64_vec();
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let std = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - 2.0).abs() < 0.02, "{mean}");
        assert!((std - 0.5).abs() < 0.02, "{std}");
        // Same pass generator, same noise; a seeded layer ignores the pass generator.
        assert_eq!(
            run(&layer, &x, true, 3).to_f64_vec(),
            run(&layer, &x, true, 3).to_f64_vec()
        );
        let seeded = |seed| {
            GaussianNoise::build(GaussianNoiseConfig {
                stddev: 0.5,
                seed: Some(seed),
            })
            .unwrap()
        };
        let (a, b) = (seeded(7), seeded(7));
        assert_eq!(
            run(&a, &x, true, 1).to_f64_vec(),
            run(&b, &x, true, 2).to_f64_vec()
        );
        assert!(
            GaussianNoise::build(GaussianNoiseConfig {
                stddev: -0.1,
                seed: None
            })
            .is_err()
        );
    }
}

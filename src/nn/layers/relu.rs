//! `ReLU`: the rectified linear unit with Keras's optional cap, leak and threshold.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::compare::Comparison;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReLUConfig {
    #[serde(default)]
    pub max_value: Option<f64>,
    #[serde(default)]
    pub negative_slope: f64,
    #[serde(default)]
    pub threshold: f64,
}

/// `min(x, max_value)` where `x > threshold`, `negative_slope * (x - threshold)` elsewhere
/// (Keras's `relu` with its three settings; the defaults give `max(x, 0)`).
pub struct ReLU {
    config: ReLUConfig,
}

impl ReLU {
    pub fn build(config: ReLUConfig) -> Result<ReLU> {
        let checks = [
            ("max_value", config.max_value.unwrap_or(0.0)),
            ("negative_slope", config.negative_slope),
            ("threshold", config.threshold),
        ];
        for (name, value) in checks {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::value(format!(
                    "ReLU: {name} must be a finite number >= 0, received {name}={value}"
                )));
            }
        }
        Ok(ReLU { config })
    }
}

impl Layer for ReLU {
    fn kind(&self) -> &'static str {
        "ReLU"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("ReLU", input)?.clone())
    }

    /// Keras's composition: the part above the threshold (capped), less the leak below it.
    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("ReLU", inputs)?;
        let ReLUConfig {
            max_value,
            negative_slope,
            threshold,
        } = self.config;
        let mut y = if threshold != 0.0 {
            let above = x.compare(Comparison::Greater, &Tensor::scalar(threshold, x.dtype()))?;
            x.mul(&above)?
        } else {
            x.relu()?
        };
        if let Some(max_value) = max_value {
            y = y.clip(Some(0.0), Some(max_value))?;
        }
        if negative_slope != 0.0 {
            // relu(threshold - x) * slope, subtracted.
            let below = x
                .neg()?
                .add(&Tensor::scalar(threshold, x.dtype()))?
                .relu()?;
            y = y.sub(&below.mul(&Tensor::scalar(negative_slope, x.dtype()))?)?;
        }
        Ok(y)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "ReLU",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(ReLU::build(parse_config("ReLU", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &ReLU, x: &Tensor) -> Tensor {
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

    fn expected(x: f64, config: &ReLUConfig) -> f64 {
        if x > config.threshold {
            config.max_value.map_or(x, |m| x.min(m))
        } else {
            config.negative_slope * (x - config.threshold)
        }
    }

    #[test]
    fn caps_leaks_and_thresholds_like_keras() {
        let configs = [
            ReLUConfig {
                max_value: None,
                negative_slope: 0.0,
                threshold: 0.0,
            },
            ReLUConfig {
                max_value: Some(0.8),
                negative_slope: 0.2,
                threshold: 0.3,
            },
        ];
        for config in configs {
            let layer = ReLU::build(config.clone()).unwrap();
            let x = randn(&[4, 5], 3);
            let y = run(&layer, &x).to_f64_vec();
            for (got, x) in y.iter().zip(x.to_f64_vec()) {
                assert!((got - expected(x, &config)).abs() < 1e-12, "{got} at {x}");
            }
            check_gradients(&[x], |t| run(&layer, &t[0]));
        }
    }

    #[test]
    fn negative_settings_are_refused_by_name() {
        let err = ReLU::build(ReLUConfig {
            max_value: Some(-1.0),
            negative_slope: 0.0,
            threshold: 0.0,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("ReLU: max_value must be"), "{err}");
        assert!(err.contains("max_value=-1"), "{err}");
        let err = ReLU::build(ReLUConfig {
            max_value: None,
            negative_slope: -0.5,
            threshold: 0.0,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("negative_slope=-0.5"), "{err}");
    }
}

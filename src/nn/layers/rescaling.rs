//! `Rescaling`: `x * scale + offset`, the preprocessing step that maps pixel values to [0, 1].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

fn zero() -> f64 {
    0.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescalingConfig {
    pub scale: f64,
    #[serde(default = "zero")]
    pub offset: f64,
}

/// Multiplies its input by `scale` and adds `offset`, in training and at inference.
pub struct Rescaling {
    config: RescalingConfig,
}

impl Rescaling {
    pub fn build(config: RescalingConfig) -> Result<Rescaling> {
        for (name, value) in [("scale", config.scale), ("offset", config.offset)] {
            if !value.is_finite() {
                return Err(Error::value(format!(
                    "Rescaling: {name} must be a finite number, received {name}={value}"
                )));
            }
        }
        Ok(Rescaling { config })
    }
}

impl Layer for Rescaling {
    fn kind(&self) -> &'static str {
        "Rescaling"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("Rescaling", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Rescaling", inputs)?;
        let scaled = x.mul(&Tensor::scalar(self.config.scale, x.dtype()))?;
        if self.config.offset == 0.0 {
            return Ok(scaled);
        }
        scaled.add(&Tensor::scalar(self.config.offset, x.dtype()))
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Rescaling",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(Rescaling::build(parse_config("Rescaling", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn scales_then_offsets_with_its_gradient() {
        let layer = Rescaling::build(RescalingConfig {
            scale: 1.0 / 127.5,
            offset: -1.0,
        })
        .unwrap();
        let x = randn(&[3, 4], 2);
        let run = |x: &Tensor| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            let mut ctx = Context {
                training: false,
                rng: &mut rng,
                packed_kernels: None,
            };
            layer
                .forward(std::slice::from_ref(x), None, &mut ctx)
                .unwrap()
        };
        let y = run(&x).to_f64_vec();
        for (y, x) in y.iter().zip(x.to_f64_vec()) {
            assert!((y - (x / 127.5 - 1.0)).abs() < 1e-12);
        }
        check_gradients(&[x], |t| run(&t[0]));
        let err = Rescaling::build(RescalingConfig {
            scale: f64::NAN,
            offset: 0.0,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("Rescaling: scale"), "{err}");
    }
}

//! `LeakyReLU`: `x` where positive, `negative_slope * x` elsewhere.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::unary::UnaryFn;
use crate::tensor::Tensor;

fn default_slope() -> f64 {
    0.3
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakyReLUConfig {
    #[serde(default = "default_slope")]
    pub negative_slope: f64,
}

/// `x` where `x > 0`, `negative_slope * x` elsewhere (Keras 3's default slope is 0.3).
pub struct LeakyReLU {
    config: LeakyReLUConfig,
}

impl LeakyReLU {
    pub fn build(config: LeakyReLUConfig) -> Result<LeakyReLU> {
        let slope = config.negative_slope;
        if !slope.is_finite() || slope < 0.0 {
            return Err(Error::value(format!(
                "LeakyReLU: negative_slope must be a finite number >= 0, received \
                 negative_slope={slope}"
            )));
        }
        Ok(LeakyReLU { config })
    }
}

impl Layer for LeakyReLU {
    fn kind(&self) -> &'static str {
        "LeakyReLU"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("LeakyReLU", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        single_input("LeakyReLU", inputs)?.apply(UnaryFn::LeakyRelu {
            alpha: self.config.negative_slope,
        })
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "LeakyReLU",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(LeakyReLU::build(parse_config("LeakyReLU", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn leaks_below_zero_with_its_gradient() {
        let config: LeakyReLUConfig = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(config.negative_slope, 0.3);
        let layer = LeakyReLU::build(config).unwrap();
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
        let x = randn(&[3, 4], 2);
        for (y, x) in run(&x).to_f64_vec().iter().zip(x.to_f64_vec()) {
            assert_eq!(*y, if x > 0.0 { x } else { 0.3 * x });
        }
        check_gradients(&[x], |t| run(&t[0]));
        let err = LeakyReLU::build(LeakyReLUConfig {
            negative_slope: -1.0,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("LeakyReLU") && err.contains("negative_slope=-1"),
            "{err}"
        );
    }
}

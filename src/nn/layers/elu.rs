//! `ELU`: the exponential linear unit.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::unary::UnaryFn;
use crate::tensor::Tensor;

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EluConfig {
    #[serde(default = "one")]
    pub alpha: f64,
}

/// `x` where `x > 0`, `alpha * (exp(x) - 1)` elsewhere.
pub struct Elu {
    config: EluConfig,
}

impl Elu {
    pub fn build(config: EluConfig) -> Result<Elu> {
        if !config.alpha.is_finite() {
            return Err(Error::value(format!(
                "ELU: alpha must be a finite number, received alpha={}",
                config.alpha
            )));
        }
        Ok(Elu { config })
    }
}

impl Layer for Elu {
    fn kind(&self) -> &'static str {
        "ELU"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("ELU", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        single_input("ELU", inputs)?.apply(UnaryFn::Elu {
            alpha: self.config.alpha,
        })
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "ELU",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(Elu::build(parse_config("ELU", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn saturates_below_zero_with_its_gradient() {
        let layer = Elu::build(EluConfig { alpha: 0.7 }).unwrap();
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
        let x = randn(&[3, 4], 5);
        for (y, x) in run(&x).to_f64_vec().iter().zip(x.to_f64_vec()) {
            let expected = if x > 0.0 { x } else { 0.7 * x.exp_m1() };
            assert!((y - expected).abs() < 1e-12);
        }
        check_gradients(&[x], |t| run(&t[0]));
        assert!(Elu::build(EluConfig { alpha: f64::NAN }).is_err());
    }
}

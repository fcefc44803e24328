//! `ActivityRegularization`: the identity, with an L1/L2 penalty on what passes through added
//! to the training loss (Keras's `activity_regularizer`).

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityRegularizationConfig {
    #[serde(default)]
    pub l1: f64,
    #[serde(default)]
    pub l2: f64,
}

/// Passes its input through and keeps `l1 * sum(|x|) + l2 * sum(x^2)` of the last pass as its
/// regularization loss (summed over the whole batch, as Keras 3 does), which the loop adds to
/// the loss like a weight penalty.
///
/// The penalty is that of the layer's latest forward pass: a layer called at two places of one
/// model counts its last call only.
pub struct ActivityRegularization {
    config: ActivityRegularizationConfig,
    penalty: Mutex<Option<Tensor>>,
}

impl ActivityRegularization {
    pub fn build(config: ActivityRegularizationConfig) -> Result<ActivityRegularization> {
        for (name, value) in [("l1", config.l1), ("l2", config.l2)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::value(format!(
                    "ActivityRegularization: {name} must be a non-negative number, received \
                     {name}={value}"
                )));
            }
        }
        Ok(ActivityRegularization {
            config,
            penalty: Mutex::new(None),
        })
    }

    fn penalty_of(&self, x: &Tensor) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        let dtype = x.dtype();
        if self.config.l1 > 0.0 {
            let term = x
                .abs()?
                .sum(None, false)?
                .mul(&Tensor::scalar(self.config.l1, dtype))?;
            total = Some(term);
        }
        if self.config.l2 > 0.0 {
            let term = x
                .square()?
                .sum(None, false)?
                .mul(&Tensor::scalar(self.config.l2, dtype))?;
            total = Some(match total {
                Some(t) => t.add(&term)?,
                None => term,
            });
        }
        Ok(total)
    }
}

impl Layer for ActivityRegularization {
    fn kind(&self) -> &'static str {
        "ActivityRegularization"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("ActivityRegularization", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("ActivityRegularization", inputs)?;
        *self.penalty.lock() = self.penalty_of(x)?;
        Ok(x.clone())
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        Ok(self.penalty.lock().clone())
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "ActivityRegularization",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(ActivityRegularization::build(parse_config(
                "ActivityRegularization",
                config,
            )?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn penalty_of_the_last_pass_with_its_gradient() {
        let layer =
            ActivityRegularization::build(ActivityRegularizationConfig { l1: 0.1, l2: 0.01 })
                .unwrap();
        assert!(layer.regularization_loss().unwrap().is_none());
        let x = randn(&[3, 4], 3);
        let run = |x: &Tensor| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            let mut ctx = Context {
                training: true,
                rng: &mut rng,
                packed_kernels: None,
            };
            let y = layer
                .forward(std::slice::from_ref(x), None, &mut ctx)
                .unwrap();
            y.add(&layer.regularization_loss().unwrap().unwrap())
                .unwrap()
        };
        run(&x);
        let values = x.to_f64_vec();
        let expected: f64 = values.iter().map(|v| 0.1 * v.abs() + 0.01 * v * v).sum();
        let penalty = layer
            .regularization_loss()
            .unwrap()
            .unwrap()
            .item()
            .unwrap();
        assert!((penalty - expected).abs() < 1e-12, "{penalty} {expected}");
        check_gradients(&[x], |t| run(&t[0]));
        let err = ActivityRegularization::build(ActivityRegularizationConfig { l1: -1.0, l2: 0.0 })
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("ActivityRegularization: l1"), "{err}");
    }
}

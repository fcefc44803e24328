//! Adadelta (Keras 3's `keras/src/optimizers/adadelta.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_positive, check_unit_open};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// Zeiler's rule scaled by `lr`: `acc_g = rho acc_g + (1 - rho) g^2;
/// d = -sqrt(acc_d + eps) / sqrt(acc_g + eps) * g; acc_d = rho acc_d + (1 - rho) d^2;
/// w += lr * d`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Adadelta, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Adadelta::default(), Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_names(), ["accumulated_grad", "accumulated_delta_var"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adadelta {
    pub rho: f64,
    pub epsilon: f64,
}

impl Default for Adadelta {
    /// Keras's defaults.
    fn default() -> Adadelta {
        Adadelta {
            rho: 0.95,
            epsilon: 1e-7,
        }
    }
}

impl OptimizerRule for Adadelta {
    const NAME: &'static str = "adadelta";

    fn validate(&self) -> Result<()> {
        check_unit_open("rho", self.rho)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulated_grad", "accumulated_delta_var"]
    }

    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        s: Slots<'_, T>,
        prep: GradPrep<T>,
        lr: f64,
        _t: u64,
    ) {
        let of = T::of;
        let rho = self.rho;
        let (lr, eps, c, rho) = (of(lr), of(self.epsilon), of(1.0 - rho), of(rho));
        fused(w, g, s, move |w, g, [ag, ad, _]| {
            let slots = ag.iter_mut().zip(ad.iter_mut());
            for ((w, &g), (ag, ad)) in w.iter_mut().zip(g).zip(slots) {
                let g = prep.grad(g);
                *ag = rho * *ag + c * (g * g);
                let delta = -((*ad + eps).sqrt() * g / (*ag + eps).sqrt());
                *ad = rho * *ad + c * (delta * delta);
                *w = prep.weight(*w) + lr * delta;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    #[test]
    fn first_step_by_hand() {
        let mut w = [1.0];
        run(&Adadelta::default(), &mut w, &[2.0], 1, 1.0);
        // acc_g = 0.05 * 4 = 0.2; d = -sqrt(1e-7) * 2 / sqrt(0.2 + 1e-7); w = 1 + d.
        let d = -(1e-7f64).sqrt() * 2.0 / (0.2f64 + 1e-7).sqrt();
        assert!((w[0] - (1.0 + d)).abs() < 1e-15);
    }
}

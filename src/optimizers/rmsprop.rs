//! RMSprop, optionally centered and with momentum (Keras 3's `keras/src/optimizers/rmsprop.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_positive, check_unit_closed, check_unit_open};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// `v = rho v + (1 - rho) g^2`; centered: `a = rho a + (1 - rho) g`, divide by
/// `sqrt(v - a^2 + epsilon)`, else by `sqrt(v + epsilon)`; momentum accumulates the increments.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{OptimizerConfig, Rmsprop, Schedule};
///
/// let rule = Rmsprop { centered: true, ..Rmsprop::default() };
/// let config = OptimizerConfig::new(rule, Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_names(), ["velocity", "average_gradient"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rmsprop {
    pub rho: f64,
    pub momentum: f64,
    pub epsilon: f64,
    pub centered: bool,
}

impl Default for Rmsprop {
    /// Keras's defaults.
    fn default() -> Rmsprop {
        Rmsprop {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }
}

impl OptimizerRule for Rmsprop {
    const NAME: &'static str = "rmsprop";

    fn validate(&self) -> Result<()> {
        check_unit_open("rho", self.rho)?;
        check_unit_closed("momentum", self.momentum)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["velocity"],
            (true, false) => &["velocity", "momentum"],
            (false, true) => &["velocity", "average_gradient"],
            (true, true) => &["velocity", "momentum", "average_gradient"],
        }
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
        let Rmsprop {
            rho,
            momentum,
            epsilon,
            centered,
        } = *self;
        let of = T::of;
        let (lr, eps, mu) = (of(lr), of(epsilon), of(momentum));
        let (rho, c) = (of(rho), of(1.0 - rho));
        match (momentum > 0.0, centered) {
            (false, false) => fused(w, g, s, move |w, g, [v, ..]| {
                for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                    let g = prep.grad(g);
                    *v = rho * *v + c * (g * g);
                    *w = prep.weight(*w) - lr * g / (*v + eps).sqrt();
                }
            }),
            (true, false) => fused(w, g, s, move |w, g, [v, mo, _]| {
                let slots = v.iter_mut().zip(mo.iter_mut());
                for ((w, &g), (v, mo)) in w.iter_mut().zip(g).zip(slots) {
                    let g = prep.grad(g);
                    *v = rho * *v + c * (g * g);
                    *mo = mu * *mo + lr * g / (*v + eps).sqrt();
                    *w = prep.weight(*w) - *mo;
                }
            }),
            (false, true) => fused(w, g, s, move |w, g, [v, a, _]| {
                let slots = v.iter_mut().zip(a.iter_mut());
                for ((w, &g), (v, a)) in w.iter_mut().zip(g).zip(slots) {
                    let g = prep.grad(g);
                    *v = rho * *v + c * (g * g);
                    *a = rho * *a + c * g;
                    *w = prep.weight(*w) - lr * g / (*v - *a * *a + eps).sqrt();
                }
            }),
            (true, true) => fused(w, g, s, move |w, g, [v, mo, a]| {
                let slots = v.iter_mut().zip(mo.iter_mut()).zip(a.iter_mut());
                for ((w, &g), ((v, mo), a)) in w.iter_mut().zip(g).zip(slots) {
                    let g = prep.grad(g);
                    *v = rho * *v + c * (g * g);
                    *a = rho * *a + c * g;
                    *mo = mu * *mo + lr * g / (*v - *a * *a + eps).sqrt();
                    *w = prep.weight(*w) - *mo;
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    #[test]
    fn first_step_by_hand() {
        let mut w = [1.0];
        let slots = run(&Rmsprop::default(), &mut w, &[2.0], 1, 0.1);
        // v = 0.1 * 4 = 0.4; w = 1 - 0.1 * 2 / sqrt(0.4 + 1e-7).
        assert!((slots[0].to_f64_vec()[0] - 0.4).abs() < 1e-15);
        assert!((w[0] - (1.0 - 0.2 / (0.4f64 + 1e-7).sqrt())).abs() < 1e-15);
    }

    #[test]
    fn validation_echoes_the_value() {
        let bad = Rmsprop {
            epsilon: 0.0,
            ..Rmsprop::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("epsilon=0.0"), "{msg}");
    }
}

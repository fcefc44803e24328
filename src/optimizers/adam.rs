//! Adam, with optional AMSGrad (Keras 3's `keras/src/optimizers/adam.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_positive, check_unit_open};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
/// w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`, `t` counting
/// from 1; AMSGrad divides by the running maximum of `v` instead.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Adam, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Adam { amsgrad: true, ..Adam::default() }, Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_names(), ["momentum", "velocity", "velocity_hat"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adam {
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    pub amsgrad: bool,
}

impl Default for Adam {
    /// Keras's defaults.
    fn default() -> Adam {
        Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }
}

impl OptimizerRule for Adam {
    const NAME: &'static str = "adam";

    fn validate(&self) -> Result<()> {
        check_unit_open("beta_1", self.beta_1)?;
        check_unit_open("beta_2", self.beta_2)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["momentum", "velocity", "velocity_hat"]
        } else {
            &["momentum", "velocity"]
        }
    }

    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        s: Slots<'_, T>,
        prep: GradPrep<T>,
        lr: f64,
        t: u64,
    ) {
        let Adam {
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        } = *self;
        let of = T::of;
        let t = t as f64;
        let alpha = of(lr * (1.0 - beta_2.powf(t)).sqrt() / (1.0 - beta_1.powf(t)));
        let (c1, c2, eps) = (of(1.0 - beta_1), of(1.0 - beta_2), of(epsilon));
        if amsgrad {
            fused(w, g, s, move |w, g, [m, v, vh]| {
                let slots = m.iter_mut().zip(v.iter_mut()).zip(vh.iter_mut());
                for ((w, &g), ((m, v), vh)) in w.iter_mut().zip(g).zip(slots) {
                    let g = prep.grad(g);
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    // The maximum, NaN spreading (as `ops.maximum`).
                    *vh = if *vh >= *v { *vh } else { *v };
                    *w = prep.weight(*w) - *m * alpha / (vh.sqrt() + eps);
                }
            });
        } else {
            fused(w, g, s, move |w, g, [m, v, _]| {
                let slots = m.iter_mut().zip(v.iter_mut());
                for ((w, &g), (m, v)) in w.iter_mut().zip(g).zip(slots) {
                    let g = prep.grad(g);
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    *w = prep.weight(*w) - *m * alpha / (v.sqrt() + eps);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    #[test]
    fn first_step_moves_by_about_lr() {
        let mut w = [1.0, -1.0];
        run(&Adam::default(), &mut w, &[3.0, -0.5], 1, 0.01);
        assert!((w[0] - 0.99).abs() < 1e-7, "{w:?}");
        assert!((w[1] + 0.99).abs() < 1e-7, "{w:?}");
    }

    #[test]
    fn amsgrad_keeps_the_largest_velocity() {
        let rule = Adam {
            amsgrad: true,
            ..Adam::default()
        };
        let mut w = [0.0];
        let slots = run(&rule, &mut w, &[1.0], 1, 0.1);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[2].to_f64_vec(), slots[1].to_f64_vec());
    }

    #[test]
    fn validation_echoes_the_value() {
        let bad = Adam {
            beta_1: 1.0,
            ..Adam::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("beta_1=1.0"), "{msg}");
    }
}

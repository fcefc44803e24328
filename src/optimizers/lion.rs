//! Lion: evolved sign momentum (Chen et al., 2023; Keras 3's `keras/src/optimizers/lion.py`).

use serde::{Deserialize, Serialize};

use super::checks::check_unit_closed;
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;

/// `w -= lr * sign(beta_1 m + (1 - beta_1) g); m = beta_2 m + (1 - beta_2) g`, `sign(0) = 0`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Lion, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Lion::default(), Schedule::constant(1e-4));
/// assert_eq!(config.rule.slot_names(), ["momentum"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lion {
    pub beta_1: f64,
    pub beta_2: f64,
}

impl Default for Lion {
    /// Keras's defaults.
    fn default() -> Lion {
        Lion {
            beta_1: 0.9,
            beta_2: 0.99,
        }
    }
}

impl OptimizerRule for Lion {
    const NAME: &'static str = "lion";

    fn validate(&self) -> Result<()> {
        if !(self.beta_1 > 0.0 && self.beta_1 <= 1.0) {
            bail!(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer \
                 degenerates to SignSGD. Received: beta_1={:?}",
                self.beta_1
            );
        }
        check_unit_closed("beta_2", self.beta_2)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum"]
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
        let (b1, c1) = (of(self.beta_1), of(1.0 - self.beta_1));
        let (b2, c2) = (of(self.beta_2), of(1.0 - self.beta_2));
        let (lr, zero, one) = (of(lr), of(0.0), of(1.0));
        fused(w, g, s, move |w, g, [m, _, _]| {
            for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                let g = prep.grad(g);
                let c = *m * b1 + g * c1;
                // `ops.sign`: 0 at 0, NaN at NaN.
                let sign = if c > zero {
                    one
                } else if c < zero {
                    -one
                } else {
                    c
                };
                *w = prep.weight(*w) - lr * sign;
                *m = *m * b2 + g * c2;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    /// The paper's Algorithm 2 (without its weight decay), step by step.
    #[test]
    fn matches_the_published_rule_step_by_step() {
        let rule = Lion {
            beta_1: 0.8,
            beta_2: 0.5,
        };
        // A gradient that flips sign makes the interpolation change sign at some step.
        let g = [0.5, -2.0, 0.0];
        for steps in 1..=4u64 {
            let mut w = [1.0, -1.0, 0.25];
            let slots = run(&rule, &mut w, &g, steps, 0.1);
            let (mut e, mut m) = ([1.0, -1.0, 0.25], [0.0f64; 3]);
            for _ in 0..steps {
                for i in 0..3 {
                    let c: f64 = 0.8 * m[i] + 0.2 * g[i];
                    let sign = if c == 0.0 { 0.0 } else { c.signum() };
                    e[i] -= 0.1 * sign;
                    m[i] = 0.5 * m[i] + 0.5 * g[i];
                }
            }
            assert_eq!(w, e, "step {steps}");
            assert_eq!(slots[0].to_f64_vec(), m.to_vec());
        }
    }

    #[test]
    fn the_update_follows_the_momentum_not_the_gradient() {
        // m = 1 (after a step with g = 1 and beta_2 = 0), then g = -0.1: c = 0.9 - 0.01 > 0.
        let rule = Lion {
            beta_1: 0.9,
            beta_2: 0.0,
        };
        let mut w = [0.0];
        run(&rule, &mut w, &[1.0], 1, 1.0);
        assert_eq!(w, [-1.0]);
    }

    #[test]
    fn validation_is_kerass() {
        let bad = Lion {
            beta_1: 0.0,
            ..Lion::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(
            msg.contains("beta_1=0.0") && msg.contains("SignSGD"),
            "{msg}"
        );
        assert!(
            Lion {
                beta_1: 1.0,
                beta_2: 1.0
            }
            .validate()
            .is_ok()
        );
    }
}

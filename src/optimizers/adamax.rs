//! Adamax: Adam with the infinity norm (Keras 3's `keras/src/optimizers/adamax.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_positive, check_unit_open};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// `m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|);
/// w -= lr * m / ((1 - beta_1^t) (u + epsilon))`, `t` counting from 1. PyTorch's `Adamax` adds
/// its `eps` inside the maximum (`u = max(beta_2 u, |g| + eps)`) and divides by `u`: the two
/// agree when both epsilons are 0.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Adamax, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Adamax::default(), Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_names(), ["momentum", "norm"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adamax {
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
}

impl Default for Adamax {
    /// Keras's defaults.
    fn default() -> Adamax {
        Adamax {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl OptimizerRule for Adamax {
    const NAME: &'static str = "adamax";

    fn validate(&self) -> Result<()> {
        check_unit_open("beta_1", self.beta_1)?;
        check_unit_open("beta_2", self.beta_2)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "norm"]
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
        let Adamax {
            beta_1,
            beta_2,
            epsilon,
        } = *self;
        let of = T::of;
        let alpha = of(lr / (1.0 - beta_1.powf(t as f64)));
        let (c1, b2, eps) = (of(1.0 - beta_1), of(beta_2), of(epsilon));
        fused(w, g, s, move |w, g, [m, u, _]| {
            let slots = m.iter_mut().zip(u.iter_mut());
            for ((w, &g), (m, u)) in w.iter_mut().zip(g).zip(slots) {
                let g = prep.grad(g);
                *m += (g - *m) * c1;
                let decayed = *u * b2;
                let abs = g.abs();
                // The maximum, NaN spreading (as `ops.maximum`).
                *u = if decayed >= abs || decayed.is_nan() {
                    decayed
                } else {
                    abs
                };
                *w = prep.weight(*w) - *m * alpha / (*u + eps);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    /// Kingma and Ba's Algorithm 2, with Keras's epsilon, step by step.
    #[test]
    fn matches_the_published_rule_step_by_step() {
        let rule = Adamax {
            beta_1: 0.7,
            beta_2: 0.9,
            epsilon: 1e-5,
        };
        let g = [0.5, -2.0, 0.0];
        for steps in 1..=5u64 {
            let mut w = [1.0, -1.0, 0.25];
            run(&rule, &mut w, &g, steps, 0.05);
            let mut e = [1.0, -1.0, 0.25];
            let (mut m, mut u) = ([0.0; 3], [0.0f64; 3]);
            for t in 1..=steps {
                for i in 0..3 {
                    m[i] = 0.7 * m[i] + 0.3 * g[i];
                    u[i] = (0.9 * u[i]).max(g[i].abs());
                    e[i] -= 0.05 / (1.0 - 0.7f64.powi(t as i32)) * m[i] / (u[i] + 1e-5);
                }
            }
            for (a, b) in w.iter().zip(&e) {
                assert!((a - b).abs() < 1e-14, "step {steps}: {w:?} vs {e:?}");
            }
        }
    }

    #[test]
    fn first_step_moves_by_about_lr() {
        let mut w = [1.0, -1.0];
        let slots = run(&Adamax::default(), &mut w, &[3.0, -0.5], 1, 0.01);
        assert!((w[0] - 0.99).abs() < 1e-8, "{w:?}");
        assert!((w[1] + 0.99).abs() < 1e-6, "{w:?}");
        assert_eq!(slots[1].to_f64_vec(), vec![3.0, 0.5]);
    }

    #[test]
    fn validation_echoes_the_value() {
        let bad = Adamax {
            epsilon: 0.0,
            ..Adamax::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("epsilon=0.0"), "{msg}");
    }
}

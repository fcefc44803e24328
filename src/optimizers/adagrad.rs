//! Adagrad (Keras 3's `keras/src/optimizers/adagrad.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_non_negative, check_positive};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// `acc += g^2; w -= lr * g / sqrt(acc + epsilon)`, `acc` starting at
/// `initial_accumulator_value`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Adagrad, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Adagrad::default(), Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_initial_value(), 0.1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adagrad {
    pub initial_accumulator_value: f64,
    pub epsilon: f64,
}

impl Default for Adagrad {
    /// Keras's defaults.
    fn default() -> Adagrad {
        Adagrad {
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }
}

impl OptimizerRule for Adagrad {
    const NAME: &'static str = "adagrad";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulator"]
    }

    fn slot_initial_value(&self) -> f64 {
        self.initial_accumulator_value
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
        let (lr, eps) = (T::of(lr), T::of(self.epsilon));
        fused(w, g, s, move |w, g, [acc, ..]| {
            for ((w, &g), acc) in w.iter_mut().zip(g).zip(acc.iter_mut()) {
                let g = prep.grad(g);
                *acc += g * g;
                *w = prep.weight(*w) - lr * g / (*acc + eps).sqrt();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    #[test]
    fn starts_from_its_initial_accumulator() {
        let mut w = [0.0];
        let slots = run(&Adagrad::default(), &mut w, &[1.0], 1, 0.1);
        assert_eq!(slots[0].to_f64_vec(), vec![1.1]);
        assert!((w[0] + 0.1 / (1.1f64 + 1e-7).sqrt()).abs() < 1e-15);
    }
}

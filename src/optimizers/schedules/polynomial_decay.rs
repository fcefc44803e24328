//! Keras's `PolynomialDecay`.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::Result;
use crate::optimizers::checks::{check_non_negative, check_positive};

/// `(initial - end) * (1 - step / decay_steps) ^ power + end`, with `step` held at
/// `decay_steps` afterwards, or with `cycle` the decay restarting over the next multiple of
/// `decay_steps`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{LearningRateSchedule, PolynomialDecay};
///
/// let s = PolynomialDecay {
///     initial_learning_rate: 1.0,
///     decay_steps: 10.0,
///     end_learning_rate: 0.0,
///     power: 1.0,
///     cycle: false,
/// };
/// assert_eq!((s.at(5), s.at(50)), (0.5, 0.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: f64,
    pub end_learning_rate: f64,
    pub power: f64,
    #[serde(default)]
    pub cycle: bool,
}

impl LearningRateSchedule for PolynomialDecay {
    const NAME: &'static str = "polynomial_decay";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_learning_rate", self.initial_learning_rate)?;
        check_positive("decay_steps", self.decay_steps)?;
        check_non_negative("end_learning_rate", self.end_learning_rate)?;
        check_non_negative("power", self.power)
    }

    fn at(&self, step: u64) -> f64 {
        let PolynomialDecay {
            initial_learning_rate,
            decay_steps,
            end_learning_rate,
            power,
            cycle,
        } = *self;
        let t = step as f64;
        let (t, decay_steps) = if cycle {
            let multiplier = if step == 0 {
                1.0
            } else {
                (t / decay_steps).ceil()
            };
            (t, decay_steps * multiplier)
        } else {
            (t.min(decay_steps), decay_steps)
        };
        let p = t / decay_steps;
        (initial_learning_rate - end_learning_rate) * (1.0 - p).powf(power) + end_learning_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_restarts_over_the_next_multiple() {
        let poly = PolynomialDecay {
            initial_learning_rate: 1.0,
            decay_steps: 10.0,
            end_learning_rate: 0.0,
            power: 2.0,
            cycle: true,
        };
        assert!((poly.at(5) - 0.25).abs() < 1e-15);
        // Past the first period the decay runs over 20 steps.
        assert!((poly.at(15) - 0.0625).abs() < 1e-15);
    }
}

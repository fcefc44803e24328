//! Keras's `InverseTimeDecay`.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::Result;
use crate::optimizers::checks::{check_non_negative, check_positive};

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the
/// quotient is floored.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{InverseTimeDecay, LearningRateSchedule};
///
/// let s = InverseTimeDecay { initial_learning_rate: 1.0, decay_steps: 1.0, decay_rate: 1.0, staircase: false };
/// assert_eq!(s.at(1), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTimeDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: f64,
    pub decay_rate: f64,
    #[serde(default)]
    pub staircase: bool,
}

impl LearningRateSchedule for InverseTimeDecay {
    const NAME: &'static str = "inverse_time_decay";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_learning_rate", self.initial_learning_rate)?;
        check_positive("decay_steps", self.decay_steps)?;
        check_non_negative("decay_rate", self.decay_rate)
    }

    fn at(&self, step: u64) -> f64 {
        let p = step as f64 / self.decay_steps;
        let p = if self.staircase { p.floor() } else { p };
        self.initial_learning_rate / (1.0 + self.decay_rate * p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_floors_the_quotient() {
        let inverse = InverseTimeDecay {
            initial_learning_rate: 1.0,
            decay_steps: 2.0,
            decay_rate: 0.5,
            staircase: true,
        };
        assert!((inverse.at(3) - 1.0 / 1.5).abs() < 1e-15);
    }
}

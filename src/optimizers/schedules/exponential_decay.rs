//! Keras's `ExponentialDecay`.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::Result;
use crate::optimizers::checks::{check_non_negative, check_positive};

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`; with `staircase` the exponent
/// is floored.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{ExponentialDecay, LearningRateSchedule};
///
/// let s = ExponentialDecay { initial_learning_rate: 0.1, decay_steps: 10.0, decay_rate: 0.5, staircase: false };
/// assert!((s.at(20) - 0.025).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: f64,
    pub decay_rate: f64,
    #[serde(default)]
    pub staircase: bool,
}

impl LearningRateSchedule for ExponentialDecay {
    const NAME: &'static str = "exponential_decay";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_learning_rate", self.initial_learning_rate)?;
        check_positive("decay_steps", self.decay_steps)?;
        check_non_negative("decay_rate", self.decay_rate)
    }

    fn at(&self, step: u64) -> f64 {
        let p = step as f64 / self.decay_steps;
        let p = if self.staircase { p.floor() } else { p };
        self.initial_learning_rate * self.decay_rate.powf(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn smooth_and_staircase() {
        let smooth = ExponentialDecay {
            initial_learning_rate: 0.1,
            decay_steps: 10.0,
            decay_rate: 0.5,
            staircase: false,
        };
        assert!(close(smooth.at(0), 0.1));
        assert!(close(smooth.at(5), 0.1 * 0.5f64.powf(0.5)));
        assert!(close(smooth.at(20), 0.025));
        let stairs = ExponentialDecay {
            staircase: true,
            ..smooth
        };
        assert!(close(stairs.at(9), 0.1));
        assert!(close(stairs.at(10), 0.05));
    }

    #[test]
    fn bad_arguments_echo_the_value() {
        let s = ExponentialDecay {
            initial_learning_rate: 0.1,
            decay_steps: 0.0,
            decay_rate: 0.5,
            staircase: false,
        };
        let msg = s.validate().unwrap_err().to_string();
        assert!(msg.contains("decay_steps=0.0"), "{msg}");
    }
}

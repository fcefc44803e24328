//! PyTorch's `StepLR`, counted in optimizer steps.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::bail;
use crate::error::Result;
use crate::optimizers::checks::check_non_negative;

/// `initial_learning_rate * gamma ^ floor(step / step_size)`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{LearningRateSchedule, StepDecay};
///
/// let s = StepDecay { initial_learning_rate: 1.0, step_size: 3, gamma: 0.5 };
/// assert_eq!((s.at(2), s.at(3)), (1.0, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecay {
    pub initial_learning_rate: f64,
    pub step_size: u64,
    pub gamma: f64,
}

impl LearningRateSchedule for StepDecay {
    const NAME: &'static str = "step_decay";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_learning_rate", self.initial_learning_rate)?;
        if self.step_size == 0 {
            bail!("Argument `step_size` must be > 0. Received: step_size=0");
        }
        check_non_negative("gamma", self.gamma)
    }

    fn at(&self, step: u64) -> f64 {
        self.initial_learning_rate * self.gamma.powf((step / self.step_size.max(1)) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_down_every_step_size() {
        let step = StepDecay {
            initial_learning_rate: 1.0,
            step_size: 3,
            gamma: 0.1,
        };
        assert_eq!(step.at(2), 1.0);
        assert!((step.at(3) - 0.1).abs() < 1e-15);
        assert!((step.at(7) - 0.01).abs() < 1e-15);
        assert!(
            StepDecay {
                step_size: 0,
                ..step
            }
            .validate()
            .is_err()
        );
    }
}

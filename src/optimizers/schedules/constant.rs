//! The same learning rate at every step (what a plain float `learning_rate` becomes).

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::Result;
use crate::optimizers::checks::check_non_negative;

/// `value` at every step.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Constant, LearningRateSchedule};
///
/// assert_eq!(Constant { value: 0.1 }.at(1000), 0.1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub value: f64,
}

impl LearningRateSchedule for Constant {
    const NAME: &'static str = "constant";

    fn validate(&self) -> Result<()> {
        check_non_negative("learning_rate", self.value)
    }

    fn at(&self, _step: u64) -> f64 {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_rate_is_refused_as_learning_rate() {
        let msg = Constant { value: -1.0 }.validate().unwrap_err().to_string();
        assert!(msg.contains("learning_rate=-1.0"), "{msg}");
    }
}

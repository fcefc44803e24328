//! Keras's `PiecewiseConstantDecay`.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::bail;
use crate::error::Result;

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, and `values[-1]` after the last boundary.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{LearningRateSchedule, PiecewiseConstantDecay};
///
/// let s = PiecewiseConstantDecay { boundaries: vec![10.0], values: vec![1.0, 0.5] };
/// assert_eq!((s.at(10), s.at(11)), (1.0, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiecewiseConstantDecay {
    pub boundaries: Vec<f64>,
    pub values: Vec<f64>,
}

impl LearningRateSchedule for PiecewiseConstantDecay {
    const NAME: &'static str = "piecewise_constant_decay";

    fn validate(&self) -> Result<()> {
        let PiecewiseConstantDecay { boundaries, values } = self;
        if values.is_empty() || boundaries.len() + 1 != values.len() {
            bail!(
                "The length of boundaries should be 1 less than the length of values. \
                 Received: boundaries={boundaries:?} of length {}, and values={values:?} \
                 of length {}.",
                boundaries.len(),
                values.len()
            );
        }
        if boundaries.iter().any(|b| !b.is_finite()) || boundaries.windows(2).any(|w| w[0] >= w[1])
        {
            bail!(
                "Argument `boundaries` must be finite and strictly increasing. \
                 Received: boundaries={boundaries:?}"
            );
        }
        if values.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            bail!("Argument `values` must be non-negative floats. Received: values={values:?}");
        }
        Ok(())
    }

    fn at(&self, step: u64) -> f64 {
        let t = step as f64;
        let i = self.boundaries.iter().take_while(|&&b| t > b).count();
        self.values
            .get(i)
            .or(self.values.last())
            .copied()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_belong_to_the_left_interval() {
        let s = PiecewiseConstantDecay {
            boundaries: vec![10.0, 20.0],
            values: vec![1.0, 0.5, 0.1],
        };
        assert!(s.validate().is_ok());
        let got: Vec<f64> = [0, 10, 11, 20, 21, 1000].iter().map(|&t| s.at(t)).collect();
        assert_eq!(got, vec![1.0, 1.0, 0.5, 0.5, 0.1, 0.1]);
    }

    #[test]
    fn repeated_boundaries_are_refused() {
        let s = PiecewiseConstantDecay {
            boundaries: vec![5.0, 5.0],
            values: vec![1.0, 0.5, 0.1],
        };
        assert!(s.validate().is_err());
    }
}

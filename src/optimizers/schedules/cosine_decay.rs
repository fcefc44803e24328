//! Keras's `CosineDecay`, with its optional linear warmup.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::bail;
use crate::error::Result;
use crate::optimizers::checks::{check_non_negative, check_positive};

/// An optional linear warmup from `initial_learning_rate` to `warmup_target` over
/// `warmup_steps`, then a cosine decay over `decay_steps` from the warmup target (or the
/// initial rate without warmup) down to `alpha` times it, where it stays.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{CosineDecay, LearningRateSchedule};
///
/// let s = CosineDecay {
///     initial_learning_rate: 1.0,
///     decay_steps: 10.0,
///     alpha: 0.0,
///     warmup_target: None,
///     warmup_steps: 0.0,
/// };
/// assert!((s.at(5) - 0.5).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: f64,
    #[serde(default)]
    pub alpha: f64,
    #[serde(default)]
    pub warmup_target: Option<f64>,
    #[serde(default)]
    pub warmup_steps: f64,
}

impl LearningRateSchedule for CosineDecay {
    const NAME: &'static str = "cosine_decay";

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_learning_rate", self.initial_learning_rate)?;
        check_positive("decay_steps", self.decay_steps)?;
        let alpha = self.alpha;
        if !(0.0..=1.0).contains(&alpha) {
            bail!("Argument `alpha` must be in [0, 1]. Received: alpha={alpha:?}");
        }
        if let Some(target) = self.warmup_target {
            check_non_negative("warmup_target", target)?;
        }
        check_non_negative("warmup_steps", self.warmup_steps)
    }

    fn at(&self, step: u64) -> f64 {
        let CosineDecay {
            initial_learning_rate,
            decay_steps,
            alpha,
            warmup_target,
            warmup_steps,
        } = *self;
        let t = step as f64;
        let cosine = |step: f64, from: f64| {
            let decayed = 0.5 * (1.0 + (PI * (step / decay_steps)).cos());
            from * ((1.0 - alpha) * decayed + alpha)
        };
        match warmup_target {
            None => cosine(t.min(decay_steps), initial_learning_rate),
            Some(target) => {
                let t = t.min(decay_steps + warmup_steps);
                if t < warmup_steps {
                    (target - initial_learning_rate) * (t / warmup_steps) + initial_learning_rate
                } else {
                    cosine(t - warmup_steps, target)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn with_warmup() {
        let s = CosineDecay {
            initial_learning_rate: 0.0,
            decay_steps: 10.0,
            alpha: 0.1,
            warmup_target: Some(1.0),
            warmup_steps: 4.0,
        };
        assert!(close(s.at(2), 0.5));
        assert!(close(s.at(4), 1.0));
        assert!(close(s.at(9), 0.9 * 0.5 * (1.0 + (PI * 0.5).cos()) + 0.1));
        assert!(close(s.at(14), 0.1));
        assert!(close(s.at(100), 0.1));
    }
}

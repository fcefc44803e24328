//! AdamW: Adam with decoupled weight decay (Keras 3's `keras/src/optimizers/adamw.py`). The decay
//! itself is the base optimizer's (`weight_decay`, 0.004 by default, required).

use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::clipping::GradPrep;
use super::fused::Slots;
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// Adam's update, after the base optimizer's decoupled weight decay.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{AdamW, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(AdamW::default(), Schedule::constant(1e-3));
/// assert_eq!(config.weight_decay, Some(0.004));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamW {
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    pub amsgrad: bool,
}

impl AdamW {
    fn adam(&self) -> Adam {
        Adam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            amsgrad: self.amsgrad,
        }
    }
}

impl Default for AdamW {
    /// Keras's defaults (Adam's).
    fn default() -> AdamW {
        let Adam {
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        } = Adam::default();
        AdamW {
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        }
    }
}

impl OptimizerRule for AdamW {
    const NAME: &'static str = "adamw";

    fn validate(&self) -> Result<()> {
        self.adam().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        self.adam().slot_names()
    }

    fn default_weight_decay(&self) -> Option<f64> {
        Some(0.004)
    }

    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        slots: Slots<'_, T>,
        prep: GradPrep<T>,
        lr: f64,
        t: u64,
    ) {
        self.adam().update_step(w, g, slots, prep, lr, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::UpdateRule;

    #[test]
    fn json_name_and_round_trip() {
        let json = serde_json::to_string(&UpdateRule::new(AdamW::default())).unwrap();
        assert!(json.starts_with(r#"{"name":"adamw""#), "{json}");
        let back: UpdateRule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, UpdateRule::new(AdamW::default()));
        assert_ne!(back, UpdateRule::new(Adam::default()));
    }
}

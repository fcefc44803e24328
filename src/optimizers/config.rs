//! `OptimizerConfig`: everything that defines an optimizer (not its state).

use serde::{Deserialize, Serialize};

use super::checks::{check_non_negative, check_positive};
use super::rule::UpdateRule;
use super::schedules::Schedule;
use crate::bail;
use crate::error::Result;

/// Everything that defines an optimizer (not its state); serialized as JSON in configs and
/// model files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    pub rule: UpdateRule,
    pub learning_rate: Schedule,
    #[serde(default)]
    pub weight_decay: Option<f64>,
    #[serde(default)]
    pub clipnorm: Option<f64>,
    #[serde(default)]
    pub clipvalue: Option<f64>,
    #[serde(default)]
    pub global_clipnorm: Option<f64>,
}

impl OptimizerConfig {
    /// A config without clipping, and without weight decay unless the rule has a default one
    /// (AdamW: Keras's 0.004).
    pub fn new(rule: impl Into<UpdateRule>, learning_rate: Schedule) -> OptimizerConfig {
        let rule = rule.into();
        let weight_decay = rule.default_weight_decay();
        OptimizerConfig {
            rule,
            learning_rate,
            weight_decay,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
        }
    }

    /// Checks every hyperparameter; errors name the argument and echo its value.
    pub fn validate(&self) -> Result<()> {
        self.rule.validate()?;
        self.learning_rate.validate()?;
        match self.weight_decay {
            Some(wd) => check_non_negative("weight_decay", wd)?,
            None if self.rule.default_weight_decay().is_some() => {
                bail!("Argument `weight_decay` must be a float. Received: weight_decay=None")
            }
            None => {}
        }
        let clips = [
            ("clipnorm", self.clipnorm),
            ("clipvalue", self.clipvalue),
            ("global_clipnorm", self.global_clipnorm),
        ];
        for (name, value) in clips {
            if let Some(value) = value {
                check_positive(name, value)?;
            }
        }
        if clips.iter().filter(|(_, v)| v.is_some()).count() > 1 {
            bail!(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. \
                 Received: clipnorm={}, clipvalue={}, global_clipnorm={}",
                show(self.clipnorm),
                show(self.clipvalue),
                show(self.global_clipnorm)
            );
        }
        Ok(())
    }
}

fn show(value: Option<f64>) -> String {
    value.map_or_else(|| "None".to_string(), |v| format!("{v:?}"))
}

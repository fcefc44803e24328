//! Learning-rate schedules: the learning rate as a function of the optimizer's step, with
//! Keras's formulas (`keras.optimizers.schedules`) and PyTorch's `StepLR` counted in steps.
//!
//! A schedule is evaluated once per update, in `f64`, at the optimizer's `iterations` before the
//! update (so the first update uses `at(0)`), as Keras does. Each schedule is a
//! `LearningRateSchedule` in a file of its own; `Schedule` is the handle an optimizer holds,
//! serialized as the schedule's config tagged by its name
//! (`{"name": "exponential_decay", ...}`). Adding one: its file, its `mod` line and its line in
//! `SCHEDULES`.

mod constant;
mod cosine_decay;
mod exponential_decay;
mod inverse_time_decay;
mod piecewise_constant_decay;
mod polynomial_decay;
mod step_decay;

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use constant::Constant;
pub use cosine_decay::CosineDecay;
pub use exponential_decay::ExponentialDecay;
pub use inverse_time_decay::InverseTimeDecay;
pub use piecewise_constant_decay::PiecewiseConstantDecay;
pub use polynomial_decay::PolynomialDecay;
pub use step_decay::StepDecay;

use crate::config_registry::{self, Entry};
use crate::error::Result;

/// The schedules a config can name: one line each.
const SCHEDULES: &[Entry<Schedule>] = &[
    entry::<Constant>(),
    entry::<ExponentialDecay>(),
    entry::<PiecewiseConstantDecay>(),
    entry::<CosineDecay>(),
    entry::<InverseTimeDecay>(),
    entry::<PolynomialDecay>(),
    entry::<StepDecay>(),
];

/// One learning-rate schedule. The type is its own config: its fields are the arguments,
/// serialized (with `"name": NAME`) in optimizer configs and model files.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{ExponentialDecay, LearningRateSchedule, Schedule};
///
/// let decay = ExponentialDecay {
///     initial_learning_rate: 0.1,
///     decay_steps: 10.0,
///     decay_rate: 0.5,
///     staircase: true,
/// };
/// assert_eq!(decay.at(10), 0.05);
/// assert_eq!(Schedule::new(decay).name(), "exponential_decay");
/// ```
pub trait LearningRateSchedule:
    Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The name in configs (`"exponential_decay"`, ...).
    const NAME: &'static str;

    /// Checks the arguments, so that `at` returns a finite non-negative rate at every step;
    /// errors name the argument and echo its value.
    fn validate(&self) -> Result<()>;

    /// The learning rate at `step` (the number of updates made so far).
    fn at(&self, step: u64) -> f64;
}

const fn entry<S: LearningRateSchedule>() -> Entry<Schedule> {
    Entry::of::<S>(S::NAME)
}

/// A `LearningRateSchedule` behind a pointer: what `Schedule` holds.
trait AnySchedule: Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn fields(&self) -> serde_json::Result<serde_json::Value>;
    fn validate(&self) -> Result<()>;
    fn at(&self, step: u64) -> f64;
    fn as_any(&self) -> &dyn Any;
    fn equals(&self, other: &dyn AnySchedule) -> bool;
}

impl<S: LearningRateSchedule> AnySchedule for S {
    fn name(&self) -> &'static str {
        S::NAME
    }
    fn fields(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
    fn validate(&self) -> Result<()> {
        LearningRateSchedule::validate(self)
    }
    fn at(&self, step: u64) -> f64 {
        LearningRateSchedule::at(self, step)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn equals(&self, other: &dyn AnySchedule) -> bool {
        other.as_any().downcast_ref::<S>() == Some(self)
    }
}

/// A learning-rate schedule, any registered `LearningRateSchedule`.
#[derive(Clone, Debug)]
pub struct Schedule(Arc<dyn AnySchedule>);

impl Schedule {
    pub fn new<S: LearningRateSchedule>(schedule: S) -> Schedule {
        Schedule(Arc::new(schedule))
    }

    /// A constant learning rate.
    pub fn constant(value: f64) -> Schedule {
        Schedule::new(Constant { value })
    }

    /// The schedule as its own type, if it is an `S`.
    pub fn get<S: LearningRateSchedule>(&self) -> Option<&S> {
        self.0.as_any().downcast_ref()
    }

    /// The schedule's name in configs (`"exponential_decay"`, ...).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Checks the arguments, so that `at` returns a finite non-negative rate at every step.
    pub fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    /// The learning rate at `step` (the number of updates made so far).
    pub fn at(&self, step: u64) -> f64 {
        self.0.at(step)
    }
}

impl<S: LearningRateSchedule> From<S> for Schedule {
    fn from(schedule: S) -> Schedule {
        Schedule::new(schedule)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.0.equals(&*other.0)
    }
}

impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        config_registry::serialize(serializer, self.name(), self.0.fields())
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        config_registry::deserialize(deserializer, SCHEDULES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let s = Schedule::new(CosineDecay {
            initial_learning_rate: 0.1,
            decay_steps: 100.0,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0.0,
        });
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with("{\"name\":\"cosine_decay\""), "{json}");
        assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
        let err = serde_json::from_str::<Schedule>(r#"{"name":"constant","value":1,"x":2}"#);
        assert!(err.is_err());
        let defaults: Schedule = serde_json::from_str(
            r#"{"name":"exponential_decay","initial_learning_rate":1,"decay_steps":2,"decay_rate":0.5}"#,
        )
        .unwrap();
        assert_eq!(
            defaults.get::<ExponentialDecay>().map(|s| s.staircase),
            Some(false)
        );
    }

    #[test]
    fn every_registered_name_is_its_types() {
        for entry in SCHEDULES {
            let err = match serde_json::from_str::<Schedule>(&format!(
                r#"{{"name":"{}","nope":0}}"#,
                entry.name
            )) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{} accepted an unknown field", entry.name),
            };
            assert!(err.contains("nope"), "{err}");
        }
        let unknown = serde_json::from_str::<Schedule>(r#"{"name":"warp"}"#).unwrap_err();
        assert!(unknown.to_string().contains("`step_decay`"), "{unknown}");
    }
}

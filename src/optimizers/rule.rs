//! `OptimizerRule`, what each optimizer is (one file each: `sgd.rs`, `adam.rs`, ...), and
//! `UpdateRule`, the handle the base `Optimizer` holds.
//!
//! As in Keras 3, an optimizer is little more than its hyperparameters, its slot variables and
//! its `update_step`; the learning rate schedule, gradient clipping, weight decay, the step
//! counter and the slots themselves belong to the base `Optimizer`. The rule is chosen once per
//! parameter tensor (one dynamic call), never per element.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::clipping::GradPrep;
use super::fused::{Slots, slot_slices};
use crate::config_registry::{self, Entry};
use crate::dtype::Element;
use crate::error::Result;
use crate::storage::Storage;

/// One optimizer's update rule, with Keras 3's formulas. The type is its own config: its fields
/// are the hyperparameters, serialized (with `"name": NAME`) in optimizer configs and model
/// files. Register it with one line in `optimizers/mod.rs`'s `RULES`.
///
/// Example (a rule that steps against the gradient's sign):
///
/// ```
/// use ferrograd::optimizers::{GradPrep, OptimizerRule, Slots, UpdateRule, fused};
/// use ferrograd::dtype::Element;
///
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct SignSgd {}
///
/// impl OptimizerRule for SignSgd {
///     const NAME: &'static str = "sign_sgd";
///     fn validate(&self) -> ferrograd::Result<()> {
///         Ok(())
///     }
///     fn slot_names(&self) -> &'static [&'static str] {
///         &[]
///     }
///     fn update_step<T: Element>(
///         &self,
///         w: &mut [T],
///         g: &[T],
///         slots: Slots<'_, T>,
///         prep: GradPrep<T>,
///         learning_rate: f64,
///         _iteration: u64,
///     ) {
///         let lr = T::of(learning_rate);
///         fused(w, g, slots, move |w, g, _| {
///             for (w, &g) in w.iter_mut().zip(g) {
///                 *w = prep.weight(*w) - prep.grad(g).signum() * lr;
///             }
///         });
///     }
/// }
///
/// let rule = UpdateRule::new(SignSgd {});
/// assert_eq!(rule.name(), "sign_sgd");
/// ```
pub trait OptimizerRule:
    Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The name in configs (`"sgd"`, `"adam"`, ...).
    const NAME: &'static str;

    /// Checks every hyperparameter; errors name the argument and echo its value.
    fn validate(&self) -> Result<()>;

    /// The names of the slot variables each parameter gets, in order (Keras's names); at most
    /// `MAX_SLOTS`.
    fn slot_names(&self) -> &'static [&'static str];

    /// The value slots start from.
    fn slot_initial_value(&self) -> f64 {
        0.0
    }

    /// The weight decay an optimizer config gets by default; a rule with one (AdamW) requires a
    /// weight decay.
    fn default_weight_decay(&self) -> Option<f64> {
        None
    }

    /// One update of `w` with gradient `g` and this parameter's `slots` (of `slot_names()`, of
    /// `w`'s length), at `learning_rate`, `iteration` being the 1-based number of this update.
    /// Every gradient element goes through `prep.grad` (clipping) and every parameter element
    /// through `prep.weight` (weight decay), in one fused pass (see `fused`).
    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        slots: Slots<'_, T>,
        prep: GradPrep<T>,
        learning_rate: f64,
        iteration: u64,
    );
}

/// The registry entry of the rule `R`.
pub(crate) const fn entry<R: OptimizerRule>() -> Entry<UpdateRule> {
    Entry::of::<R>(R::NAME)
}

/// An `OptimizerRule` behind a pointer: what `UpdateRule` holds.
pub(crate) trait AnyRule: Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn fields(&self) -> serde_json::Result<serde_json::Value>;
    fn validate(&self) -> Result<()>;
    fn slot_names(&self) -> &'static [&'static str];
    fn slot_initial_value(&self) -> f64;
    fn default_weight_decay(&self) -> Option<f64>;
    fn as_any(&self) -> &dyn Any;
    fn equals(&self, other: &dyn AnyRule) -> bool;
    #[allow(clippy::too_many_arguments)]
    fn update_f32(
        &self,
        w: &mut [f32],
        g: &[f32],
        slots: Slots<'_, f32>,
        prep: GradPrep<f32>,
        learning_rate: f64,
        iteration: u64,
    );
    #[allow(clippy::too_many_arguments)]
    fn update_f64(
        &self,
        w: &mut [f64],
        g: &[f64],
        slots: Slots<'_, f64>,
        prep: GradPrep<f64>,
        learning_rate: f64,
        iteration: u64,
    );
}

impl<R: OptimizerRule> AnyRule for R {
    fn name(&self) -> &'static str {
        R::NAME
    }
    fn fields(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
    fn validate(&self) -> Result<()> {
        OptimizerRule::validate(self)
    }
    fn slot_names(&self) -> &'static [&'static str] {
        OptimizerRule::slot_names(self)
    }
    fn slot_initial_value(&self) -> f64 {
        OptimizerRule::slot_initial_value(self)
    }
    fn default_weight_decay(&self) -> Option<f64> {
        OptimizerRule::default_weight_decay(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn equals(&self, other: &dyn AnyRule) -> bool {
        other.as_any().downcast_ref::<R>() == Some(self)
    }
    fn update_f32(
        &self,
        w: &mut [f32],
        g: &[f32],
        slots: Slots<'_, f32>,
        prep: GradPrep<f32>,
        learning_rate: f64,
        iteration: u64,
    ) {
        self.update_step(w, g, slots, prep, learning_rate, iteration)
    }
    fn update_f64(
        &self,
        w: &mut [f64],
        g: &[f64],
        slots: Slots<'_, f64>,
        prep: GradPrep<f64>,
        learning_rate: f64,
        iteration: u64,
    ) {
        self.update_step(w, g, slots, prep, learning_rate, iteration)
    }
}

/// The element types an update runs in, each routed to its monomorphized `update_step`.
pub(crate) trait RuleElement: Element {
    #[allow(clippy::too_many_arguments)]
    fn run(
        rule: &dyn AnyRule,
        w: &mut [Self],
        g: &[Self],
        slots: Slots<'_, Self>,
        prep: GradPrep<Self>,
        learning_rate: f64,
        iteration: u64,
    );
}

impl RuleElement for f32 {
    fn run(
        rule: &dyn AnyRule,
        w: &mut [f32],
        g: &[f32],
        slots: Slots<'_, f32>,
        prep: GradPrep<f32>,
        learning_rate: f64,
        iteration: u64,
    ) {
        rule.update_f32(w, g, slots, prep, learning_rate, iteration)
    }
}

impl RuleElement for f64 {
    fn run(
        rule: &dyn AnyRule,
        w: &mut [f64],
        g: &[f64],
        slots: Slots<'_, f64>,
        prep: GradPrep<f64>,
        learning_rate: f64,
        iteration: u64,
    ) {
        rule.update_f64(w, g, slots, prep, learning_rate, iteration)
    }
}

/// An optimizer's update rule, any registered `OptimizerRule`; serialized as the rule's config
/// tagged by its name (`{"name": "adam", "beta_1": 0.9, ...}`).
#[derive(Clone, Debug)]
pub struct UpdateRule(Arc<dyn AnyRule>);

impl UpdateRule {
    pub fn new<R: OptimizerRule>(rule: R) -> UpdateRule {
        UpdateRule(Arc::new(rule))
    }

    /// The rule as its own type, if it is an `R`.
    pub fn get<R: OptimizerRule>(&self) -> Option<&R> {
        self.0.as_any().downcast_ref()
    }

    /// The rule's name in configs (`"sgd"`, `"adam"`, `"adamw"`, ...).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    /// The names of the slot variables each parameter gets, in order.
    pub fn slot_names(&self) -> &'static [&'static str] {
        self.0.slot_names()
    }

    /// The value slots start from.
    pub fn slot_initial_value(&self) -> f64 {
        self.0.slot_initial_value()
    }

    /// The weight decay a config gets by default (and then requires); `None` for most rules.
    pub fn default_weight_decay(&self) -> Option<f64> {
        self.0.default_weight_decay()
    }

    /// One update of `w` with gradient `g` and this parameter's `slots` (of `slot_names()`, of
    /// `w`'s length), at learning rate `lr`, `t` being the 1-based number of this update.
    pub(crate) fn update<T: RuleElement>(
        &self,
        w: &mut [T],
        g: &[T],
        slots: &mut [Storage],
        prep: GradPrep<T>,
        lr: f64,
        t: u64,
    ) -> Result<()> {
        let slots = slot_slices::<T>(slots, w.len(), g.len())?;
        T::run(&*self.0, w, g, slots, prep, lr, t);
        Ok(())
    }
}

impl<R: OptimizerRule> From<R> for UpdateRule {
    fn from(rule: R) -> UpdateRule {
        UpdateRule::new(rule)
    }
}

impl PartialEq for UpdateRule {
    fn eq(&self, other: &UpdateRule) -> bool {
        self.0.equals(&*other.0)
    }
}

impl Serialize for UpdateRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        config_registry::serialize(serializer, self.name(), self.0.fields())
    }
}

impl<'de> Deserialize<'de> for UpdateRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        config_registry::deserialize(deserializer, super::RULES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{Adam, RULES};

    #[test]
    fn every_registered_name_is_its_types() {
        for entry in RULES {
            let json = format!(r#"{{"name":"{}","nope":0}}"#, entry.name);
            let err = serde_json::from_str::<UpdateRule>(&json).unwrap_err();
            assert!(err.to_string().contains("nope"), "{err}");
        }
        let unknown = serde_json::from_str::<UpdateRule>(r#"{"name":"sophia"}"#).unwrap_err();
        assert!(unknown.to_string().contains("`adadelta`"), "{unknown}");
    }

    #[test]
    fn the_handle_gives_the_rule_back() {
        let rule = UpdateRule::new(Adam::default());
        assert_eq!(rule.get::<Adam>(), Some(&Adam::default()));
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            json,
            r#"{"name":"adam","amsgrad":false,"beta_1":0.9,"beta_2":0.999,"epsilon":1e-7}"#
        );
    }
}

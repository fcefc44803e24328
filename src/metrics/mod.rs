//! Streaming metrics with Keras's semantics: accuracy (binary, categorical, sparse), precision,
//! recall, AUC and the mean errors.
//!
//! A `Metric` accumulates state over batches (`update`), reports the value over everything seen
//! so far (`result`) and starts again on `reset`. Accuracies and errors are Keras's mean
//! metrics: each sample's value (averaged over any trailing axes) is added to a total that is
//! divided by the number of samples. Precision and recall count true and false positives at a
//! threshold; AUC buckets predictions into `num_thresholds` evenly spaced thresholds and
//! integrates the curve with Keras's interpolation.
//!
//! Each metric is one file: its config (a serde struct) implementing `MetricFunction` (its
//! state, update and result) and its tests, registered by name with `inventory::submit!`.
//! Adding a metric is that file and one `mod` line here. `MetricKind` is the type-erased
//! config and `Metric` the type-erased config with its state; both dispatch once per batch.

mod batch;
mod confusion;
mod mean;
mod resolve_accuracy;
mod summed_state;
mod threshold;

mod auc;
mod binary_accuracy;
mod categorical_accuracy;
mod f1_score;
mod mean_absolute_error;
mod mean_absolute_percentage_error;
mod mean_squared_error;
mod mean_squared_logarithmic_error;
mod precision;
mod r2_score;
mod recall;
mod sparse_categorical_accuracy;
mod sparse_top_k_categorical_accuracy;
mod top_k_categorical_accuracy;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use auc::{Auc, AucCurve};
pub use batch::Batch;
pub use binary_accuracy::BinaryAccuracy;
pub use categorical_accuracy::CategoricalAccuracy;
pub use f1_score::F1Score;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_absolute_percentage_error::MeanAbsolutePercentageError;
pub use mean_squared_error::MeanSquaredError;
pub use mean_squared_logarithmic_error::MeanSquaredLogarithmicError;
pub use precision::Precision;
pub use r2_score::R2Score;
pub use recall::Recall;
pub use resolve_accuracy::{resolve_accuracy, resolve_accuracy_for_loss};
pub use sparse_categorical_accuracy::SparseCategoricalAccuracy;
pub use sparse_top_k_categorical_accuracy::SparseTopKCategoricalAccuracy;
pub use top_k_categorical_accuracy::TopKCategoricalAccuracy;

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::losses::config::{Registry, split_config};
use crate::storage::Storage;
use crate::with_storage;

/// One metric, implemented by its config struct (whose serde form is the JSON config without
/// its `"name"`; missing parameters take Keras's defaults).
///
/// Example: a metric of its own, registered and then found by name (the metrics of this
/// crate do the same in their files).
///
/// ```
/// use ferrograd::dtype::{DType, Element};
/// use ferrograd::error::Result;
/// use ferrograd::metrics::{Batch, Metric, MetricEntry, MetricFunction, MetricKind};
/// use ferrograd::storage::Storage;
/// use serde::{Deserialize, Serialize};
///
/// /// The largest prediction seen.
/// #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct LargestPrediction {}
///
/// impl MetricFunction for LargestPrediction {
///     const NAME: &'static str = "largest_prediction";
///     type State = f64;
///     fn new_state(&self) -> Result<f64> {
///         Ok(f64::NEG_INFINITY)
///     }
///     fn update<U: Element, T: Element>(&self, largest: &mut f64, batch: &Batch<'_, U, T>) -> Result<()> {
///         batch.same_shape()?;
///         *largest = batch.y_pred.iter().fold(*largest, |m, p| m.max(p.as_f64()));
///         Ok(())
///     }
///     fn result(&self, largest: &f64) -> f64 {
///         *largest
///     }
///     fn reset(&self, largest: &mut f64) {
///         *largest = f64::NEG_INFINITY;
///     }
/// }
/// inventory::submit! { MetricEntry::of::<LargestPrediction>() }
///
/// let mut metric = Metric::new(MetricKind::parse("largest_prediction").unwrap()).unwrap();
/// let values = |v: Vec<f64>| Storage::from_f64_vec(DType::F64, &[2], v).unwrap();
/// metric.update(&values(vec![0.0, 1.0]), &values(vec![0.25, 0.75])).unwrap();
/// assert_eq!(metric.result(), 0.75);
/// ```
pub trait MetricFunction:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The Keras snake_case name: the `"name"` of the JSON config and the default name in logs.
    const NAME: &'static str;
    /// Other names `MetricKind::parse` accepts (`"mse"`).
    const ALIASES: &'static [&'static str] = &[];
    /// What the metric accumulates over batches.
    type State: Clone + fmt::Debug + Send + Sync + 'static;

    /// Checks the parameters, with an error naming the one that is wrong.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The state before any batch.
    fn new_state(&self) -> Result<Self::State>;

    /// Accumulates one batch; leaves `state` unchanged on error.
    fn update<U: Element, T: Element>(
        &self,
        state: &mut Self::State,
        batch: &Batch<'_, U, T>,
    ) -> Result<()>;

    /// The value over every batch since the last reset (0 before any data, as in Keras).
    fn result(&self, state: &Self::State) -> f64;

    /// Forgets every batch.
    fn reset(&self, state: &mut Self::State);
}

/// A registered metric: its names and how to build it from the parameters of a config.
pub struct MetricEntry {
    name: &'static str,
    aliases: &'static [&'static str],
    build: fn(serde_json::Map<String, serde_json::Value>) -> serde_json::Result<MetricKind>,
}

impl MetricEntry {
    /// The entry of a metric type, for `inventory::submit!` in the metric's file.
    pub const fn of<M: MetricFunction>() -> MetricEntry {
        MetricEntry {
            name: M::NAME,
            aliases: M::ALIASES,
            build: build::<M>,
        }
    }
}

fn build<M: MetricFunction>(
    params: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Result<MetricKind> {
    serde_json::from_value::<M>(serde_json::Value::Object(params)).map(MetricKind::new)
}

inventory::collect!(MetricEntry);

fn registry() -> Registry<'static, MetricEntry> {
    Registry::new(
        "metric",
        inventory::iter::<MetricEntry>.into_iter().collect(),
        |e| e.name,
        |e| e.aliases,
    )
}

/// The names that mean one of the accuracies depending on the shapes (see `resolve_accuracy`).
const ACCURACY_NAMES: &[&str] = &["accuracy", "acc"];

/// Every name `MetricKind::parse` knows, `"accuracy"` and `"acc"` first, then each registered
/// name followed by its aliases, for error messages.
pub fn metric_names() -> Vec<&'static str> {
    let mut names = ACCURACY_NAMES.to_vec();
    names.extend(registry().names());
    names
}

/// A metric and its parameters; serialised as `{"name": "binary_accuracy", "threshold": 0.5}`
/// (missing parameters take Keras's defaults). Cloning shares the (immutable) config.
#[derive(Clone)]
pub struct MetricKind(Arc<dyn ErasedKind>);

impl MetricKind {
    /// The kind of a config struct (not validated: see `validate`).
    pub fn new<M: MetricFunction>(metric: M) -> MetricKind {
        MetricKind(Arc::new(metric))
    }

    /// The metric of a Keras name or alias, with default parameters. `"accuracy"` is refused:
    /// which accuracy it means depends on the shapes (see `resolve_accuracy`).
    pub fn parse(name: &str) -> Result<MetricKind> {
        if ACCURACY_NAMES.contains(&name) {
            return Err(Error::value(format!(
                "metric {name:?} is binary, categorical or sparse categorical accuracy \
                 depending on the shapes of the labels and predictions; resolve it with \
                 resolve_accuracy(y_true_shape, y_pred_shape)"
            )));
        }
        let entry = registry().lookup(name).ok_or_else(|| {
            Error::value(format!(
                "unknown metric {name:?}; known metrics: {}",
                metric_names().join(", ")
            ))
        })?;
        (entry.build)(serde_json::Map::new())
            .map_err(|e| Error::value(format!("metric {name:?}: internal error: {e}")))
    }

    /// The metric of a JSON config such as `{"name": "auc", "curve": "PR"}`; unknown names and
    /// parameters are errors.
    pub fn from_json(json: &str) -> Result<MetricKind> {
        let (name, params) = split_config("metric", json)?;
        let entry = registry().by_config_name(&name, json)?;
        let kind = (entry.build)(params)
            .map_err(|e| Error::value(format!("invalid metric config {json}: {e}")))?;
        kind.validate()?;
        Ok(kind)
    }

    /// The JSON config, `"name"` first.
    pub fn to_json(&self) -> Result<String> {
        self.0.to_json()
    }

    /// The config struct, when the metric is an `M`.
    pub fn downcast_ref<M: MetricFunction>(&self) -> Option<&M> {
        (*self.0).as_any().downcast_ref()
    }

    /// The Keras snake_case name (also the default name of the metric in logs).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Checks the parameters (thresholds in `[0, 1]`, more than one AUC threshold, ...).
    pub fn validate(&self) -> Result<()> {
        self.0.validate()
    }
}

impl fmt::Debug for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for MetricKind {
    fn eq(&self, other: &MetricKind) -> bool {
        self.0.eq_erased((*other.0).as_any())
    }
}

impl Serialize for MetricKind {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let json = self.to_json().map_err(serde::ser::Error::custom)?;
        crate::losses::config::serialize_json(&json, serializer)
    }
}

impl<'de> Deserialize<'de> for MetricKind {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<MetricKind, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        MetricKind::from_json(&value.to_string()).map_err(serde::de::Error::custom)
    }
}

/// A metric and the state it has accumulated.
pub struct Metric {
    kind: MetricKind,
    state: Box<dyn ErasedState>,
}

impl Metric {
    /// A metric with empty state; fails on invalid parameters.
    pub fn new(kind: MetricKind) -> Result<Metric> {
        kind.validate()?;
        let state = kind.0.new_state()?;
        Ok(Metric { kind, state })
    }

    pub fn kind(&self) -> &MetricKind {
        &self.kind
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Accumulates one batch. `y_true` as the user gave it (labels or one-hot, as floats);
    /// `y_pred` the model's outputs (probabilities). The state is unchanged on error.
    pub fn update(&mut self, y_true: &Storage, y_pred: &Storage) -> Result<()> {
        self.kind.0.update(&mut *self.state, y_true, y_pred)
    }

    /// The value over every batch since the last reset (0 before any data, as in Keras).
    pub fn result(&self) -> f64 {
        self.kind.0.result(&*self.state)
    }

    /// Forgets every batch.
    pub fn reset(&mut self) {
        self.kind.0.reset(&mut *self.state)
    }

    /// The state as sums that add up across the processes of a data-parallel run (each
    /// process's state over its own rows); `None` for a metric whose state is not made of
    /// sums.
    pub fn state_sums(&self) -> Option<Vec<f64>> {
        summed_state::summed(self.state.state_any()).map(|state| state.sums())
    }

    /// Sets the state from sums in `state_sums`' order, at the start of `sums`; returns how
    /// many values it read.
    pub fn set_state_sums(&mut self, sums: &[f64]) -> Result<usize> {
        let name = self.name();
        let state = summed_state::summed_mut(self.state.state_any_mut()).ok_or_else(|| {
            Error::value(format!(
                "the metric {name} cannot be combined across processes"
            ))
        })?;
        Ok(state.set_sums(sums))
    }
}

impl Clone for Metric {
    fn clone(&self) -> Metric {
        Metric {
            kind: self.kind.clone(),
            state: self.state.clone_box(),
        }
    }
}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric")
            .field("kind", &self.kind)
            .field("state", &self.state)
            .finish()
    }
}

/// The state of some metric, as `Metric` holds it.
trait ErasedState: Any + fmt::Debug + Send + Sync {
    fn clone_box(&self) -> Box<dyn ErasedState>;
    fn state_any(&self) -> &dyn Any;
    fn state_any_mut(&mut self) -> &mut dyn Any;
}

impl<S: Clone + fmt::Debug + Send + Sync + 'static> ErasedState for S {
    fn clone_box(&self) -> Box<dyn ErasedState> {
        Box::new(self.clone())
    }

    fn state_any(&self) -> &dyn Any {
        self
    }

    fn state_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// `MetricFunction` with the generic parts erased: one virtual call per batch.
trait ErasedKind: fmt::Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn validate(&self) -> Result<()>;
    fn to_json(&self) -> Result<String>;
    fn as_any(&self) -> &dyn Any;
    fn eq_erased(&self, other: &dyn Any) -> bool;
    fn new_state(&self) -> Result<Box<dyn ErasedState>>;
    fn update(&self, state: &mut dyn ErasedState, y_true: &Storage, y_pred: &Storage)
    -> Result<()>;
    fn result(&self, state: &dyn ErasedState) -> f64;
    fn reset(&self, state: &mut dyn ErasedState);
}

impl<M: MetricFunction> ErasedKind for M {
    fn name(&self) -> &'static str {
        M::NAME
    }

    fn validate(&self) -> Result<()> {
        MetricFunction::validate(self)
    }

    fn to_json(&self) -> Result<String> {
        crate::losses::config::to_json(M::NAME, self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn eq_erased(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<M>() == Some(self)
    }

    fn new_state(&self) -> Result<Box<dyn ErasedState>> {
        Ok(Box::new(MetricFunction::new_state(self)?))
    }

    fn update(
        &self,
        state: &mut dyn ErasedState,
        y_true: &Storage,
        y_pred: &Storage,
    ) -> Result<()> {
        let state = typed_state_mut::<M>(state)?;
        with_storage!(y_true, t => with_storage!(y_pred, p => {
            MetricFunction::update(self, state, &Batch::new(M::NAME, t, p))
        }))
    }

    fn result(&self, state: &dyn ErasedState) -> f64 {
        // A `Metric` always pairs a kind with the state it made.
        state
            .state_any()
            .downcast_ref::<M::State>()
            .map_or(0.0, |state| MetricFunction::result(self, state))
    }

    fn reset(&self, state: &mut dyn ErasedState) {
        if let Ok(state) = typed_state_mut::<M>(state) {
            MetricFunction::reset(self, state);
        }
    }
}

fn typed_state_mut<M: MetricFunction>(state: &mut dyn ErasedState) -> Result<&mut M::State> {
    state.state_any_mut().downcast_mut().ok_or_else(|| {
        Error::value(format!(
            "internal error: metric {} has mismatched state",
            M::NAME
        ))
    })
}

/// `a / b`, or 0 when `b` is 0 (Keras's `divide_no_nan`).
pub(crate) fn divide_no_nan(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

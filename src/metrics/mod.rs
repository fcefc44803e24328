//! Streaming metrics with Keras's semantics: accuracy (binary, categorical, sparse), precision,
//! recall, AUC and the mean errors.
//!
//! A `Metric` accumulates state over batches (`update`), reports the value over everything seen
//! so far (`result`) and starts again on `reset`. Accuracies and errors are Keras's mean
//! metrics: each sample's value (averaged over any trailing axes) is added to a total that is
//! divided by the number of samples. Precision and recall count true and false positives at a
//! threshold; AUC buckets predictions into `num_thresholds` evenly spaced thresholds and
//! integrates the curve with Keras's interpolation.

mod auc;

use ndarray::ArrayRefD;
use serde::{Deserialize, Serialize};

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::losses::{Loss, contiguous, squeeze_or_expand};
use crate::storage::Storage;
use crate::with_storage;

/// Which curve `Auc` integrates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AucCurve {
    /// The receiver operating characteristic: recall against the false-positive rate.
    #[default]
    #[serde(rename = "ROC")]
    Roc,
    /// Precision against recall.
    #[serde(rename = "PR")]
    Pr,
}

impl AucCurve {
    /// `"ROC"` or `"PR"`, in any case.
    pub fn parse(name: &str) -> Result<AucCurve> {
        match name.to_ascii_uppercase().as_str() {
            "ROC" => Ok(AucCurve::Roc),
            "PR" => Ok(AucCurve::Pr),
            _ => Err(Error::value(format!(
                "auc: curve must be 'ROC' or 'PR', received curve={name:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AucCurve::Roc => "ROC",
            AucCurve::Pr => "PR",
        }
    }
}

/// A metric and its parameters; serialised as `{"name": "binary_accuracy", "threshold": 0.5}`
/// (missing parameters take Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricKind {
    /// How often `y_pred > threshold` equals `y_true`.
    BinaryAccuracy {
        #[serde(default = "default_threshold")]
        threshold: f64,
    },
    /// How often the arg-max of `y_pred` is the arg-max of the one-hot `y_true`.
    CategoricalAccuracy,
    /// How often the arg-max of `y_pred` is the integer label `y_true`.
    SparseCategoricalAccuracy,
    /// `tp / (tp + fp)`, a prediction being positive when `y_pred > threshold`.
    Precision {
        #[serde(default = "default_threshold")]
        threshold: f64,
    },
    /// `tp / (tp + fn)`, a prediction being positive when `y_pred > threshold`.
    Recall {
        #[serde(default = "default_threshold")]
        threshold: f64,
    },
    /// The area under the ROC or PR curve, approximated over `num_thresholds` thresholds.
    Auc {
        #[serde(default = "default_num_thresholds")]
        num_thresholds: usize,
        #[serde(default)]
        curve: AucCurve,
    },
    MeanSquaredError,
    MeanAbsoluteError,
}

fn default_threshold() -> f64 {
    0.5
}

fn default_num_thresholds() -> usize {
    200
}

/// The names and aliases `MetricKind::parse` accepts, for error messages. `"accuracy"` and
/// `"acc"` depend on the shapes and are resolved by `resolve_accuracy`.
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "acc",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "precision",
    "recall",
    "auc",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
];

impl MetricKind {
    /// The metric of a Keras name or alias, with default parameters. `"accuracy"` is refused:
    /// which accuracy it means depends on the shapes (see `resolve_accuracy`).
    pub fn parse(name: &str) -> Result<MetricKind> {
        Ok(match name {
            "binary_accuracy" => MetricKind::BinaryAccuracy { threshold: 0.5 },
            "categorical_accuracy" => MetricKind::CategoricalAccuracy,
            "sparse_categorical_accuracy" => MetricKind::SparseCategoricalAccuracy,
            "precision" => MetricKind::Precision { threshold: 0.5 },
            "recall" => MetricKind::Recall { threshold: 0.5 },
            "auc" => MetricKind::Auc {
                num_thresholds: 200,
                curve: AucCurve::Roc,
            },
            "mean_squared_error" | "mse" => MetricKind::MeanSquaredError,
            "mean_absolute_error" | "mae" => MetricKind::MeanAbsoluteError,
            "accuracy" | "acc" => {
                return Err(Error::value(format!(
                    "metric {name:?} is binary, categorical or sparse categorical accuracy \
                     depending on the shapes of the labels and predictions; resolve it with \
                     resolve_accuracy(y_true_shape, y_pred_shape)"
                )));
            }
            other => {
                return Err(Error::value(format!(
                    "unknown metric {other:?}; known metrics: {}",
                    METRIC_NAMES.join(", ")
                )));
            }
        })
    }

    /// The metric of a JSON config such as `{"name": "auc", "curve": "PR"}`; unknown names and
    /// parameters are errors.
    pub fn from_json(json: &str) -> Result<MetricKind> {
        let kind: MetricKind = crate::losses::from_json_config("metric", json)?;
        kind.validate()?;
        Ok(kind)
    }

    /// The Keras snake_case name (also the default name of the metric in logs).
    pub fn name(&self) -> &'static str {
        match self {
            MetricKind::BinaryAccuracy { .. } => "binary_accuracy",
            MetricKind::CategoricalAccuracy => "categorical_accuracy",
            MetricKind::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            MetricKind::Precision { .. } => "precision",
            MetricKind::Recall { .. } => "recall",
            MetricKind::Auc { .. } => "auc",
            MetricKind::MeanSquaredError => "mean_squared_error",
            MetricKind::MeanAbsoluteError => "mean_absolute_error",
        }
    }

    /// Checks the parameters: thresholds in `[0, 1]`, more than one AUC threshold.
    pub fn validate(&self) -> Result<()> {
        match *self {
            MetricKind::BinaryAccuracy { threshold }
            | MetricKind::Precision { threshold }
            | MetricKind::Recall { threshold }
                if !(0.0..=1.0).contains(&threshold) =>
            {
                Err(Error::value(format!(
                    "{}: threshold must be between 0 and 1, received threshold={threshold}",
                    self.name()
                )))
            }
            MetricKind::Auc { num_thresholds, .. } if num_thresholds <= 1 => {
                Err(Error::value(format!(
                    "auc: num_thresholds must be an integer > 1, received \
                     num_thresholds={num_thresholds}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Keras's rule for `"accuracy"` / `"acc"`: binary accuracy when the predictions' last
/// dimension is 1; sparse categorical accuracy when the labels have a lower rank than the
/// predictions, or a last dimension of 1 against several classes; categorical otherwise.
pub fn resolve_accuracy(y_true_shape: &[usize], y_pred_shape: &[usize]) -> MetricKind {
    let last = |shape: &[usize]| shape.last().copied().unwrap_or(1);
    let (true_last, pred_last) = (last(y_true_shape), last(y_pred_shape));
    if pred_last == 1 {
        MetricKind::BinaryAccuracy { threshold: 0.5 }
    } else if y_true_shape.len() < y_pred_shape.len() || (true_last == 1 && pred_last > 1) {
        MetricKind::SparseCategoricalAccuracy
    } else {
        MetricKind::CategoricalAccuracy
    }
}

/// `resolve_accuracy`, except that binary cross-entropy always means binary accuracy (as in
/// tf.keras 2, for multi-label models whose outputs have several sigmoids).
pub fn resolve_accuracy_for_loss(
    loss: Option<&Loss>,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> MetricKind {
    match loss {
        Some(Loss::BinaryCrossentropy { .. }) => MetricKind::BinaryAccuracy { threshold: 0.5 },
        _ => resolve_accuracy(y_true_shape, y_pred_shape),
    }
}

/// A metric and the state it has accumulated.
#[derive(Clone, Debug)]
pub struct Metric {
    kind: MetricKind,
    state: State,
}

#[derive(Clone, Debug)]
enum State {
    /// Keras's `Mean`: the sum of per-sample values and the number of samples.
    Mean {
        total: f64,
        count: f64,
    },
    /// Counts at one threshold.
    Confusion {
        true_positives: f64,
        false_positives: f64,
        false_negatives: f64,
    },
    Auc(auc::Buckets),
}

impl Metric {
    /// A metric with empty state; fails on invalid parameters.
    pub fn new(kind: MetricKind) -> Result<Metric> {
        kind.validate()?;
        let state = match kind {
            MetricKind::Precision { .. } | MetricKind::Recall { .. } => State::Confusion {
                true_positives: 0.0,
                false_positives: 0.0,
                false_negatives: 0.0,
            },
            MetricKind::Auc { num_thresholds, .. } => {
                State::Auc(auc::Buckets::new(num_thresholds)?)
            }
            _ => State::Mean {
                total: 0.0,
                count: 0.0,
            },
        };
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
        with_storage!(y_true, t => with_storage!(y_pred, p => self.update_typed(t, p)))
    }

    fn update_typed<U: Element, T: Element>(
        &mut self,
        y_true: &ArrayRefD<U>,
        y_pred: &ArrayRefD<T>,
    ) -> Result<()> {
        let op = self.kind.name();
        let (ts, ps) = (y_true.shape(), y_pred.shape());
        let t = contiguous(y_true);
        let p = contiguous(y_pred);
        let mismatch = |reason| Error::ShapeMismatch {
            op,
            lhs: ts.to_vec(),
            rhs: ps.to_vec(),
            reason,
        };
        const SAME_SHAPE: &str = "(y_true, y_pred) do not match: they must have the same shape, \
                                  up to a trailing dimension of 1";
        let same_shape = || {
            let (a, b) = squeeze_or_expand(ts, ps);
            if a == b {
                Ok(a)
            } else {
                Err(mismatch(SAME_SHAPE))
            }
        };
        match (&self.kind, &mut self.state) {
            (MetricKind::BinaryAccuracy { threshold }, State::Mean { total, count }) => {
                let shape = same_shape()?;
                let threshold = T::of(*threshold);
                let matches = t
                    .iter()
                    .zip(p.iter())
                    .filter(|&(&t, &p)| {
                        let predicted = if p > threshold { 1.0 } else { 0.0 };
                        t.as_f64() == predicted
                    })
                    .count();
                add_samplewise(total, count, &shape, matches as f64);
            }
            (MetricKind::CategoricalAccuracy, State::Mean { total, count }) => {
                if ts != ps || ps.is_empty() {
                    return Err(mismatch(
                        "(y_true, y_pred) do not match: one-hot labels must have the shape of \
                         the predictions, classes last",
                    ));
                }
                let cols = ps[ps.len() - 1];
                let mut matches = 0usize;
                if cols > 0 {
                    for (t, p) in t.chunks(cols).zip(p.chunks(cols)) {
                        matches += (argmax(t) == argmax(p)) as usize;
                    }
                }
                add_samplewise(total, count, &ps[..ps.len() - 1], matches as f64);
            }
            (MetricKind::SparseCategoricalAccuracy, State::Mean { total, count }) => {
                let labels_shape = match ts.split_last() {
                    Some((1, rest)) if ts.len() == ps.len() => rest,
                    _ => ts,
                };
                if ps.is_empty() || labels_shape != &ps[..ps.len() - 1] {
                    return Err(mismatch(
                        "(y_true, y_pred) do not match: the labels must have the shape of \
                         y_pred without its class axis, optionally with a trailing 1",
                    ));
                }
                let cols = ps[ps.len() - 1];
                let mut matches = 0usize;
                if cols > 0 {
                    for (&label, p) in t.iter().zip(p.chunks(cols)) {
                        matches += (argmax(p) as f64 == label.as_f64()) as usize;
                    }
                }
                add_samplewise(total, count, labels_shape, matches as f64);
            }
            (
                MetricKind::MeanSquaredError | MetricKind::MeanAbsoluteError,
                State::Mean { total, count },
            ) => {
                let shape = same_shape()?;
                let squared = matches!(self.kind, MetricKind::MeanSquaredError);
                let sum: f64 = t
                    .iter()
                    .zip(p.iter())
                    .map(|(&t, &p)| {
                        let d = p.as_f64() - t.as_f64();
                        if squared { d * d } else { d.abs() }
                    })
                    .sum();
                // Each sample's error is the mean over the last axis (Keras's loss function).
                match shape.split_last() {
                    Some((&cols, samples)) if cols > 0 => {
                        add_samplewise(total, count, samples, sum / cols as f64)
                    }
                    Some(_) => {}
                    None => add_samplewise(total, count, &[], sum),
                }
            }
            (
                MetricKind::Precision { threshold } | MetricKind::Recall { threshold },
                State::Confusion {
                    true_positives,
                    false_positives,
                    false_negatives,
                },
            ) => {
                same_shape()?;
                let threshold = T::of(*threshold);
                let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
                for (&t, &p) in t.iter().zip(p.iter()) {
                    match (t != U::zero(), p > threshold) {
                        (true, true) => tp += 1,
                        (false, true) => fp += 1,
                        (true, false) => fneg += 1,
                        (false, false) => {}
                    }
                }
                *true_positives += tp as f64;
                *false_positives += fp as f64;
                *false_negatives += fneg as f64;
            }
            (MetricKind::Auc { .. }, State::Auc(buckets)) => {
                same_shape()?;
                buckets.add(&t, &p);
            }
            (kind, _) => {
                return Err(Error::value(format!(
                    "internal error: metric {kind:?} has mismatched state"
                )));
            }
        }
        Ok(())
    }

    /// The value over every batch since the last reset (0 before any data, as in Keras).
    pub fn result(&self) -> f64 {
        match (&self.kind, &self.state) {
            (_, State::Mean { total, count }) => divide_no_nan(*total, *count),
            (
                MetricKind::Recall { .. },
                State::Confusion {
                    true_positives,
                    false_negatives,
                    ..
                },
            ) => divide_no_nan(*true_positives, true_positives + false_negatives),
            (
                _,
                State::Confusion {
                    true_positives,
                    false_positives,
                    ..
                },
            ) => divide_no_nan(*true_positives, true_positives + false_positives),
            (MetricKind::Auc { curve, .. }, State::Auc(buckets)) => buckets.area(*curve),
            (_, State::Auc(buckets)) => buckets.area(AucCurve::Roc),
        }
    }

    pub fn reset(&mut self) {
        match &mut self.state {
            State::Mean { total, count } => {
                *total = 0.0;
                *count = 0.0;
            }
            State::Confusion {
                true_positives,
                false_positives,
                false_negatives,
            } => {
                *true_positives = 0.0;
                *false_positives = 0.0;
                *false_negatives = 0.0;
            }
            State::Auc(buckets) => buckets.reset(),
        }
    }
}

/// `a / b`, or 0 when `b` is 0 (Keras's `divide_no_nan`).
pub(crate) fn divide_no_nan(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// Adds values of shape `shape` summing to `sum` to a Keras `Mean`: each sample (along the first
/// axis) contributes the mean of its values, and counts once; a scalar counts as one sample.
fn add_samplewise(total: &mut f64, count: &mut f64, shape: &[usize], sum: f64) {
    match shape.split_first() {
        None => {
            *total += sum;
            *count += 1.0;
        }
        Some((&samples, rest)) => {
            let per_sample: usize = rest.iter().product();
            if samples > 0 && per_sample > 0 {
                *total += sum / per_sample as f64;
                *count += samples as f64;
            }
        }
    }
}

/// The index of the first largest value (numpy's `argmax`).
fn argmax<T: Element>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests;

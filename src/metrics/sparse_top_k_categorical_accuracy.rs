//! Sparse top-k categorical accuracy: how often an integer label is among the `k` largest
//! predictions.

use serde::{Deserialize, Serialize};

use super::mean::Mean;
use super::top_k_categorical_accuracy::{in_top_k, validate_k};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

fn default_k() -> i64 {
    5
}

/// Sparse top-k categorical accuracy, for integer labels (of `y_pred`'s shape without its class
/// axis, optionally with a trailing 1); a label outside `[0, classes)` never counts. Config
/// `{"name": "sparse_top_k_categorical_accuracy", "k": 5}`.
///
/// Example: `Metric::new(MetricKind::new(SparseTopKCategoricalAccuracy { k: 2 }))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseTopKCategoricalAccuracy {
    /// How many of the largest predictions count.
    #[serde(default = "default_k")]
    pub k: i64,
}

impl Default for SparseTopKCategoricalAccuracy {
    fn default() -> Self {
        SparseTopKCategoricalAccuracy { k: 5 }
    }
}

impl MetricFunction for SparseTopKCategoricalAccuracy {
    const NAME: &'static str = "sparse_top_k_categorical_accuracy";
    type State = Mean;

    fn validate(&self) -> Result<()> {
        validate_k(Self::NAME, self.k)
    }

    fn new_state(&self) -> Result<Mean> {
        Ok(Mean::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        mean: &mut Mean,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        let (ts, ps) = (batch.true_shape, batch.pred_shape);
        let labels_shape = match ts.split_last() {
            Some((1, rest)) if ts.len() == ps.len() => rest,
            _ => ts,
        };
        if ps.is_empty() || labels_shape != &ps[..ps.len() - 1] {
            return Err(batch.mismatch(
                "(y_true, y_pred) do not match: the labels must have the shape of y_pred \
                 without its class axis, optionally with a trailing 1",
            ));
        }
        let cols = ps[ps.len() - 1];
        let mut hits = 0usize;
        if cols > 0 {
            for (&label, p) in batch.y_true.iter().zip(batch.y_pred.chunks(cols)) {
                let label = label.as_f64();
                let valid = label >= 0.0 && label < cols as f64 && label.fract() == 0.0;
                hits += (valid && in_top_k(p, label as usize, self.k as usize)) as usize;
            }
        }
        mean.add_samplewise(labels_shape, hits as f64);
        Ok(())
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<SparseTopKCategoricalAccuracy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{close, once, s};
    use crate::metrics::{Metric, MetricKind};

    #[test]
    fn keras_docstring_value() {
        let p = s(&[2, 3], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0]);
        let k1 = once(
            MetricKind::new(SparseTopKCategoricalAccuracy { k: 1 }),
            &s(&[2], &[2.0, 1.0]),
            &p,
        );
        assert!(close(k1, 0.5), "{k1}");
        let k2 = once(
            MetricKind::new(SparseTopKCategoricalAccuracy { k: 2 }),
            &s(&[2, 1], &[2.0, 1.0]),
            &p,
        );
        assert!(close(k2, 1.0), "{k2}");
    }

    #[test]
    fn shapes_are_checked() {
        let mut m = Metric::new(MetricKind::new(SparseTopKCategoricalAccuracy::default())).unwrap();
        assert!(
            m.update(&s(&[3], &[0.0; 3]), &s(&[2, 4], &[0.0; 8]))
                .is_err()
        );
        m.update(&s(&[1], &[7.0]), &s(&[1, 2], &[0.5, 0.5]))
            .unwrap();
        assert_eq!(m.result(), 0.0, "a label out of range never counts");
    }
}

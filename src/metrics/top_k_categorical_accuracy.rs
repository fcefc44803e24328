//! Top-k categorical accuracy: how often the class of a one-hot label is among the `k` largest
//! predictions; and what it shares with the sparse version.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, argmax};
use super::{Batch, MetricEntry, MetricFunction};
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;

/// Whether class `label` is among the `k` largest of `row`: fewer than `k` classes score
/// strictly higher (TensorFlow's `in_top_k`: classes tied at the boundary all count as in).
pub(crate) fn in_top_k<T: Element>(row: &[T], label: usize, k: usize) -> bool {
    let score = row[label];
    if score.is_nan() {
        return false;
    }
    row.iter().filter(|&&v| v > score).count() < k
}

pub(crate) fn validate_k(name: &str, k: i64) -> Result<()> {
    if k < 1 {
        bail!("{name}: k must be a positive integer. Received: k={k}");
    }
    Ok(())
}

fn default_k() -> i64 {
    5
}

/// Top-k categorical accuracy, for one-hot labels (the label is the arg-max of each row of
/// `y_true`). Config `{"name": "top_k_categorical_accuracy", "k": 5}`.
///
/// Example: `Metric::new(MetricKind::new(TopKCategoricalAccuracy { k: 2 }))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopKCategoricalAccuracy {
    /// How many of the largest predictions count.
    #[serde(default = "default_k")]
    pub k: i64,
}

impl Default for TopKCategoricalAccuracy {
    fn default() -> Self {
        TopKCategoricalAccuracy { k: 5 }
    }
}

impl MetricFunction for TopKCategoricalAccuracy {
    const NAME: &'static str = "top_k_categorical_accuracy";
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
        if batch.true_shape != batch.pred_shape || batch.pred_shape.is_empty() {
            return Err(batch.mismatch(
                "(y_true, y_pred) do not match: one-hot labels must have the shape of y_pred, \
                 the classes last",
            ));
        }
        let ps = batch.pred_shape;
        let cols = ps[ps.len() - 1];
        let mut hits = 0usize;
        if cols > 0 {
            let rows = batch.y_true.chunks(cols).zip(batch.y_pred.chunks(cols));
            for (t, p) in rows {
                hits += in_top_k(p, argmax(t), self.k as usize) as usize;
            }
        }
        mean.add_samplewise(&ps[..ps.len() - 1], hits as f64);
        Ok(())
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<TopKCategoricalAccuracy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{close, once, s};
    use crate::metrics::{Metric, MetricKind};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(TopKCategoricalAccuracy { k: 1 }),
            &s(&[2, 3], &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
            &s(&[2, 3], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0]),
        );
        assert!(close(v, 0.5), "{v}");
        let v = once(
            MetricKind::new(TopKCategoricalAccuracy { k: 2 }),
            &s(&[2, 3], &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
            &s(&[2, 3], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0]),
        );
        assert!(close(v, 1.0), "{v}");
    }

    #[test]
    fn streams_resets_and_checks() {
        let mut m = Metric::new(MetricKind::new(TopKCategoricalAccuracy { k: 1 })).unwrap();
        m.update(&s(&[1, 2], &[1.0, 0.0]), &s(&[1, 2], &[0.9, 0.1]))
            .unwrap();
        m.update(&s(&[1, 2], &[1.0, 0.0]), &s(&[1, 2], &[0.1, 0.9]))
            .unwrap();
        assert!(close(m.result(), 0.5));
        m.reset();
        assert_eq!(m.result(), 0.0);
        assert!(
            m.update(&s(&[2], &[0.0; 2]), &s(&[2, 2], &[0.0; 4]))
                .is_err()
        );
        assert!(
            in_top_k(&[0.5, 0.5, 0.5], 2, 1),
            "ties at the boundary count"
        );
        let err = MetricKind::new(TopKCategoricalAccuracy { k: 0 })
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("k=0"), "{err}");
    }
}

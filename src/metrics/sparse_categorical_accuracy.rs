//! Sparse categorical accuracy: how often the arg-max of `y_pred` is the integer label
//! `y_true`.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, argmax};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// Sparse categorical accuracy, for integer labels. No parameters: `{"name":
/// "sparse_categorical_accuracy"}`.
///
/// Example: `Metric::new(MetricKind::new(SparseCategoricalAccuracy {}))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseCategoricalAccuracy {}

impl MetricFunction for SparseCategoricalAccuracy {
    const NAME: &'static str = "sparse_categorical_accuracy";
    type State = Mean;

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
        let mut matches = 0usize;
        if cols > 0 {
            for (&label, p) in batch.y_true.iter().zip(batch.y_pred.chunks(cols)) {
                matches += (argmax(p) as f64 == label.as_f64()) as usize;
            }
        }
        mean.add_samplewise(labels_shape, matches as f64);
        Ok(())
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<SparseCategoricalAccuracy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{close, once, s};
    use crate::metrics::{Metric, MetricKind};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(SparseCategoricalAccuracy {}),
            &s(&[2, 1], &[2.0, 1.0]),
            &s(&[2, 3], &[0.1, 0.6, 0.3, 0.05, 0.95, 0.0]),
        );
        assert!(close(v, 0.5), "{v}");
        let flat = once(
            MetricKind::new(SparseCategoricalAccuracy {}),
            &s(&[2], &[2.0, 1.0]),
            &s(&[2, 3], &[0.1, 0.6, 0.3, 0.05, 0.95, 0.0]),
        );
        assert_eq!(flat, v);
    }

    #[test]
    fn labels_must_match_the_predictions_without_classes() {
        let mut m = Metric::new(MetricKind::new(SparseCategoricalAccuracy {})).unwrap();
        assert!(
            m.update(&s(&[3], &[0.0; 3]), &s(&[2, 4], &[0.0; 8]))
                .is_err()
        );
        assert!(m.update(&s(&[], &[0.0]), &s(&[], &[0.0])).is_err());
    }
}

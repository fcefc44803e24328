//! Categorical accuracy: how often the arg-max of `y_pred` is the arg-max of the one-hot
//! `y_true`.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, argmax};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// Categorical accuracy, for one-hot labels. No parameters: `{"name":
/// "categorical_accuracy"}`.
///
/// Example: `Metric::new(MetricKind::new(CategoricalAccuracy {}))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalAccuracy {}

impl MetricFunction for CategoricalAccuracy {
    const NAME: &'static str = "categorical_accuracy";
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
        if ts != ps || ps.is_empty() {
            return Err(batch.mismatch(
                "(y_true, y_pred) do not match: one-hot labels must have the shape of the \
                 predictions, classes last",
            ));
        }
        let cols = ps[ps.len() - 1];
        let mut matches = 0usize;
        if cols > 0 {
            for (t, p) in batch.y_true.chunks(cols).zip(batch.y_pred.chunks(cols)) {
                matches += (argmax(t) == argmax(p)) as usize;
            }
        }
        mean.add_samplewise(&ps[..ps.len() - 1], matches as f64);
        Ok(())
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<CategoricalAccuracy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::metrics::testing::{close, once, s};
    use crate::metrics::{Metric, MetricKind};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(CategoricalAccuracy {}),
            &s(&[2, 3], &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
            &s(&[2, 3], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0]),
        );
        assert!(close(v, 0.5), "{v}");
    }

    #[test]
    fn labels_must_have_the_shape_of_the_predictions() {
        let mut m = Metric::new(MetricKind::new(CategoricalAccuracy {})).unwrap();
        let err = m
            .update(&s(&[2, 3], &[0.0; 6]), &s(&[2, 4], &[0.0; 8]))
            .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
        let message = err.to_string();
        assert!(
            message.contains("[2, 3]") && message.contains("[2, 4]"),
            "{message}"
        );
        assert_eq!(m.result(), 0.0);
    }
}

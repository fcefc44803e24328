//! Recall, `tp / (tp + fn)`: the fraction of positive labels predicted positive, a prediction being positive when `y_pred > threshold` and a label when
//! non-zero.

use serde::{Deserialize, Serialize};

use super::confusion::Confusion;
use super::threshold::{default_threshold, validate_threshold};
use super::{Batch, MetricEntry, MetricFunction, divide_no_nan};
use crate::dtype::Element;
use crate::error::Result;

/// Recall at one threshold; config `{"name": "recall", "threshold": 0.5}`.
///
/// Example: `Metric::new(MetricKind::new(Recall { threshold: 0.5 }))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recall {
    /// In `[0, 1]`: a prediction is positive when greater.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
}

impl MetricFunction for Recall {
    const NAME: &'static str = "recall";
    type State = Confusion;

    fn validate(&self) -> Result<()> {
        validate_threshold(Self::NAME, self.threshold)
    }

    fn new_state(&self) -> Result<Confusion> {
        Ok(Confusion::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        counts: &mut Confusion,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        counts.add(batch, self.threshold)
    }

    fn result(&self, counts: &Confusion) -> f64 {
        divide_no_nan(
            counts.true_positives,
            counts.true_positives + counts.false_negatives,
        )
    }

    fn reset(&self, counts: &mut Confusion) {
        counts.reset();
    }
}

inventory::submit! { MetricEntry::of::<Recall>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{check_binary_metric, close, once, s};
    use crate::metrics::{Metric, MetricKind};

    fn recall(threshold: f64) -> MetricKind {
        MetricKind::new(Recall { threshold })
    }

    #[test]
    fn keras_docstring_value() {
        let y = s(&[4], &[0.0, 1.0, 1.0, 1.0]);
        let p = s(&[4], &[1.0, 0.0, 1.0, 1.0]);
        assert!(close(once(recall(0.5), &y, &p), 2.0 / 3.0));
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(recall(0.3));
        check_binary_metric(recall(0.6));
    }

    #[test]
    fn bad_thresholds_and_shapes_are_refused() {
        for bad in [-0.1, 1.5, f64::NAN] {
            let message = Metric::new(recall(bad)).unwrap_err().to_string();
            assert!(message.contains("threshold"), "{message}");
        }
        let mut m = Metric::new(recall(0.5)).unwrap();
        assert!(m.update(&s(&[3], &[0.0; 3]), &s(&[4], &[0.0; 4])).is_err());
        assert_eq!(m.result(), 0.0);
    }
}

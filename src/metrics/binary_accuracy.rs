//! Binary accuracy: how often `y_pred > threshold` equals `y_true`.

use serde::{Deserialize, Serialize};

use super::mean::Mean;
use super::threshold::{default_threshold, validate_threshold};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// Binary accuracy at a threshold; config `{"name": "binary_accuracy", "threshold": 0.5}`.
///
/// Example: `Metric::new(MetricKind::new(BinaryAccuracy { threshold: 0.5 }))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryAccuracy {
    /// In `[0, 1]`: a prediction counts as 1 when greater, else as 0.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
}

impl MetricFunction for BinaryAccuracy {
    const NAME: &'static str = "binary_accuracy";
    type State = Mean;

    fn validate(&self) -> Result<()> {
        validate_threshold(Self::NAME, self.threshold)
    }

    fn new_state(&self) -> Result<Mean> {
        Ok(Mean::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        mean: &mut Mean,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        let shape = batch.same_shape()?;
        // Compared in the predictions' dtype, as Keras does.
        let threshold = T::of(self.threshold);
        let matches = batch
            .y_true
            .iter()
            .zip(batch.y_pred.iter())
            .filter(|&(&t, &p)| {
                let predicted = if p > threshold { 1.0 } else { 0.0 };
                t.as_f64() == predicted
            })
            .count();
        mean.add_samplewise(&shape, matches as f64);
        Ok(())
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<BinaryAccuracy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;
    use crate::metrics::testing::{check_binary_metric, close, once, s, s32};

    fn binary(threshold: f64) -> MetricKind {
        MetricKind::new(BinaryAccuracy { threshold })
    }

    #[test]
    fn keras_docstring_value() {
        let v = once(
            binary(0.5),
            &s(&[4, 1], &[1.0, 1.0, 0.0, 0.0]),
            &s(&[4, 1], &[0.98, 1.0, 0.0, 0.6]),
        );
        assert!(close(v, 0.75), "{v}");
    }

    #[test]
    fn thresholds_compare_in_the_prediction_dtype() {
        // 0.3f32 is not greater than the threshold 0.3 rounded to float32 (Keras compares in
        // float32 too), while it is greater than 0.3 as a float64.
        let v = once(binary(0.3), &s(&[1], &[0.0]), &s32(&[1], &[0.3]));
        assert_eq!(v, 1.0);
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(binary(0.4));
        let y = s(&[4], &[1.0, 0.0, 1.0, 0.0]);
        let p = s32(&[4, 1], &[0.7, 0.2, 0.4, 0.9]);
        assert!(close(once(binary(0.5), &y, &p), 0.5));
    }

    #[test]
    fn threshold_must_be_in_0_1() {
        for bad in [1.5, -0.1, f64::NAN] {
            let message = binary(bad).validate().unwrap_err().to_string();
            assert!(message.contains("threshold"), "{message}");
        }
    }
}

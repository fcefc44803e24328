//! The mean absolute percentage error, each sample's `100 * mean(abs((y_true - y_pred) /
//! max(abs(y_true), epsilon)))` over the last axis, averaged over samples.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, add_mean_error};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// Keras's fuzz factor: a true value of 0 divides by this instead.
const EPSILON: f64 = 1e-7;

/// The mean absolute percentage error, as Keras's `MeanAbsolutePercentageError` metric. No
/// parameters: `{"name": "mean_absolute_percentage_error"}`.
///
/// Example: `Metric::new(MetricKind::new(MeanAbsolutePercentageError {}))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanAbsolutePercentageError {}

impl MetricFunction for MeanAbsolutePercentageError {
    const NAME: &'static str = "mean_absolute_percentage_error";
    const ALIASES: &'static [&'static str] = &["mape"];
    type State = Mean;

    fn new_state(&self) -> Result<Mean> {
        Ok(Mean::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        mean: &mut Mean,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        add_mean_error(mean, batch, |t, p| {
            100.0 * (t - p).abs() / t.abs().max(EPSILON)
        })
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<MeanAbsolutePercentageError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;
    use crate::metrics::testing::{check_binary_metric, once, s};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(MeanAbsolutePercentageError {}),
            &s(&[2, 2], &[0.0, 1.0, 0.0, 0.0]),
            &s(&[2, 2], &[1.0, 1.0, 0.0, 0.0]),
        );
        // 100 * 1 / 1e-7 for one value of four: 2.5e8, to the last bits of the division.
        assert!(((v - 250_000_000.0) / 250_000_000.0).abs() < 1e-12, "{v}");
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(MetricKind::new(MeanAbsolutePercentageError {}));
    }
}

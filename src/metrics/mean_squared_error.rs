//! The mean squared error, each sample's `mean((y_pred - y_true)**2)` over the last axis, averaged over samples.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, add_mean_error};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// The mean squared error, each sample's `mean((y_pred - y_true)**2)` over the last axis, averaged over samples. No parameters: `{"name": "mean_squared_error"}`.
///
/// Example: `Metric::new(MetricKind::new(MeanSquaredError {}))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSquaredError {}

impl MetricFunction for MeanSquaredError {
    const NAME: &'static str = "mean_squared_error";
    const ALIASES: &'static [&'static str] = &["mse"];
    type State = Mean;

    fn new_state(&self) -> Result<Mean> {
        Ok(Mean::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        mean: &mut Mean,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        add_mean_error(mean, batch, |t, p| (p - t) * (p - t))
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<MeanSquaredError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;
    use crate::metrics::testing::{check_binary_metric, close, once, s};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(MeanSquaredError {}),
            &s(&[2, 2], &[0.0, 1.0, 0.0, 0.0]),
            &s(&[2, 2], &[1.0, 1.0, 1.0, 0.0]),
        );
        assert!(close(v, 0.5), "{v}");
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(MetricKind::new(MeanSquaredError {}));
    }
}

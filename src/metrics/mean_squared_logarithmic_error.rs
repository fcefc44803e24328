//! The mean squared logarithmic error, each sample's `mean(square(log(max(y_pred, eps) + 1) -
//! log(max(y_true, eps) + 1)))` over the last axis, averaged over samples.

use serde::{Deserialize, Serialize};

use super::mean::{Mean, add_mean_error};
use super::{Batch, MetricEntry, MetricFunction};
use crate::dtype::Element;
use crate::error::Result;

/// Keras's fuzz factor: values below it count as it, so the logarithm stays finite.
const EPSILON: f64 = 1e-7;

/// The mean squared logarithmic error, as Keras's `MeanSquaredLogarithmicError` metric. No
/// parameters: `{"name": "mean_squared_logarithmic_error"}`.
///
/// Example: `Metric::new(MetricKind::new(MeanSquaredLogarithmicError {}))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSquaredLogarithmicError {}

impl MetricFunction for MeanSquaredLogarithmicError {
    const NAME: &'static str = "mean_squared_logarithmic_error";
    const ALIASES: &'static [&'static str] = &["msle"];
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
            let difference = p.max(EPSILON).ln_1p() - t.max(EPSILON).ln_1p();
            difference * difference
        })
    }

    fn result(&self, mean: &Mean) -> f64 {
        mean.result()
    }

    fn reset(&self, mean: &mut Mean) {
        mean.reset();
    }
}

inventory::submit! { MetricEntry::of::<MeanSquaredLogarithmicError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;
    use crate::metrics::testing::{check_binary_metric, close, once, s};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(MeanSquaredLogarithmicError {}),
            &s(&[2, 2], &[0.0, 1.0, 0.0, 0.0]),
            &s(&[2, 2], &[1.0, 1.0, 0.0, 0.0]),
        );
        // One value of four differs: ln(1 + 1) against ln(1 + epsilon) for the true 0 (Keras
        // prints the float32 0.12011322).
        let difference = std::f64::consts::LN_2 - EPSILON.ln_1p();
        assert!(close(v, difference * difference / 4.0), "{v}");
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(MetricKind::new(MeanSquaredLogarithmicError {}));
    }
}

//! Mean squared error: `mean((y_true - y_pred)**2)` over the last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::pointwise_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// The mean of the squared errors of each sample. No parameters: `{"name":
/// "mean_squared_error"}`.
///
/// Example: `Loss::new(MeanSquaredError {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSquaredError {}

impl LossFunction for MeanSquaredError {
    const NAME: &'static str = "mean_squared_error";
    const ALIASES: &'static [&'static str] = &["mse"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        pointwise_rows(rows, |t, p| {
            let d = p - t;
            (d * d, d + d)
        });
    }
}

inventory::submit! { LossEntry::of::<MeanSquaredError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_large_batch, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        t.iter().zip(p).map(|(t, p)| (p - t).powi(2)).sum::<f64>() / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let mse = value(&Loss::new(MeanSquaredError {}), &y_true, &y_pred);
        assert!(close(mse, (0.36 + 0.36 + 0.16 + 0.36) / 4.0, 1e-12));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(MeanSquaredError {}), Data::Regression, row);
        check_large_batch(&Loss::new(MeanSquaredError {}), Data::Regression, row);
    }
}

//! Mean absolute error: `mean(abs(y_true - y_pred))` over the last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::pointwise_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// The mean of the absolute errors of each sample. No parameters: `{"name":
/// "mean_absolute_error"}`.
///
/// Example: `Loss::new(MeanAbsoluteError {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanAbsoluteError {}

impl LossFunction for MeanAbsoluteError {
    const NAME: &'static str = "mean_absolute_error";
    const ALIASES: &'static [&'static str] = &["mae"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let (one, zero) = (T::one(), T::zero());
        pointwise_rows(rows, |t, p| {
            let d = p - t;
            let slope = if d > zero {
                one
            } else if d < zero {
                -one
            } else {
                zero
            };
            (d.abs(), slope)
        });
    }
}

inventory::submit! { LossEntry::of::<MeanAbsoluteError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        t.iter().zip(p).map(|(t, p)| (p - t).abs()).sum::<f64>() / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let mae = value(&Loss::new(MeanAbsoluteError {}), &y_true, &y_pred);
        assert!(close(mae, (0.6 + 0.6 + 0.4 + 0.6) / 4.0, 1e-12));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(MeanAbsoluteError {}), Data::Regression, row);
    }
}

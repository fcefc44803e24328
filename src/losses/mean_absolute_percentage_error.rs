//! Mean absolute percentage error: `100 * mean(abs((y_true - y_pred) / y_true))`.

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, pointwise_rows};
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// Keras's MAPE, the denominator `maximum(abs(y_true), 1e-7)`. No parameters:
/// `{"name": "mean_absolute_percentage_error"}`; alias `"mape"`.
///
/// Example: `Loss::new(MeanAbsolutePercentageError {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanAbsolutePercentageError {}

impl LossFunction for MeanAbsolutePercentageError {
    const NAME: &'static str = "mean_absolute_percentage_error";
    const ALIASES: &'static [&'static str] = &["mape"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let (zero, hundred, eps) = (T::zero(), T::of(100.0), T::of(EPSILON));
        pointwise_rows(rows, |t, p| {
            let scale = hundred / if t.abs() >= eps { t.abs() } else { eps };
            let d = p - t;
            let sign = if d > zero {
                T::one()
            } else if d < zero {
                -T::one()
            } else {
                zero
            };
            (d.abs() * scale, sign * scale)
        });
    }
}

inventory::submit! { LossEntry::of::<MeanAbsolutePercentageError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        100.0
            * t.iter()
                .zip(p)
                .map(|(&t, &p)| ((t - p) / t.abs().max(1e-7)).abs())
                .sum::<f64>()
            / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[1.0, 1.0, 0.0, 0.0]);
        let got = value(&Loss::new(MeanAbsolutePercentageError {}), &y_true, &y_pred);
        assert!(close(got, 2.5e8, 1e-9), "{got}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(
            &Loss::new(MeanAbsolutePercentageError {}),
            Data::Regression,
            row,
        );
    }
}

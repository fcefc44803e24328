//! The squared hinge loss: `mean(square(maximum(1 - y_true * y_pred, 0)))`.

use serde::{Deserialize, Serialize};

use super::hinge::hinge_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// The squared hinge loss, for labels of -1 and 1 (or 0 and 1, converted as `Hinge` does). No
/// parameters: `{"name": "squared_hinge"}`.
///
/// Example: `Loss::new(SquaredHinge {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SquaredHinge {}

impl LossFunction for SquaredHinge {
    const NAME: &'static str = "squared_hinge";

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        hinge_rows(rows, true);
    }
}

inventory::submit! { LossEntry::of::<SquaredHinge>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        let binary = t.iter().all(|&t| t == 0.0 || t == 1.0);
        t.iter()
            .zip(p)
            .map(|(&t, &p)| {
                let t = if binary { 2.0 * t - 1.0 } else { t };
                (1.0 - t * p).max(0.0).powi(2)
            })
            .sum::<f64>()
            / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let got = value(&Loss::new(SquaredHinge {}), &y_true, &y_pred);
        assert!(close(got, 1.86, 1e-12), "{got}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(SquaredHinge {}), Data::Bits, row);
        check_loss(&Loss::new(SquaredHinge {}), Data::Regression, row);
    }
}

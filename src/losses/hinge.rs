//! The hinge loss, `mean(maximum(1 - y_true * y_pred, 0))`, and what it shares with the squared
//! hinge loss: labels of 0 and 1 become -1 and 1.

use serde::{Deserialize, Serialize};

use super::elementwise::pointwise_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// Keras's `convert_binary_labels_to_hinge`: when every label is 0 or 1, the labels become
/// `2 * y - 1`; otherwise they are used as they are (expected to be -1 or 1). Keras decides
/// over the whole batch; here it is decided over each block of rows the kernel gets (whole
/// batches up to tens of thousands of values), which differs only for a batch that mixes rows
/// of 0/1 labels with rows of other labels.
pub(crate) fn hinge_rows<T: Element>(rows: Rows<'_, T>, squared: bool) {
    let (zero, one, two) = (T::zero(), T::one(), T::of(2.0));
    let binary = rows.y_true.iter().all(|&t| t == zero || t == one);
    pointwise_rows(rows, |t, p| {
        let t = if binary { two * t - one } else { t };
        let margin = one - t * p;
        if margin > zero {
            if squared {
                (margin * margin, -two * margin * t)
            } else {
                (margin, -t)
            }
        } else {
            (zero, zero)
        }
    });
}

/// The hinge loss, for labels of -1 and 1 (or 0 and 1, converted). No parameters:
/// `{"name": "hinge"}`.
///
/// Example: `Loss::new(Hinge {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hinge {}

impl LossFunction for Hinge {
    const NAME: &'static str = "hinge";

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        hinge_rows(rows, false);
    }
}

inventory::submit! { LossEntry::of::<Hinge>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(squared: bool) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, p| {
            let binary = t.iter().all(|&t| t == 0.0 || t == 1.0);
            t.iter()
                .zip(p)
                .map(|(&t, &p)| {
                    let t = if binary { 2.0 * t - 1.0 } else { t };
                    let h = (1.0 - t * p).max(0.0);
                    if squared { h * h } else { h }
                })
                .sum::<f64>()
                / t.len() as f64
        }
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let got = value(&Loss::new(Hinge {}), &y_true, &y_pred);
        assert!(close(got, 1.3, 1e-12), "{got}");
        // -1/1 labels are used as they are.
        let signed = t64(&[2, 2], &[-1.0, 1.0, -1.0, -1.0]);
        assert!(close(
            value(&Loss::new(Hinge {}), &signed, &y_pred),
            1.3,
            1e-12
        ));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(Hinge {}), Data::Bits, row(false));
        check_loss(&Loss::new(Hinge {}), Data::Regression, row(false));
    }
}

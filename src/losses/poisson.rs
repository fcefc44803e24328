//! The Poisson loss: `mean(y_pred - y_true * log(y_pred + epsilon))` over the last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, pointwise_rows};
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// Keras's Poisson loss (the negative log-likelihood of a Poisson distribution of mean
/// `y_pred`, without the `log(y_true!)` term). No parameters: `{"name": "poisson"}`. This is
/// PyTorch's `poisson_nll_loss(log_input=False, full=False, eps=1e-7)` except that PyTorch
/// averages over every value rather than over the last axis first (the same for equal rows).
///
/// Example: `Loss::new(Poisson {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poisson {}

impl LossFunction for Poisson {
    const NAME: &'static str = "poisson";

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let (one, eps) = (T::one(), T::of(EPSILON));
        pointwise_rows(rows, |t, p| (p - t * (p + eps).ln(), one - t / (p + eps)));
    }
}

inventory::submit! { LossEntry::of::<Poisson>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        t.iter()
            .zip(p)
            .map(|(t, p)| p - t * (p + 1e-7).ln())
            .sum::<f64>()
            / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[1.0, 1.0, 0.0, 0.0]);
        let got = value(&Loss::new(Poisson {}), &y_true, &y_pred);
        assert!(close(got, 0.5, 1e-6), "{got}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(Poisson {}), Data::Bits, row);
    }
}

//! The logarithm of the hyperbolic cosine of the error, averaged over the last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::pointwise_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// `mean(log(cosh(y_pred - y_true)))`, computed as Keras does, `x + softplus(-2x) - log(2)`,
/// which stays finite for large errors. No parameters: `{"name": "log_cosh"}`; alias
/// `"logcosh"`.
///
/// Example: `Loss::new(LogCosh {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogCosh {}

impl LossFunction for LogCosh {
    const NAME: &'static str = "log_cosh";
    const ALIASES: &'static [&'static str] = &["logcosh"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let (zero, two, log2) = (T::zero(), T::of(2.0), T::of(std::f64::consts::LN_2));
        pointwise_rows(rows, |t, p| {
            let x = p - t;
            let y = -two * x;
            // softplus(y) = max(y, 0) + log1p(exp(-|y|)).
            let softplus = (if y > zero { y } else { zero }) + (-y.abs()).exp().ln_1p();
            (x + softplus - log2, x.tanh())
        });
    }
}

inventory::submit! { LossEntry::of::<LogCosh>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        t.iter()
            .zip(p)
            .map(|(t, p)| (p - t).cosh().ln())
            .sum::<f64>()
            / t.len() as f64
    }

    #[test]
    fn keras_docstring_value_and_large_errors() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[1.0, 1.0, 0.0, 0.0]);
        let got = value(&Loss::new(LogCosh {}), &y_true, &y_pred);
        assert!(close(got, 0.108, 1e-3), "{got}");
        let far = value(
            &Loss::new(LogCosh {}),
            &t64(&[1], &[0.0]),
            &t64(&[1], &[1000.0]),
        );
        assert!(close(far, 1000.0 - std::f64::consts::LN_2, 1e-12), "{far}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(LogCosh {}), Data::Regression, row);
    }
}

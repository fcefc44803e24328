//! Mean squared logarithmic error: `mean(square(log(y_pred + 1) - log(y_true + 1)))`.

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, pointwise_rows};
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// Keras's MSLE, values below `1e-7` taken as `1e-7` (`log(maximum(x, epsilon) + 1)`). No
/// parameters: `{"name": "mean_squared_logarithmic_error"}`; alias `"msle"`.
///
/// Example: `Loss::new(MeanSquaredLogarithmicError {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSquaredLogarithmicError {}

impl LossFunction for MeanSquaredLogarithmicError {
    const NAME: &'static str = "mean_squared_logarithmic_error";
    const ALIASES: &'static [&'static str] = &["msle"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let (zero, one, two, eps) = (T::zero(), T::one(), T::of(2.0), T::of(EPSILON));
        pointwise_rows(rows, |t, p| {
            let p_in = p >= eps;
            let pc = if p_in { p } else { eps };
            let tc = if t >= eps { t } else { eps };
            let d = (pc + one).ln() - (tc + one).ln();
            let slope = if p_in { two * d / (pc + one) } else { zero };
            (d * d, slope)
        });
    }
}

inventory::submit! { LossEntry::of::<MeanSquaredLogarithmicError>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        let log = |x: f64| (x.max(1e-7) + 1.0).ln();
        t.iter()
            .zip(p)
            .map(|(&t, &p)| (log(p) - log(t)).powi(2))
            .sum::<f64>()
            / t.len() as f64
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[1.0, 1.0, 0.0, 0.0]);
        let got = value(&Loss::new(MeanSquaredLogarithmicError {}), &y_true, &y_pred);
        assert!(close(got, 0.1201, 1e-3), "{got}");
        assert_eq!(
            Loss::parse("msle").unwrap(),
            Loss::new(MeanSquaredLogarithmicError {})
        );
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(
            &Loss::new(MeanSquaredLogarithmicError {}),
            Data::Regression,
            row,
        );
    }
}

//! The Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred))` over the last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, clip};
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;

/// Keras's KL divergence, both arguments clipped to `[1e-7, 1]` first; summed (not averaged)
/// over the last axis. No parameters: `{"name": "kl_divergence"}`; aliases `"kld"` and
/// `"kullback_leibler_divergence"`. PyTorch's `kl_div(log(y_pred), y_true, reduction=
/// "batchmean")` is the same for probabilities inside the clipping range on a 2-D batch.
///
/// Example: `Loss::new(KlDivergence {}).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KlDivergence {}

impl LossFunction for KlDivergence {
    const NAME: &'static str = "kl_divergence";
    const ALIASES: &'static [&'static str] = &["kld", "kullback_leibler_divergence"];

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let Rows {
            y_true,
            y_pred,
            cols,
            losses,
            mut grad,
            ..
        } = rows;
        let (eps, one, zero) = (T::of(EPSILON), T::one(), T::zero());
        for (r, row_loss) in losses.iter_mut().enumerate() {
            let span = r * cols..(r + 1) * cols;
            let mut total = 0.0f64;
            for (j, (&t, &p)) in y_true[span.clone()]
                .iter()
                .zip(&y_pred[span.clone()])
                .enumerate()
            {
                let (t, _) = clip(t, eps, one);
                let (p, inside) = clip(p, eps, one);
                total += (t * (t / p).ln()).as_f64();
                if let Some(g) = grad.as_deref_mut() {
                    g[span.start + j] = if inside { -t / p } else { zero };
                }
            }
            *row_loss = T::of(total);
        }
    }
}

inventory::submit! { LossEntry::of::<KlDivergence>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        t.iter()
            .zip(p)
            .map(|(&t, &p)| {
                let (t, p) = (t.clamp(1e-7, 1.0), p.clamp(1e-7, 1.0));
                t * (t / p).ln()
            })
            .sum()
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let got = value(&Loss::new(KlDivergence {}), &y_true, &y_pred);
        let expected = row(&[0.0, 1.0], &[0.6, 0.4]) / 2.0 + row(&[0.0, 0.0], &[0.4, 0.6]) / 2.0;
        assert!(close(got, expected, 1e-12), "{got}");
        assert!(close(got, 0.458, 1e-3), "{got}");
        assert_eq!(Loss::parse("kld").unwrap(), Loss::new(KlDivergence {}));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(&Loss::new(KlDivergence {}), Data::OneHot, row);
        check_loss(&Loss::new(KlDivergence {}), Data::Bits, row);
    }
}

//! What the elementwise losses share: the row kernel that averages a term over each sample,
//! and the clipping of probabilities.
//!
//! A "row" is one sample's values along the last axis (`cols` of them). Elementwise losses
//! average over the row (Keras's `mean(..., axis=-1)`); cross-entropies sum over it.

use super::Rows;
use crate::dtype::Element;

/// Keras's `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 - EPSILON]`.
pub const EPSILON: f64 = 1e-7;

/// `x` clipped to `[lo, hi]`, with whether it was inside (the bounds included, where the clip's
/// gradient still passes, as in TensorFlow). NaN stays NaN.
#[inline]
pub(crate) fn clip<T: Element>(x: T, lo: T, hi: T) -> (T, bool) {
    if x < lo {
        (lo, false)
    } else if x > hi {
        (hi, false)
    } else {
        (x, true)
    }
}

/// Rows of an elementwise loss: each row's loss is the mean of `term(t, p)`'s first value;
/// the second is the derivative of the term with respect to `p`.
#[inline]
pub(crate) fn pointwise_rows<T: Element>(rows: Rows<'_, T>, term: impl Fn(T, T) -> (T, T)) {
    let Rows {
        y_true,
        y_pred,
        cols,
        losses,
        mut grad,
        ..
    } = rows;
    let inv_cols = T::one() / T::of(cols as f64);
    for (r, row_loss) in losses.iter_mut().enumerate() {
        let span = r * cols..(r + 1) * cols;
        let (t, p) = (&y_true[span.clone()], &y_pred[span.clone()]);
        // Summed in f64: a row can be a whole float32 batch (labels and predictions of (N,)).
        let mut total = 0.0f64;
        match grad.as_deref_mut() {
            Some(grad) => {
                for ((&t, &p), g) in t.iter().zip(p).zip(&mut grad[span]) {
                    let (loss, slope) = term(t, p);
                    total += loss.as_f64();
                    *g = slope * inv_cols;
                }
            }
            None => {
                for (&t, &p) in t.iter().zip(p) {
                    total += term(t, p).0.as_f64();
                }
            }
        }
        *row_loss = T::of(total / cols as f64);
    }
}

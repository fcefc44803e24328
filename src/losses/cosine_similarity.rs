//! The cosine similarity loss: `-sum(l2_normalize(y_true) * l2_normalize(y_pred))` over the
//! last axis.

use serde::{Deserialize, Serialize};

use super::elementwise::EPSILON;
use super::{LossEntry, LossFunction, Rows};
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;

/// Keras's cosine similarity loss: between -1 (the same direction) and 1 (opposite), 0 for
/// orthogonal vectors or a zero vector. `l2_normalize(x) = x / sqrt(maximum(sum(x**2), 1e-14))`
/// (Keras's `ops.normalize`). Config `{"name": "cosine_similarity", "axis": -1}`: only the last
/// axis is supported.
///
/// Example: `Loss::new(CosineSimilarity { axis: -1 }).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineSimilarity {
    /// The axis of the vectors; only -1.
    #[serde(default = "default_axis")]
    pub axis: i64,
}

fn default_axis() -> i64 {
    -1
}

impl Default for CosineSimilarity {
    fn default() -> CosineSimilarity {
        CosineSimilarity { axis: -1 }
    }
}

impl LossFunction for CosineSimilarity {
    const NAME: &'static str = "cosine_similarity";

    fn validate(&self) -> Result<()> {
        if self.axis != -1 {
            bail!(
                "cosine_similarity: only axis=-1 (the last axis) is supported. Received: axis={}",
                self.axis
            );
        }
        Ok(())
    }

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let Rows {
            y_true,
            y_pred,
            cols,
            losses,
            mut grad,
            ..
        } = rows;
        let floor = EPSILON * EPSILON;
        for (r, row_loss) in losses.iter_mut().enumerate() {
            let span = r * cols..(r + 1) * cols;
            let (t, p) = (&y_true[span.clone()], &y_pred[span.clone()]);
            let (mut tt, mut pp, mut tp) = (0.0f64, 0.0f64, 0.0f64);
            for (&t, &p) in t.iter().zip(p) {
                let (t, p) = (t.as_f64(), p.as_f64());
                tt += t * t;
                pp += p * p;
                tp += t * p;
            }
            let inv_t = 1.0 / tt.max(floor).sqrt();
            let inv_p = 1.0 / pp.max(floor).sqrt();
            *row_loss = T::of(-tp * inv_t * inv_p);
            if let Some(grad) = grad.as_deref_mut() {
                // d/dp_j of -(t.p) inv_t inv_p; inv_p's own derivative, -p_j inv_p^3, only
                // where the squared norm is above its floor.
                let k = if pp > floor { tp * inv_p * inv_p } else { 0.0 };
                for ((g, &t), &p) in grad[span].iter_mut().zip(t).zip(p) {
                    *g = T::of(-inv_t * inv_p * (t.as_f64() - k * p.as_f64()));
                }
            }
        }
    }
}

inventory::submit! { LossEntry::of::<CosineSimilarity>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(t: &[f64], p: &[f64]) -> f64 {
        let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().max(1e-14).sqrt();
        -t.iter().zip(p).map(|(a, b)| a * b).sum::<f64>() / (norm(t) * norm(p))
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 1.0, 1.0]);
        let y_pred = t64(&[2, 2], &[1.0, 0.0, 1.0, 1.0]);
        let got = value(&Loss::new(CosineSimilarity::default()), &y_true, &y_pred);
        assert!(close(got, -0.5, 1e-12), "{got}");
        let zero = t64(&[2, 2], &[0.0; 4]);
        assert_eq!(
            value(
                &Loss::new(CosineSimilarity::default()),
                &zero,
                &y_pred.clone()
            ),
            0.0
        );
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(
            &Loss::new(CosineSimilarity::default()),
            Data::Regression,
            row,
        );
    }

    #[test]
    fn only_the_last_axis() {
        let err = Loss::new(CosineSimilarity { axis: 0 })
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("axis=0"), "{err}");
    }
}

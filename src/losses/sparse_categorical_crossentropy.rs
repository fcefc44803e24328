//! Sparse categorical cross-entropy: `-log p[label]` for integer class labels (given as
//! floats), from probabilities or, stably, from logits (the softmax fused in).

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, clip};
use super::{Loss, LossEntry, LossFunction, Rows, Targets};
use crate::dtype::Element;
use crate::ops::activation::Activation;

/// Categorical cross-entropy of integer labels; config `{"name":
/// "sparse_categorical_crossentropy", "from_logits": false}`.
///
/// Example: `Loss::new(SparseCategoricalCrossentropy { from_logits: true })`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseCategoricalCrossentropy {
    /// Whether `y_pred` holds logits rather than probabilities.
    #[serde(default)]
    pub from_logits: bool,
}

impl LossFunction for SparseCategoricalCrossentropy {
    const NAME: &'static str = "sparse_categorical_crossentropy";
    const TARGETS: Targets = Targets::SparseLabels;

    fn expects_logits(&self) -> bool {
        self.from_logits
    }

    /// From probabilities after a softmax: the same loss from logits.
    fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        match activation {
            Activation::Softmax if !self.from_logits => {
                Some(Loss::new(SparseCategoricalCrossentropy {
                    from_logits: true,
                }))
            }
            _ => None,
        }
    }

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let Rows {
            labels,
            y_pred,
            cols,
            losses,
            mut grad,
            ..
        } = rows;
        let eps = T::of(EPSILON);
        let hi = T::one() - eps;
        for ((r, row_loss), &k) in losses.iter_mut().enumerate().zip(labels) {
            let span = r * cols..(r + 1) * cols;
            let z = &y_pred[span.clone()];
            let g = grad.as_deref_mut().map(|g| &mut g[span]);
            *row_loss = if self.from_logits {
                // logsumexp(z) - z_k; gradient softmax(z) - onehot(k).
                let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
                match g {
                    Some(g) => {
                        let mut sum_exp = T::zero();
                        for (g, &v) in g.iter_mut().zip(z) {
                            let e = (v - max).exp();
                            *g = e;
                            sum_exp += e;
                        }
                        let inv = T::one() / sum_exp;
                        for g in g.iter_mut() {
                            *g *= inv;
                        }
                        g[k] -= T::one();
                        (max - z[k]) + sum_exp.ln()
                    }
                    None => {
                        let sum_exp = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
                        (max - z[k]) + sum_exp.ln()
                    }
                }
            } else {
                // -log(clip(p_k / sum(p))); gradient (onehot(k) g_k - g_k q_k) / sum(p).
                let total: T = z.iter().copied().sum();
                let inv_total = T::one() / total;
                let q = z[k] * inv_total;
                let (c, inside) = clip(q, eps, hi);
                if let Some(g) = g {
                    let gk = if inside { -T::one() / c } else { T::zero() };
                    let shift = -gk * q * inv_total;
                    g.fill(shift);
                    g[k] += gk * inv_total;
                }
                -c.ln()
            }
        }
    }
}

inventory::submit! { LossEntry::of::<SparseCategoricalCrossentropy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::error::Error;
    use crate::losses::testing::{Data, check_large_batch, check_loss, close, t64, value};
    use crate::ops::test_util::randn;
    use crate::storage::Storage;
    use crate::tensor::Tensor;

    fn scce(from_logits: bool) -> Loss {
        Loss::new(SparseCategoricalCrossentropy { from_logits })
    }

    /// `t` is the row's label.
    fn reference(from_logits: bool) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, p| {
            let k = t[0] as usize;
            if from_logits {
                let lse = p.iter().map(|v| v.exp()).sum::<f64>().ln();
                lse - p[k]
            } else {
                let s: f64 = p.iter().sum();
                -(p[k] / s).clamp(EPSILON, 1.0 - EPSILON).ln()
            }
        }
    }

    #[test]
    fn keras_docstring_values() {
        let probs = t64(&[2, 3], &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1]);
        let labels = t64(&[2], &[1.0, 2.0]);
        let per_sample = scce(false)
            .compute_per_sample(&labels, &probs)
            .unwrap()
            .to_f64_vec();
        assert!(close(per_sample[0], -(0.95f64.ln()), 1e-12));
        assert!(close(per_sample[1], -(0.1f64.ln()), 1e-12));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        for from_logits in [false, true] {
            check_loss(&scce(from_logits), Data::Sparse, reference(from_logits));
        }
        check_large_batch(&scce(false), Data::Sparse, reference(false));
    }

    #[test]
    fn fuses_with_a_softmax() {
        let z = randn(&[8, 5], 4).to_f64_vec();
        let z = t64(&[8, 5], &z.iter().map(|v| 4.0 * v).collect::<Vec<_>>());
        let labels: Vec<f64> = (0..8).map(|i| (i % 5) as f64).collect();
        let labels = t64(&[8], &labels);
        let softmax = z.softmax(-1).unwrap();
        let loss = scce(false);
        let fused = loss.fused_with(&Activation::Softmax).unwrap();
        assert!(fused.from_logits());
        let (a, b) = (value(&fused, &labels, &z), value(&loss, &labels, &softmax));
        assert!(close(a, b, 1e-9), "{a} vs {b}");
        assert_eq!(loss.fused_with(&Activation::Linear), None);
        assert_eq!(fused.fused_with(&Activation::Softmax), None);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for dtype in [DType::F32, DType::F64] {
            let z = Tensor::new(
                Storage::from_f64_vec(
                    dtype,
                    &[2, 3],
                    vec![1000.0, -1000.0, 0.0, -1000.0, 1000.0, 1000.0],
                )
                .unwrap(),
                true,
            );
            let labels = t64(&[2], &[1.0, 0.0]);
            let l = scce(true).compute(&labels, &z).unwrap();
            let v = l.item().unwrap();
            assert!(close(v, 2000.0 + 2f64.ln() / 2.0, 1e-6), "{dtype}: {v}");
            l.backward(None, false).unwrap();
            assert!(z.grad().unwrap().data().all_finite());
        }
    }

    #[test]
    fn labels_may_have_a_trailing_one() {
        let probs = t64(&[2, 3], &[0.2, 0.5, 0.3, 0.1, 0.1, 0.8]);
        let a = value(&scce(false), &t64(&[2], &[1.0, 2.0]), &probs);
        let b = value(&scce(false), &t64(&[2, 1], &[1.0, 2.0]), &probs);
        assert_eq!(a, b);
    }

    #[test]
    fn bad_labels_and_shapes_are_named() {
        let probs = t64(&[3, 4], &[0.25; 12]);
        for (bad, shown) in [(4.0, "4"), (-1.0, "-1"), (1.5, "1.5"), (f64::NAN, "NaN")] {
            let labels = t64(&[3], &[0.0, bad, 2.0]);
            let err = scce(false).compute(&labels, &probs).unwrap_err();
            assert!(matches!(err, Error::Value(_)), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains(&format!("label {shown} at position 1"))
                    && message.contains("[0, 4)")
                    && message.contains("sparse_categorical_crossentropy"),
                "{message}"
            );
        }
        let p2 = t64(&[4, 2], &[0.5; 8]);
        let err = scce(true).compute(&t64(&[3], &[0.0; 3]), &p2).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
        let err = scce(true)
            .compute(&t64(&[], &[0.0]), &t64(&[], &[0.0]))
            .unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    }
}

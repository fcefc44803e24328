//! Categorical cross-entropy: `-sum(y log p)` over the class axis (the last), for one-hot (or
//! soft) labels, from probabilities or, stably, from logits (the softmax fused in).

use serde::{Deserialize, Serialize};

use super::binary_crossentropy::validate_label_smoothing;
use super::elementwise::{EPSILON, clip};
use super::{Loss, LossEntry, LossFunction, Rows, Targets};
use crate::dtype::Element;
use crate::error::Result;
use crate::ops::activation::Activation;

/// Categorical cross-entropy with label smoothing; config `{"name":
/// "categorical_crossentropy", "from_logits": false, "label_smoothing": 0.0}`.
///
/// Example: `Loss::new(CategoricalCrossentropy { from_logits: true, label_smoothing: 0.1 })`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalCrossentropy {
    /// Whether `y_pred` holds logits (log-sum-exp form) rather than probabilities (divided by
    /// their sum, then clipped to `[EPSILON, 1 - EPSILON]`).
    #[serde(default)]
    pub from_logits: bool,
    /// In `[0, 1]`: targets become `y * (1 - label_smoothing) + label_smoothing / classes`.
    #[serde(default)]
    pub label_smoothing: f64,
}

impl LossFunction for CategoricalCrossentropy {
    const NAME: &'static str = "categorical_crossentropy";
    const TARGETS: Targets = Targets::Classes;

    fn expects_logits(&self) -> bool {
        self.from_logits
    }

    fn validate(&self) -> Result<()> {
        validate_label_smoothing(Self::NAME, self.label_smoothing)
    }

    /// From probabilities after a softmax: the same loss from logits.
    fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        match activation {
            Activation::Softmax if !self.from_logits => Some(Loss::new(CategoricalCrossentropy {
                from_logits: true,
                ..*self
            })),
            _ => None,
        }
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
        let smoothing = self.label_smoothing;
        let keep = T::of(1.0 - smoothing);
        let spread = T::of(smoothing / cols as f64);
        let target = |t: T| {
            if smoothing == 0.0 {
                t
            } else {
                t * keep + spread
            }
        };
        for (r, row_loss) in losses.iter_mut().enumerate() {
            let span = r * cols..(r + 1) * cols;
            let (t, z) = (&y_true[span.clone()], &y_pred[span.clone()]);
            let g = grad.as_deref_mut().map(|g| &mut g[span]);
            *row_loss = if self.from_logits {
                logits_row(t, z, target, g)
            } else {
                probabilities_row(t, z, target, g)
            };
        }
    }
}

inventory::submit! { LossEntry::of::<CategoricalCrossentropy>() }

/// `sum_i t_i (logsumexp(z) - z_i)`; gradient `softmax(z) * sum(t) - t`.
fn logits_row<T: Element>(t: &[T], z: &[T], target: impl Fn(T) -> T, grad: Option<&mut [T]>) -> T {
    let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let mut loss = T::zero();
    match grad {
        Some(grad) => {
            let mut sum_exp = T::zero();
            for (g, &v) in grad.iter_mut().zip(z) {
                let e = (v - max).exp();
                *g = e;
                sum_exp += e;
            }
            let log_sum = sum_exp.ln();
            let mut target_total = T::zero();
            for (&t, &v) in t.iter().zip(z) {
                let t = target(t);
                loss += t * ((max - v) + log_sum);
                target_total += t;
            }
            let scale = target_total / sum_exp;
            for (g, &t) in grad.iter_mut().zip(t) {
                *g = *g * scale - target(t);
            }
        }
        None => {
            let sum_exp = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
            let log_sum = sum_exp.ln();
            for (&t, &v) in t.iter().zip(z) {
                loss += target(t) * ((max - v) + log_sum);
            }
        }
    }
    loss
}

/// `-sum_i t_i log(clip(p_i / sum(p)))`; the gradient goes through the renormalisation.
fn probabilities_row<T: Element>(
    t: &[T],
    p: &[T],
    target: impl Fn(T) -> T,
    grad: Option<&mut [T]>,
) -> T {
    let eps = T::of(EPSILON);
    let hi = T::one() - eps;
    let total: T = p.iter().copied().sum();
    let inv_total = T::one() / total;
    let mut loss = T::zero();
    match grad {
        Some(grad) => {
            // g_i = d loss / d q_i; then d loss / d p_j = (g_j - sum_i g_i q_i) / sum(p).
            let mut dot = T::zero();
            for ((g, &t), &p) in grad.iter_mut().zip(t).zip(p) {
                let t = target(t);
                let q = p * inv_total;
                let (c, inside) = clip(q, eps, hi);
                loss -= t * c.ln();
                *g = if inside { -t / c } else { T::zero() };
                dot += *g * q;
            }
            for g in grad.iter_mut() {
                *g = (*g - dot) * inv_total;
            }
        }
        None => {
            for (&t, &p) in t.iter().zip(p) {
                let (c, _) = clip(p * inv_total, eps, hi);
                loss -= target(t) * c.ln();
            }
        }
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::error::Error;
    use crate::losses::testing::{
        Data, check_large_batch, check_loss, close, leaf, one_hot, reference_mean, t64, value,
    };
    use crate::ops::test_util::{check_gradients, randn};
    use crate::storage::Storage;
    use crate::tensor::Tensor;

    fn cce(from_logits: bool, label_smoothing: f64) -> Loss {
        Loss::new(CategoricalCrossentropy {
            from_logits,
            label_smoothing,
        })
    }

    fn reference(from_logits: bool, smoothing: f64) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, p| {
            let cols = p.len();
            let s: f64 = p.iter().sum();
            let lse = p.iter().map(|v| v.exp()).sum::<f64>().ln();
            (0..cols)
                .map(|i| {
                    let t = t[i] * (1.0 - smoothing) + smoothing / cols as f64;
                    let log_p = if from_logits {
                        p[i] - lse
                    } else {
                        (p[i] / s).clamp(EPSILON, 1.0 - EPSILON).ln()
                    };
                    -t * log_p
                })
                .sum()
        }
    }

    #[test]
    fn keras_docstring_values() {
        let probs = t64(&[2, 3], &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1]);
        let onehot = t64(&[2, 3], &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let per_sample = cce(false, 0.0)
            .compute_per_sample(&onehot, &probs)
            .unwrap()
            .to_f64_vec();
        assert!(close(per_sample[0], -(0.95f64.ln()), 1e-12));
        assert!(close(per_sample[1], -(0.1f64.ln()), 1e-12));
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        for from_logits in [false, true] {
            for smoothing in [0.0, 0.2] {
                let loss = cce(from_logits, smoothing);
                check_loss(&loss, Data::OneHot, reference(from_logits, smoothing));
            }
        }
        check_large_batch(&cce(true, 0.1), Data::OneHot, reference(true, 0.1));
    }

    #[test]
    fn from_probabilities_renormalises_unnormalised_rows() {
        // Rows that do not sum to one: Keras divides by the sum first.
        let y_pred = leaf(&[2, 3], vec![0.2, 1.0, 0.4, 3.0, 1.0, 2.0]);
        let y_true = t64(&[2, 3], &[0.0, 1.0, 0.0, 0.2, 0.3, 0.5]);
        let loss = cce(false, 0.0);
        let expected = reference_mean(
            reference(false, 0.0),
            &y_true.to_f64_vec(),
            &y_pred.to_f64_vec(),
            3,
            false,
        );
        assert!(close(value(&loss, &y_true, &y_pred), expected, 1e-12));
        check_gradients(std::slice::from_ref(&y_pred), |t| {
            loss.compute(&y_true, &t[0]).unwrap()
        });
    }

    #[test]
    fn fuses_with_a_softmax() {
        let z = randn(&[8, 5], 4).to_f64_vec();
        let z = t64(&[8, 5], &z.iter().map(|v| 4.0 * v).collect::<Vec<_>>());
        let labels: Vec<usize> = (0..8).map(|i| i % 5).collect();
        let onehot = t64(&[8, 5], &one_hot(&labels, 5));
        let softmax = z.softmax(-1).unwrap();
        let loss = cce(false, 0.1);
        let fused = loss.fused_with(&Activation::Softmax).unwrap();
        assert!(fused.from_logits());
        let (a, b) = (value(&fused, &onehot, &z), value(&loss, &onehot, &softmax));
        assert!(close(a, b, 1e-9), "{a} vs {b}");
        assert_eq!(loss.fused_with(&Activation::Linear), None);
        assert_eq!(fused.fused_with(&Activation::Softmax), None);
    }

    #[test]
    fn extreme_logits_and_probabilities_stay_finite() {
        for dtype in [DType::F32, DType::F64] {
            let of = |values: Vec<f64>| {
                Tensor::new(Storage::from_f64_vec(dtype, &[2, 3], values).unwrap(), true)
            };
            let onehot = t64(&[2, 3], &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
            let z = of(vec![1000.0, -1000.0, 0.0, -1000.0, 1000.0, 1000.0]);
            let l = cce(true, 0.0).compute(&onehot, &z).unwrap();
            let v = l.item().unwrap();
            assert!(close(v, 2000.0 + 2f64.ln() / 2.0, 1e-6), "{dtype}: {v}");
            l.backward(None, false).unwrap();
            assert!(z.grad().unwrap().data().all_finite());
            let p = of(vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
            let l = cce(false, 0.0).compute(&onehot, &p).unwrap();
            assert!(l.item().unwrap().is_finite());
            l.backward(None, false).unwrap();
            assert!(p.grad().unwrap().data().all_finite());
        }
    }

    #[test]
    fn needs_a_class_axis_that_is_not_empty() {
        let err = cce(true, 0.0)
            .compute(&t64(&[], &[0.0]), &t64(&[], &[0.0]))
            .unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err:?}");
        let err = cce(true, 0.0)
            .compute(&t64(&[4, 0], &[]), &t64(&[4, 0], &[]))
            .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn label_smoothing_must_be_in_0_1() {
        for bad in [1.5, f64::NAN] {
            let err = cce(true, bad).validate().unwrap_err().to_string();
            assert!(err.contains("label_smoothing"), "{err}");
        }
    }
}

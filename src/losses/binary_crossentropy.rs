//! Binary cross-entropy: `-mean(y log p + (1 - y) log(1 - p))` over the last axis, for 0/1
//! labels (one or several per sample), from probabilities or, stably, from logits.

use serde::{Deserialize, Serialize};

use super::elementwise::{EPSILON, clip, pointwise_rows};
use super::{Loss, LossEntry, LossFunction, Rows};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::ops::activation::Activation;
use crate::ops::unary::UnaryFn;

/// Binary cross-entropy, with `y` smoothed towards 0.5; config `{"name":
/// "binary_crossentropy", "from_logits": false, "label_smoothing": 0.0}`.
///
/// Example: `Loss::new(BinaryCrossentropy { from_logits: true, label_smoothing: 0.0 })`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryCrossentropy {
    /// Whether `y_pred` holds logits (the softplus form, which never overflows) rather than
    /// probabilities (clipped to `[EPSILON, 1 - EPSILON]`).
    #[serde(default)]
    pub from_logits: bool,
    /// In `[0, 1]`: targets become `y * (1 - label_smoothing) + 0.5 * label_smoothing`.
    #[serde(default)]
    pub label_smoothing: f64,
}

impl LossFunction for BinaryCrossentropy {
    const NAME: &'static str = "binary_crossentropy";
    const ALIASES: &'static [&'static str] = &["bce"];

    fn expects_logits(&self) -> bool {
        self.from_logits
    }

    fn validate(&self) -> Result<()> {
        validate_label_smoothing(Self::NAME, self.label_smoothing)
    }

    /// From probabilities after a sigmoid: the same loss from logits.
    fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        match activation {
            Activation::Elementwise(UnaryFn::Sigmoid) if !self.from_logits => {
                Some(Loss::new(BinaryCrossentropy {
                    from_logits: true,
                    ..*self
                }))
            }
            _ => None,
        }
    }

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let smoothing = self.label_smoothing;
        let one = T::one();
        let zero = T::zero();
        if self.from_logits {
            pointwise_rows(rows, |t, p| {
                let t = smooth_binary(t, smoothing);
                // loss = max(z, 0) - z t + log(1 + exp(-|z|)); d/dz = sigmoid(z) - t, with the
                // one exponential shared by both.
                let e = (-p.abs()).exp();
                let loss = p.max(zero) - p * t + e.ln_1p();
                let sigmoid = if p >= zero {
                    one / (one + e)
                } else {
                    e / (one + e)
                };
                (loss, sigmoid - t)
            });
        } else {
            pointwise_rows(rows, |t, p| {
                let t = smooth_binary(t, smoothing);
                let eps = T::of(EPSILON);
                let (q, inside) = clip(p, eps, one - eps);
                let loss = -(t * q.ln() + (one - t) * (one - q).ln());
                let grad = if inside {
                    (one - t) / (one - q) - t / q
                } else {
                    zero
                };
                (loss, grad)
            });
        }
    }
}

inventory::submit! { LossEntry::of::<BinaryCrossentropy>() }

/// `label_smoothing` in `[0, 1]` (the cross-entropies' check).
pub(crate) fn validate_label_smoothing(name: &str, label_smoothing: f64) -> Result<()> {
    if (0.0..=1.0).contains(&label_smoothing) {
        Ok(())
    } else {
        Err(Error::value(format!(
            "{name}: label_smoothing must be between 0 and 1, received \
             label_smoothing={label_smoothing}"
        )))
    }
}

#[inline]
fn smooth_binary<T: Element>(t: T, smoothing: f64) -> T {
    if smoothing == 0.0 {
        t
    } else {
        t * T::of(1.0 - smoothing) + T::of(0.5 * smoothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::losses::testing::{Data, check_large_batch, check_loss, close, t64, value};
    use crate::ops::test_util::randn;
    use crate::storage::Storage;
    use crate::tensor::Tensor;

    pub(crate) fn bce(from_logits: bool, label_smoothing: f64) -> Loss {
        Loss::new(BinaryCrossentropy {
            from_logits,
            label_smoothing,
        })
    }

    fn reference(from_logits: bool, smoothing: f64) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, p| {
            t.iter()
                .zip(p)
                .map(|(&t, &p)| {
                    let t = t * (1.0 - smoothing) + 0.5 * smoothing;
                    let q = if from_logits {
                        1.0 / (1.0 + (-p).exp())
                    } else {
                        p.clamp(EPSILON, 1.0 - EPSILON)
                    };
                    -(t * q.ln() + (1.0 - t) * (1.0 - q).ln())
                })
                .sum::<f64>()
                / t.len() as f64
        }
    }

    #[test]
    fn keras_docstring_values() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let per_sample = bce(false, 0.0)
            .compute_per_sample(&y_true, &y_pred)
            .unwrap()
            .to_f64_vec();
        assert!(close(per_sample[0], 0.916_290_7, 1e-6), "{per_sample:?}");
        assert!(close(per_sample[1], 0.713_558_2, 1e-6), "{per_sample:?}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        for from_logits in [false, true] {
            for smoothing in [0.0, 0.2] {
                let loss = bce(from_logits, smoothing);
                check_loss(&loss, Data::Bits, reference(from_logits, smoothing));
            }
        }
        check_large_batch(&bce(true, 0.0), Data::Bits, reference(true, 0.0));
    }

    #[test]
    fn fuses_with_a_sigmoid_only() {
        let z = randn(&[8, 5], 4).to_f64_vec();
        let z = t64(&[8, 5], &z.iter().map(|v| 4.0 * v).collect::<Vec<_>>());
        let sigmoid = z.sigmoid().unwrap();
        let bits = t64(
            &[8, 5],
            &(0..40)
                .map(|i| (i % 3 == 0) as u8 as f64)
                .collect::<Vec<_>>(),
        );
        let loss = bce(false, 0.1);
        let activation = Activation::Elementwise(UnaryFn::Sigmoid);
        let fused = loss.fused_with(&activation).unwrap();
        assert!(fused.from_logits());
        let (a, b) = (value(&fused, &bits, &z), value(&loss, &bits, &sigmoid));
        assert!(close(a, b, 1e-9), "{a} vs {b}");
        assert_eq!(loss.fused_with(&Activation::Linear), None);
        assert_eq!(fused.fused_with(&activation), None);
        assert_eq!(bce(false, 0.0).fused_with(&Activation::Softmax), None);
    }

    #[test]
    fn extreme_logits_and_probabilities_stay_finite() {
        for dtype in [DType::F32, DType::F64] {
            let of = |values: Vec<f64>| {
                Tensor::new(Storage::from_f64_vec(dtype, &[2, 3], values).unwrap(), true)
            };
            let bits = t64(&[2, 3], &[0.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
            let z = of(vec![1000.0, -1000.0, 0.0, -1000.0, 1000.0, 1000.0]);
            let l = bce(true, 0.0).compute(&bits, &z).unwrap();
            let v = l.item().unwrap();
            assert!(close(v, (4000.0 + 2f64.ln()) / 6.0, 1e-6), "{dtype}: {v}");
            l.backward(None, false).unwrap();
            assert!(z.grad().unwrap().data().all_finite());
            // Probabilities of exactly 0 and 1 are clipped.
            let p = of(vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
            let l = bce(false, 0.0).compute(&bits, &p).unwrap();
            assert!(l.item().unwrap().is_finite());
            l.backward(None, false).unwrap();
            assert!(p.grad().unwrap().data().all_finite());
        }
    }

    #[test]
    fn label_smoothing_must_be_in_0_1() {
        for bad in [-0.1, 1.5, f64::NAN] {
            let err = bce(false, bad).validate().unwrap_err().to_string();
            assert!(err.contains("label_smoothing"), "{err}");
            let y = t64(&[1, 2], &[0.0, 1.0]);
            assert!(
                bce(false, bad)
                    .compute(&y, &t64(&[1, 2], &[0.5; 2]))
                    .is_err()
            );
        }
    }
}

//! The state of Keras's `AUC`: predictions counted into buckets between evenly spaced
//! thresholds, from which the confusion counts at every threshold follow.
//!
//! Keras's thresholds are `[-eps, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + eps]`; a prediction
//! `p` (clipped to `[0, 1]`) is positive at threshold `i` when `p > thresholds[i]`, that is when
//! its bucket `max(ceil(p (n - 1)) - 1, 0)` is at least `i`. Counting buckets makes an update
//! O(batch) instead of O(batch x thresholds).

use super::{AucCurve, divide_no_nan};
use crate::dtype::Element;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Buckets {
    /// Positive labels per bucket.
    positives: Vec<f64>,
    /// Negative labels per bucket.
    negatives: Vec<f64>,
}

fn zeros(n: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::OutOfMemory(format!(
            "auc: cannot allocate the state for num_thresholds={n}"
        ))
    })?;
    v.resize(n, 0.0);
    Ok(v)
}

impl Buckets {
    pub fn new(num_thresholds: usize) -> Result<Buckets> {
        Ok(Buckets {
            positives: zeros(num_thresholds)?,
            negatives: zeros(num_thresholds)?,
        })
    }

    fn len(&self) -> usize {
        self.positives.len()
    }

    /// Counts a batch: a label is positive when non-zero (Keras casts it to bool).
    pub fn add<U: Element, T: Element>(&mut self, y_true: &[U], y_pred: &[T]) {
        let n = self.len();
        let last = n.saturating_sub(1);
        let scale = T::of(last as f64);
        for (&t, &p) in y_true.iter().zip(y_pred) {
            let p = if p < T::zero() {
                T::zero()
            } else if p > T::one() {
                T::one()
            } else {
                p
            };
            // Negative (p = 0) and NaN predictions fall in the first bucket.
            let bucket = ((p * scale).ceil() - T::one())
                .to_usize()
                .unwrap_or(0)
                .min(last);
            if t != U::zero() {
                self.positives[bucket] += 1.0;
            } else {
                self.negatives[bucket] += 1.0;
            }
        }
    }

    pub fn reset(&mut self) {
        self.positives.fill(0.0);
        self.negatives.fill(0.0);
    }

    /// The true and false positives at every threshold (reverse cumulative sums of the
    /// buckets), and the totals of positive and negative labels.
    fn confusion(&self) -> (Vec<f64>, Vec<f64>, f64, f64) {
        let reverse_cumsum = |counts: &[f64]| {
            let mut out = vec![0.0; counts.len()];
            let mut running = 0.0;
            for (o, &c) in out.iter_mut().zip(counts).rev() {
                running += c;
                *o = running;
            }
            out
        };
        let tp = reverse_cumsum(&self.positives);
        let fp = reverse_cumsum(&self.negatives);
        let positives = tp.first().copied().unwrap_or(0.0);
        let negatives = fp.first().copied().unwrap_or(0.0);
        (tp, fp, positives, negatives)
    }

    /// The area under `curve`, with Keras's `summation_method="interpolation"`.
    pub fn area(&self, curve: AucCurve) -> f64 {
        let (tp, fp, positives, negatives) = self.confusion();
        match curve {
            AucCurve::Roc => {
                let recall: Vec<f64> = tp.iter().map(|&t| divide_no_nan(t, positives)).collect();
                let fpr: Vec<f64> = fp.iter().map(|&f| divide_no_nan(f, negatives)).collect();
                (0..self.len().saturating_sub(1))
                    .map(|i| (fpr[i] - fpr[i + 1]) * (recall[i] + recall[i + 1]) / 2.0)
                    .sum()
            }
            AucCurve::Pr => interpolate_pr(&tp, &fp, positives),
        }
    }
}

/// Keras's `interpolate_pr_auc` (Davis & Goadrich 2006): precision interpolated with true and
/// predicted positives varying linearly between thresholds.
fn interpolate_pr(tp: &[f64], fp: &[f64], positives: f64) -> f64 {
    let mut area = 0.0;
    for i in 0..tp.len().saturating_sub(1) {
        let (tp_a, tp_b) = (tp[i], tp[i + 1]);
        let (p_a, p_b) = (tp_a + fp[i], tp_b + fp[i + 1]);
        let dtp = tp_a - tp_b;
        let slope = divide_no_nan(dtp, (p_a - p_b).max(0.0));
        let intercept = tp_b - slope * p_b;
        let ratio = if p_a > 0.0 && p_b > 0.0 {
            divide_no_nan(p_a, p_b.max(0.0))
        } else {
            1.0
        };
        // The positives not yet predicted at threshold i + 1, plus those that are: all of them.
        let false_negatives_b = positives - tp_b;
        area += divide_no_nan(
            slope * (dtp + intercept * ratio.ln()),
            (tp_b + false_negatives_b).max(0.0),
        );
    }
    area
}

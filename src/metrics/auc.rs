//! Keras's `AUC`: the area under the ROC or precision-recall curve, approximated over
//! `num_thresholds` evenly spaced thresholds.
//!
//! The state is predictions counted into buckets between the thresholds, from which the
//! confusion counts at every threshold follow. Keras's thresholds are `[-eps, 1/(n-1),
//! 2/(n-1), ..., (n-2)/(n-1), 1 + eps]`; a prediction `p` (clipped to `[0, 1]`) is positive at
//! threshold `i` when `p > thresholds[i]`, that is when its bucket
//! `max(ceil(p (n - 1)) - 1, 0)` is at least `i`. Counting buckets makes an update
//! O(batch) instead of O(batch x thresholds).

use serde::{Deserialize, Serialize};

use super::{Batch, MetricEntry, MetricFunction, divide_no_nan};
use crate::dtype::Element;
use crate::error::{Error, Result};

/// The area under a curve; config `{"name": "auc", "num_thresholds": 200, "curve": "ROC"}`.
///
/// Example: `Metric::new(MetricKind::new(Auc { num_thresholds: 200, curve: AucCurve::Pr }))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auc {
    /// How many thresholds, more than 1.
    #[serde(default = "default_num_thresholds")]
    pub num_thresholds: usize,
    /// Which curve to integrate.
    #[serde(default)]
    pub curve: AucCurve,
}

/// The most thresholds an AUC takes (its default is 200).
pub const MAX_THRESHOLDS: usize = 1_000_000;

fn default_num_thresholds() -> usize {
    200
}

impl MetricFunction for Auc {
    const NAME: &'static str = "auc";
    type State = Buckets;

    fn validate(&self) -> Result<()> {
        if self.num_thresholds <= 1 {
            return Err(Error::value(format!(
                "auc: num_thresholds must be an integer > 1, received num_thresholds={}",
                self.num_thresholds
            )));
        }
        // A sane bound (Keras has none): the state takes 16 bytes a threshold, so a model file
        // naming a billion would take 16 GB at load, and so many add no precision.
        if self.num_thresholds > MAX_THRESHOLDS {
            return Err(Error::value(format!(
                "auc: num_thresholds must be at most {MAX_THRESHOLDS}, received num_thresholds={}",
                self.num_thresholds
            )));
        }
        Ok(())
    }

    fn new_state(&self) -> Result<Buckets> {
        Buckets::new(self.num_thresholds)
    }

    fn update<U: Element, T: Element>(
        &self,
        buckets: &mut Buckets,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        batch.same_shape()?;
        buckets.add(&batch.y_true, &batch.y_pred);
        Ok(())
    }

    fn result(&self, buckets: &Buckets) -> f64 {
        buckets.area(self.curve)
    }

    fn reset(&self, buckets: &mut Buckets) {
        buckets.reset();
    }
}

inventory::submit! { MetricEntry::of::<Auc>() }

/// Which curve `Auc` integrates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AucCurve {
    /// The receiver operating characteristic: recall against the false-positive rate.
    #[default]
    #[serde(rename = "ROC")]
    Roc,
    /// Precision against recall.
    #[serde(rename = "PR")]
    Pr,
}

impl AucCurve {
    /// `"ROC"` or `"PR"`, in any case.
    pub fn parse(name: &str) -> Result<AucCurve> {
        match name.to_ascii_uppercase().as_str() {
            "ROC" => Ok(AucCurve::Roc),
            "PR" => Ok(AucCurve::Pr),
            _ => Err(Error::value(format!(
                "auc: curve must be 'ROC' or 'PR', received curve={name:?}"
            ))),
        }
    }

    /// `"ROC"` or `"PR"`.
    pub fn name(self) -> &'static str {
        match self {
            AucCurve::Roc => "ROC",
            AucCurve::Pr => "PR",
        }
    }
}

/// The positive and negative labels counted per bucket of predictions.
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
    /// Empty buckets for `num_thresholds` thresholds.
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

impl super::summed_state::SummedState for Buckets {
    fn sums(&self) -> Vec<f64> {
        [self.positives.as_slice(), &self.negatives].concat()
    }

    fn set_sums(&mut self, sums: &[f64]) -> usize {
        super::summed_state::fill(&mut [&mut self.positives, &mut self.negatives], sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{check_binary_metric, close, once, s};
    use crate::metrics::{Metric, MetricKind};

    fn auc(num_thresholds: usize, curve: AucCurve) -> MetricKind {
        MetricKind::new(Auc {
            num_thresholds,
            curve,
        })
    }

    #[test]
    fn keras_docstring_value() {
        let v = once(
            auc(3, AucCurve::Roc),
            &s(&[4], &[0.0, 0.0, 1.0, 1.0]),
            &s(&[4], &[0.0, 0.5, 0.3, 0.9]),
        );
        assert!(close(v, 0.75), "{v}");
    }

    #[test]
    fn a_perfect_ranking_has_auc_one_and_pr_auc_one() {
        let y = s(&[6], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let p = s(&[6], &[0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
        for curve in [AucCurve::Roc, AucCurve::Pr] {
            let v = once(auc(200, curve), &y, &p);
            assert!(close(v, 1.0), "{curve:?}: {v}");
        }
        // Constant predictions: the ROC diagonal.
        let v = once(auc(200, AucCurve::Roc), &y, &s(&[6], &[0.5; 6]));
        assert!(close(v, 0.5), "{v}");
    }

    #[test]
    fn streams_and_accepts_n_against_n_by_1() {
        check_binary_metric(auc(200, AucCurve::Roc));
        check_binary_metric(auc(17, AucCurve::Pr));
        check_binary_metric(auc(50, AucCurve::Roc));
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let message = Metric::new(auc(1, AucCurve::Roc)).unwrap_err().to_string();
        assert!(message.contains("num_thresholds"), "{message}");
        assert_eq!(AucCurve::parse("pr").unwrap(), AucCurve::Pr);
        assert!(AucCurve::parse("PRGAIN").is_err());
        assert_eq!(AucCurve::Pr.name(), "PR");
    }
}

//! The F1 score (Keras's `F1Score`, an `FBetaScore` with `beta = 1`), accumulated over batches.

use serde::{Deserialize, Serialize};

use super::{Batch, MetricEntry, MetricFunction};
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;
use crate::losses::EPSILON;

/// Keras's `F1Score` for `(samples, classes)` labels and predictions. Predictions are turned
/// into 0/1: above `threshold`, or, without one, equal to the largest of their row (and not
/// about 0). Per class, `f1 = 2 p r / (p + r + 1e-7)` with `p = tp / (tp + fp + 1e-7)` and
/// `r = tp / (tp + fn + 1e-7)`; `"micro"` pools the counts of every class first, `"macro"`
/// averages the classes' scores and `"weighted"` weighs them by their number of true labels.
/// Config `{"name": "f1_score", "average": "macro", "threshold": null}` (`"macro"` by default:
/// Keras's default, None, gives one score per class, which is refused here since a metric
/// reports one number; the Python `F1Score(average=None)` computes it by itself).
///
/// Example: `Metric::new(MetricKind::new(F1Score { average: Some("macro".into()), threshold: None }))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct F1Score {
    /// `"micro"`, `"macro"` or `"weighted"`; the config's default (what the name `"f1_score"`
    /// gives) is `"macro"`.
    #[serde(default = "default_average")]
    pub average: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
}

fn default_average() -> Option<String> {
    Some("macro".into())
}

/// Per class: true positives, false positives, false negatives and true labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct F1State {
    tp: Vec<f64>,
    fp: Vec<f64>,
    fn_: Vec<f64>,
    support: Vec<f64>,
}

fn f1(tp: f64, fp: f64, fn_: f64) -> f64 {
    let precision = tp / (tp + fp + EPSILON);
    let recall = tp / (tp + fn_ + EPSILON);
    2.0 * (precision * recall / (precision + recall + EPSILON))
}

impl MetricFunction for F1Score {
    const NAME: &'static str = "f1_score";
    type State = F1State;

    fn validate(&self) -> Result<()> {
        match self.average.as_deref() {
            Some("micro" | "macro" | "weighted") => {}
            None => bail!(
                "f1_score: average=None gives one score per class, but a metric in compile() \
                 reports one number: use average='micro', 'macro' or 'weighted'"
            ),
            Some(other) => bail!(
                "Invalid `average` argument value. Expected one of: {{None, 'micro', 'macro', \
                 'weighted'}}. Received: average={other}"
            ),
        }
        if let Some(t) = self.threshold
            && !(t > 0.0 && t <= 1.0)
        {
            bail!(
                "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. \
                 Received: threshold={t}"
            );
        }
        Ok(())
    }

    fn new_state(&self) -> Result<F1State> {
        Ok(F1State::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        state: &mut F1State,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        if batch.true_shape != batch.pred_shape || batch.pred_shape.len() != 2 {
            return Err(batch
                .mismatch("F1Score expects 2D inputs of the same shape (batch_size, output_dim)"));
        }
        let classes = batch.pred_shape[1];
        if !state.tp.is_empty() && state.tp.len() != classes {
            return Err(batch.mismatch("F1Score: the number of classes changed"));
        }
        if state.tp.is_empty() {
            *state = F1State {
                tp: vec![0.0; classes],
                fp: vec![0.0; classes],
                fn_: vec![0.0; classes],
                support: vec![0.0; classes],
            };
        }
        if classes == 0 {
            return Ok(());
        }
        let rows = batch
            .y_true
            .chunks(classes)
            .zip(batch.y_pred.chunks(classes));
        for (t, p) in rows {
            let max = p
                .iter()
                .map(|v| v.as_f64())
                .fold(f64::NEG_INFINITY, f64::max);
            for (j, (&t, &p)) in t.iter().zip(p).enumerate() {
                let (t, p) = (t.as_f64(), p.as_f64());
                let predicted = match self.threshold {
                    Some(threshold) => p > threshold,
                    None => p >= max && p.abs() > 1e-9,
                };
                let p = predicted as u8 as f64;
                state.tp[j] += p * t;
                state.fp[j] += p * (1.0 - t);
                state.fn_[j] += (1.0 - p) * t;
                state.support[j] += t;
            }
        }
        Ok(())
    }

    fn result(&self, s: &F1State) -> f64 {
        if s.tp.is_empty() {
            return 0.0;
        }
        let per_class = s.tp.iter().zip(&s.fp).zip(&s.fn_);
        match self.average.as_deref() {
            Some("micro") => {
                let sum = |v: &[f64]| v.iter().sum::<f64>();
                f1(sum(&s.tp), sum(&s.fp), sum(&s.fn_))
            }
            Some("weighted") => {
                let total: f64 = s.support.iter().sum::<f64>() + EPSILON;
                per_class
                    .zip(&s.support)
                    .map(|(((&tp, &fp), &fn_), w)| f1(tp, fp, fn_) * (w / total))
                    .sum()
            }
            _ => {
                per_class
                    .map(|((&tp, &fp), &fn_)| f1(tp, fp, fn_))
                    .sum::<f64>()
                    / s.tp.len() as f64
            }
        }
    }

    fn reset(&self, state: &mut F1State) {
        *state = F1State::default();
    }
}

inventory::submit! { MetricEntry::of::<F1Score>() }

impl super::summed_state::SummedState for F1State {
    fn sums(&self) -> Vec<f64> {
        [self.tp.as_slice(), &self.fp, &self.fn_, &self.support].concat()
    }

    fn set_sums(&mut self, sums: &[f64]) -> usize {
        let parts = &mut [&mut self.tp, &mut self.fp, &mut self.fn_, &mut self.support];
        super::summed_state::fill(parts, sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{once, s};
    use crate::metrics::{Metric, MetricKind};

    fn kind(average: &str, threshold: Option<f64>) -> MetricKind {
        MetricKind::new(F1Score {
            average: Some(average.into()),
            threshold,
        })
    }

    #[test]
    fn keras_docstring_value() {
        // Keras: F1Score(threshold=0.5) on these gives [0.5, 0.8, 0.6666667] per class.
        let y = s(&[3, 3], &[1., 1., 1., 1., 0., 0., 1., 1., 0.]);
        let p = s(&[3, 3], &[0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0]);
        let per_class = [0.5, 0.8, 0.6666667];
        let macro_ = once(kind("macro", Some(0.5)), &y, &p);
        let expected = per_class.iter().sum::<f64>() / 3.0;
        assert!((macro_ - expected).abs() < 1e-6, "{macro_} vs {expected}");
        // Micro: tp = 1 + 2 + 1, fp = 0 + 1 + 1, fn = 2 + 0 + 0.
        let micro = once(kind("micro", Some(0.5)), &y, &p);
        assert!((micro - 2.0 / 3.0).abs() < 1e-6, "{micro}");
        // Weighted by the true labels: 3, 2, 1.
        let weighted = once(kind("weighted", Some(0.5)), &y, &p);
        let w = (3.0 * 0.5 + 2.0 * 0.8 + 0.6666667) / 6.0;
        assert!((weighted - w).abs() < 1e-6, "{weighted}");
    }

    #[test]
    fn streams_and_the_arg_max_rule() {
        let y = [0., 1., 1., 0., 0., 1., 1., 0.];
        let p = [0.3, 0.7, 0.6, 0.4, 0.8, 0.2, 0.0, 0.0];
        let all = once(kind("macro", None), &s(&[4, 2], &y), &s(&[4, 2], &p));
        let mut m = Metric::new(kind("macro", None)).unwrap();
        m.update(&s(&[2, 2], &y[..4]), &s(&[2, 2], &p[..4]))
            .unwrap();
        m.update(&s(&[2, 2], &y[4..]), &s(&[2, 2], &p[4..]))
            .unwrap();
        assert_eq!(m.result(), all);
        // Predicted: class 1, class 0, class 0, none (all zero): class 0 tp 1 fp 1 fn 1, class
        // 1 tp 1 fp 0 fn 1.
        let expected = (f1(1.0, 1.0, 1.0) + f1(1.0, 0.0, 1.0)) / 2.0;
        assert!((all - expected).abs() < 1e-12);
        m.reset();
        assert_eq!(m.result(), 0.0);
    }

    #[test]
    fn arguments_are_checked() {
        let none = F1Score {
            average: None,
            threshold: None,
        };
        let err = MetricKind::new(none).validate().unwrap_err().to_string();
        assert!(err.contains("average=None"), "{err}");
        let err = kind("macro", Some(0.0)).validate().unwrap_err().to_string();
        assert!(err.contains("threshold=0"), "{err}");
    }
}

//! The coefficient of determination, R², accumulated over batches for each output column.

use serde::{Deserialize, Serialize};

use super::{Batch, MetricEntry, MetricFunction};
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;

/// Keras's `R2Score`: for each output column, `1 - sum((y - p)^2) / sum((y - mean(y))^2)` over
/// every sample seen (a column of constant labels scores 0 where the division gives infinity,
/// NaN for 0/0, as Keras's), then averaged over the columns: uniformly
/// (`"uniform_average"`) or weighted by each column's variance
/// (`"variance_weighted_average"`). With `num_regressors = p > 0` and `n` samples, the adjusted
/// score `1 - (1 - r2) (n - 1) / (n - p - 1)` (when `p < n - 1`). Inputs are `(samples,
/// outputs)`, or `(samples,)` for one output. Config `{"name": "r2_score", "class_aggregation":
/// "uniform_average", "num_regressors": 0}`; `class_aggregation` None (one score per output)
/// is not supported, since a metric reports one number.
///
/// Example: `Metric::new(MetricKind::new(R2Score::default()))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct R2Score {
    #[serde(default = "default_aggregation")]
    pub class_aggregation: Option<String>,
    #[serde(default)]
    pub num_regressors: i64,
}

fn default_aggregation() -> Option<String> {
    Some("uniform_average".into())
}

impl Default for R2Score {
    fn default() -> Self {
        R2Score {
            class_aggregation: default_aggregation(),
            num_regressors: 0,
        }
    }
}

/// Per output column: the sums of the labels, of their squares and of the squared errors, and
/// the number of samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct R2State {
    sum: Vec<f64>,
    squared_sum: Vec<f64>,
    residual: Vec<f64>,
    samples: f64,
}

impl MetricFunction for R2Score {
    const NAME: &'static str = "r2_score";
    type State = R2State;

    fn validate(&self) -> Result<()> {
        match self.class_aggregation.as_deref() {
            Some("uniform_average" | "variance_weighted_average") => {}
            None => bail!(
                "r2_score: class_aggregation=None (one score per output) is not supported: a \
                 metric reports one number. Use 'uniform_average' or 'variance_weighted_average'"
            ),
            Some(other) => bail!(
                "Invalid value for argument `class_aggregation`. Expected one of (None, \
                 'uniform_average', 'variance_weighted_average'). Received: \
                 class_aggregation={other}"
            ),
        }
        if self.num_regressors < 0 {
            bail!(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. Received: \
                 num_regressors={}",
                self.num_regressors
            );
        }
        Ok(())
    }

    fn new_state(&self) -> Result<R2State> {
        Ok(R2State::default())
    }

    fn update<U: Element, T: Element>(
        &self,
        state: &mut R2State,
        batch: &Batch<'_, U, T>,
    ) -> Result<()> {
        let shape = batch.same_shape()?;
        let outputs = match shape.len() {
            1 => 1,
            2 => shape[1],
            _ => {
                return Err(batch.mismatch(
                    "R2Score expects inputs of shape (batch_size, output_dim) or (batch_size,)",
                ));
            }
        };
        if !state.sum.is_empty() && state.sum.len() != outputs {
            return Err(
                batch.mismatch("R2Score: the number of outputs changed since the first batch")
            );
        }
        if state.sum.is_empty() {
            *state = R2State {
                sum: vec![0.0; outputs],
                squared_sum: vec![0.0; outputs],
                residual: vec![0.0; outputs],
                samples: 0.0,
            };
        }
        if outputs == 0 {
            return Ok(());
        }
        let rows = batch
            .y_true
            .chunks(outputs)
            .zip(batch.y_pred.chunks(outputs));
        for (t, p) in rows {
            for (j, (&t, &p)) in t.iter().zip(p).enumerate() {
                let (t, p) = (t.as_f64(), p.as_f64());
                state.sum[j] += t;
                state.squared_sum[j] += t * t;
                state.residual[j] += (t - p) * (t - p);
            }
            state.samples += 1.0;
        }
        Ok(())
    }

    fn result(&self, state: &R2State) -> f64 {
        let n = state.samples;
        if state.sum.is_empty() || n == 0.0 {
            return 0.0;
        }
        let totals: Vec<f64> = state
            .sum
            .iter()
            .zip(&state.squared_sum)
            .map(|(s, sq)| sq - s * (s / n))
            .collect();
        let raw: Vec<f64> = totals
            .iter()
            .zip(&state.residual)
            .map(|(total, res)| {
                let r = 1.0 - res / total;
                if r.is_infinite() { 0.0 } else { r }
            })
            .collect();
        let r2 = if self.class_aggregation.as_deref() == Some("variance_weighted_average") {
            let weighted: f64 = totals.iter().zip(&raw).map(|(t, r)| t * r).sum();
            weighted / totals.iter().sum::<f64>()
        } else {
            raw.iter().sum::<f64>() / raw.len() as f64
        };
        let p = self.num_regressors as f64;
        if p != 0.0 && p < n - 1.0 {
            1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
        } else {
            r2
        }
    }

    fn reset(&self, state: &mut R2State) {
        *state = R2State::default();
    }
}

inventory::submit! { MetricEntry::of::<R2Score>() }

impl super::summed_state::SummedState for R2State {
    fn sums(&self) -> Vec<f64> {
        let mut sums = [self.sum.as_slice(), &self.squared_sum, &self.residual].concat();
        sums.push(self.samples);
        sums
    }

    fn set_sums(&mut self, sums: &[f64]) -> usize {
        let parts = &mut [&mut self.sum, &mut self.squared_sum, &mut self.residual];
        let read = super::summed_state::fill(parts, sums);
        self.samples = sums[read];
        read + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testing::{close, once, s};
    use crate::metrics::{Metric, MetricKind};

    #[test]
    fn keras_docstring_value() {
        let v = once(
            MetricKind::new(R2Score::default()),
            &s(&[4, 1], &[1.0, 4.0, 3.0, 2.0]),
            &s(&[4, 1], &[2.0, 4.0, 4.0, 1.0]),
        );
        // By hand: mean 2.5, total 5, residual 1 + 0 + 1 + 1 = 3: 1 - 3/5.
        assert!(close(v, 0.4), "{v}");
    }

    #[test]
    fn streams_and_aggregates() {
        let kind = MetricKind::new(R2Score {
            class_aggregation: Some("variance_weighted_average".into()),
            num_regressors: 1,
        });
        let t = [1.0, 10.0, 2.0, 30.0, 4.0, 20.0, 3.0, 0.0];
        let p = [1.5, 12.0, 2.0, 25.0, 3.0, 18.0, 3.5, 2.0];
        let all = once(kind.clone(), &s(&[4, 2], &t), &s(&[4, 2], &p));
        let mut m = Metric::new(kind).unwrap();
        m.update(&s(&[1, 2], &t[..2]), &s(&[1, 2], &p[..2]))
            .unwrap();
        m.update(&s(&[3, 2], &t[2..]), &s(&[3, 2], &p[2..]))
            .unwrap();
        assert!((m.result() - all).abs() < 1e-12);
        // By hand.
        let col = |j: usize| {
            let y: Vec<f64> = (0..4).map(|i| t[2 * i + j]).collect();
            let mean = y.iter().sum::<f64>() / 4.0;
            let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
            let res: f64 = (0..4).map(|i| (t[2 * i + j] - p[2 * i + j]).powi(2)).sum();
            (total, 1.0 - res / total)
        };
        let ((t0, r0), (t1, r1)) = (col(0), col(1));
        let r2 = (t0 * r0 + t1 * r1) / (t0 + t1);
        let adjusted = 1.0 - (1.0 - r2) * 3.0 / 2.0;
        assert!((all - adjusted).abs() < 1e-12, "{all} vs {adjusted}");
        m.reset();
        assert_eq!(m.result(), 0.0);
    }

    #[test]
    fn arguments_are_checked() {
        let none = R2Score {
            class_aggregation: None,
            num_regressors: 0,
        };
        assert!(MetricKind::new(none).validate().is_err());
        let negative = R2Score {
            num_regressors: -1,
            ..R2Score::default()
        };
        let err = MetricKind::new(negative).validate().unwrap_err();
        assert!(err.to_string().contains("num_regressors=-1"), "{err}");
    }
}

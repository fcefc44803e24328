//! Categorical focal cross-entropy (Lin et al., 2018): the categorical cross-entropy of each
//! class weighted by `alpha * (1 - p)**gamma`, which down-weights well-classified samples.

use serde::{Deserialize, Serialize};

use super::binary_crossentropy::validate_label_smoothing;
use super::elementwise::EPSILON;
use super::{LossEntry, LossFunction, Rows, Targets};
use crate::bail;
use crate::dtype::Element;
use crate::error::Result;

/// Keras's `categorical_focal_crossentropy`: targets smoothed to `y * (1 - label_smoothing) +
/// label_smoothing / classes`; predictions softmaxed when `from_logits`, divided by their sum
/// and clipped to `[1e-7, 1 - 1e-7]` (`o`); the loss is
/// `sum(alpha * (1 - o)**gamma * -y * log(o))` over the class axis (the last). Config
/// `{"name": "categorical_focal_crossentropy", "alpha": 0.25, "gamma": 2.0, "from_logits": false,
/// "label_smoothing": 0.0}`.
///
/// Example: `Loss::new(CategoricalFocalCrossentropy::default())`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalFocalCrossentropy {
    /// The weight of every class's term.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// The focusing exponent, `>= 0` (0 gives `alpha` times the cross-entropy).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Whether `y_pred` holds logits.
    #[serde(default)]
    pub from_logits: bool,
    /// In `[0, 1]`.
    #[serde(default)]
    pub label_smoothing: f64,
}

fn default_alpha() -> f64 {
    0.25
}

fn default_gamma() -> f64 {
    2.0
}

impl Default for CategoricalFocalCrossentropy {
    /// Keras's defaults.
    fn default() -> Self {
        CategoricalFocalCrossentropy {
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
        }
    }
}

impl LossFunction for CategoricalFocalCrossentropy {
    const NAME: &'static str = "categorical_focal_crossentropy";
    const TARGETS: Targets = Targets::Classes;

    fn expects_logits(&self) -> bool {
        self.from_logits
    }

    fn validate(&self) -> Result<()> {
        if !self.alpha.is_finite() {
            bail!(
                "{}: alpha must be a finite number. Received: alpha={}",
                Self::NAME,
                self.alpha
            );
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            bail!(
                "{}: gamma must be >= 0. Received: gamma={}",
                Self::NAME,
                self.gamma
            );
        }
        validate_label_smoothing(Self::NAME, self.label_smoothing)
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
        let CategoricalFocalCrossentropy {
            alpha,
            gamma,
            from_logits,
            label_smoothing,
        } = *self;
        let mut y = vec![0.0f64; cols];
        let mut dy = vec![0.0f64; cols];
        for (r, row_loss) in losses.iter_mut().enumerate() {
            let span = r * cols..(r + 1) * cols;
            let (t, z) = (&y_true[span.clone()], &y_pred[span.clone()]);
            // y: the normalized predictions (softmax of the logits, or p / sum(p)).
            let sum = if from_logits {
                let max = z
                    .iter()
                    .map(|v| v.as_f64())
                    .fold(f64::NEG_INFINITY, f64::max);
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = (z.as_f64() - max).exp();
                }
                let s: f64 = y.iter().sum();
                y.iter_mut().for_each(|y| *y /= s);
                1.0
            } else {
                let s: f64 = z.iter().map(|v| v.as_f64()).sum();
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = z.as_f64() / s;
                }
                s
            };
            let mut total = 0.0;
            for ((dy, &y), &t) in dy.iter_mut().zip(&y).zip(t) {
                let t = t.as_f64() * (1.0 - label_smoothing) + label_smoothing / cols as f64;
                let inside = (EPSILON..=1.0 - EPSILON).contains(&y);
                let o = y.clamp(EPSILON, 1.0 - EPSILON);
                let ce = -t * o.ln();
                let factor = alpha * (1.0 - o).powf(gamma);
                total += factor * ce;
                // d/do of alpha (1 - o)^gamma (-t log o).
                *dy = if inside {
                    let d_factor = if gamma == 0.0 {
                        0.0
                    } else {
                        -alpha * gamma * (1.0 - o).powf(gamma - 1.0)
                    };
                    d_factor * ce - factor * t / o
                } else {
                    0.0
                };
            }
            *row_loss = T::of(total);
            if let Some(grad) = grad.as_deref_mut() {
                // Through the normalization (and the softmax): the same projection, scaled by
                // y for logits and by 1 / sum for probabilities.
                let dot: f64 = dy.iter().zip(&y).map(|(d, y)| d * y).sum();
                for ((g, &d), &y) in grad[span].iter_mut().zip(&dy).zip(&y) {
                    *g = T::of(if from_logits {
                        y * (d - dot)
                    } else {
                        (d - dot) / sum
                    });
                }
            }
        }
    }
}

inventory::submit! { LossEntry::of::<CategoricalFocalCrossentropy>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn row(loss: CategoricalFocalCrossentropy) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, z| {
            let y: Vec<f64> = if loss.from_logits {
                let e: Vec<f64> = z.iter().map(|v| v.exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter().map(|v| v / s).collect()
            } else {
                let s: f64 = z.iter().sum();
                z.iter().map(|v| v / s).collect()
            };
            let k = t.len() as f64;
            t.iter()
                .zip(&y)
                .map(|(&t, &y)| {
                    let t = t * (1.0 - loss.label_smoothing) + loss.label_smoothing / k;
                    let o = y.clamp(1e-7, 1.0 - 1e-7);
                    loss.alpha * (1.0 - o).powf(loss.gamma) * -t * o.ln()
                })
                .sum()
        }
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 3], &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let y_pred = t64(&[2, 3], &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1]);
        let got = value(
            &Loss::new(CategoricalFocalCrossentropy::default()),
            &y_true,
            &y_pred,
        );
        assert!(close(got, 0.23315276, 1e-6), "{got}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        for (from_logits, label_smoothing, gamma) in [
            (false, 0.0, 2.0),
            (true, 0.0, 2.0),
            (false, 0.2, 1.5),
            (true, 0.1, 0.0),
        ] {
            let loss = CategoricalFocalCrossentropy {
                alpha: 0.4,
                gamma,
                from_logits,
                label_smoothing,
            };
            check_loss(&Loss::new(loss), Data::OneHot, row(loss));
        }
    }

    #[test]
    fn validation() {
        let bad = CategoricalFocalCrossentropy {
            gamma: -1.0,
            ..Default::default()
        };
        let err = Loss::new(bad).validate().unwrap_err().to_string();
        assert!(err.contains("gamma=-1"), "{err}");
    }
}

//! The Huber loss: quadratic for errors up to `delta`, linear beyond, averaged over the last
//! axis.

use serde::{Deserialize, Serialize};

use super::elementwise::pointwise_rows;
use super::{LossEntry, LossFunction, Rows};
use crate::dtype::Element;
use crate::error::{Error, Result};

/// `0.5 * e**2` for errors `|e| <= delta`, `delta * |e| - 0.5 * delta**2` beyond; config
/// `{"name": "huber", "delta": 1.0}`.
///
/// Example: `Loss::new(Huber { delta: 1.0 }).compute(&y_true, &y_pred)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear; positive.
    #[serde(default = "default_delta")]
    pub delta: f64,
}

fn default_delta() -> f64 {
    1.0
}

impl LossFunction for Huber {
    const NAME: &'static str = "huber";

    fn validate(&self) -> Result<()> {
        let delta = self.delta;
        if delta.is_finite() && delta > 0.0 {
            Ok(())
        } else {
            Err(Error::value(format!(
                "huber: delta must be a positive number, received delta={delta}"
            )))
        }
    }

    fn rows<T: Element>(&self, rows: Rows<'_, T>) {
        let delta = self.delta;
        pointwise_rows(rows, |t, p| {
            let delta = T::of(delta);
            let half = T::of(0.5);
            let d = p - t;
            if d.abs() <= delta {
                (half * d * d, d)
            } else {
                (delta * d.abs() - half * delta * delta, delta * d.signum())
            }
        });
    }
}

inventory::submit! { LossEntry::of::<Huber>() }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::testing::{Data, check_loss, close, t64, value};

    fn reference(delta: f64) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |t, p| {
            t.iter()
                .zip(p)
                .map(|(t, p)| {
                    let d = (p - t).abs();
                    if d <= delta {
                        0.5 * d * d
                    } else {
                        delta * d - 0.5 * delta * delta
                    }
                })
                .sum::<f64>()
                / t.len() as f64
        }
    }

    #[test]
    fn keras_docstring_value() {
        let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
        let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
        let huber = value(&Loss::new(Huber { delta: 1.0 }), &y_true, &y_pred);
        assert!(close(huber, 0.155, 1e-9), "{huber}");
    }

    #[test]
    fn matches_the_reference_with_its_gradients() {
        check_loss(
            &Loss::new(Huber { delta: 0.3 }),
            Data::Regression,
            reference(0.3),
        );
    }

    #[test]
    fn delta_must_be_positive() {
        for delta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = Loss::new(Huber { delta }).validate().unwrap_err();
            assert!(err.to_string().contains("delta"), "{err}");
        }
        assert_eq!(
            Loss::parse("huber").unwrap(),
            Loss::new(Huber { delta: 1.0 })
        );
    }
}

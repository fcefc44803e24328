//! Stochastic gradient descent, with optional (Nesterov) momentum (Keras 3's
//! `keras/src/optimizers/sgd.py`).

use serde::{Deserialize, Serialize};

use super::checks::check_unit_closed;
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// `w -= lr * g`; with momentum `m = momentum * m - lr * g; w += m`, and with Nesterov
/// `w += momentum * m - lr * g`.
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{OptimizerConfig, Schedule, Sgd};
///
/// let config = OptimizerConfig::new(Sgd { momentum: 0.9, nesterov: true }, Schedule::constant(0.01));
/// assert_eq!(config.rule.name(), "sgd");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sgd {
    pub momentum: f64,
    pub nesterov: bool,
}

impl Default for Sgd {
    /// Keras's defaults: no momentum.
    fn default() -> Sgd {
        Sgd {
            momentum: 0.0,
            nesterov: false,
        }
    }
}

impl OptimizerRule for Sgd {
    const NAME: &'static str = "sgd";

    fn validate(&self) -> Result<()> {
        check_unit_closed("momentum", self.momentum)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum == 0.0 {
            &[]
        } else {
            &["momentum"]
        }
    }

    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        s: Slots<'_, T>,
        prep: GradPrep<T>,
        lr: f64,
        _t: u64,
    ) {
        let lr = T::of(lr);
        let nesterov = self.nesterov;
        if self.momentum == 0.0 {
            fused(w, g, s, move |w, g, _| {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w = prep.weight(*w) - prep.grad(g) * lr;
                }
            });
        } else {
            let mu = T::of(self.momentum);
            fused(w, g, s, move |w, g, [m, ..]| {
                for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                    let g = prep.grad(g);
                    *m = *m * mu - g * lr;
                    let step = if nesterov { *m * mu - g * lr } else { *m };
                    *w = prep.weight(*w) + step;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    #[test]
    fn momentum_by_hand() {
        let rule = Sgd {
            momentum: 0.5,
            nesterov: false,
        };
        let mut w = [1.0];
        run(&rule, &mut w, &[2.0], 2, 0.1);
        // m1 = -0.2, w1 = 0.8; m2 = -0.1 - 0.2 = -0.3, w2 = 0.5.
        assert!((w[0] - 0.5).abs() < 1e-15);
        let nesterov = Sgd {
            momentum: 0.5,
            nesterov: true,
        };
        let mut w = [1.0];
        run(&nesterov, &mut w, &[2.0], 1, 0.1);
        // m1 = -0.2; w1 = 1 + (0.5 * -0.2 - 0.2) = 0.7.
        assert!((w[0] - 0.7).abs() < 1e-15);
    }

    #[test]
    fn plain_sgd_has_no_slot_and_needs_both_fields() {
        assert!(Sgd::default().slot_names().is_empty());
        let rule: crate::optimizers::UpdateRule =
            serde_json::from_str(r#"{"name":"sgd","momentum":0.9,"nesterov":false}"#).unwrap();
        assert_eq!(rule.slot_names(), ["momentum"]);
        let missing =
            serde_json::from_str::<crate::optimizers::UpdateRule>(r#"{"name":"sgd","momentum":0}"#);
        assert!(missing.is_err());
        let bad = Sgd {
            momentum: 1.5,
            nesterov: false,
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("momentum=1.5")
        );
    }
}

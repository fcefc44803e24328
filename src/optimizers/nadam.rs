//! Nadam: Adam with Nesterov momentum (Keras 3's `keras/src/optimizers/nadam.py`).

use serde::{Deserialize, Serialize};

use super::checks::{check_positive, check_unit_open};
use super::clipping::GradPrep;
use super::fused::{Slots, fused};
use super::rule::OptimizerRule;
use crate::dtype::Element;
use crate::error::Result;

/// Keras's momentum schedule: `u_t = beta_1 * (1 - 0.5 * 0.96^t)`.
fn momentum_at(beta_1: f64, t: f64) -> f64 {
    beta_1 * (1.0 - 0.5 * 0.96f64.powf(t))
}

/// `prod_{i=1..t} u_i`, the product Keras keeps in its `_u_product` variable. It is a function
/// of `t` alone, so it is computed here instead of being stored: `beta_1^t` times the product of
/// `1 - 0.5 * 0.96^i`, whose factors equal 1 in f64 from `i = 1000` on (`0.96^1000 < 1e-17`).
fn momentum_product(beta_1: f64, t: u64) -> f64 {
    let tail: f64 = (1..=t.min(1000))
        .map(|i| 1.0 - 0.5 * 0.96f64.powf(i as f64))
        .product();
    beta_1.powf(t as f64) * tail
}

/// `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
/// m_hat = u_{t+1} m / (1 - prod_{i<=t+1} u_i) + (1 - u_t) g / (1 - prod_{i<=t} u_i);
/// w -= lr * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)`, with `u_t = beta_1 (1 - 0.5 * 0.96^t)`
/// and `t` counting from 1. This is PyTorch's `NAdam` with `momentum_decay=1` (PyTorch's default
/// 0.004 decays the momentum schedule 250 times slower).
///
/// Example:
///
/// ```
/// use ferrograd::optimizers::{Nadam, OptimizerConfig, Schedule};
///
/// let config = OptimizerConfig::new(Nadam::default(), Schedule::constant(1e-3));
/// assert_eq!(config.rule.slot_names(), ["momentum", "velocity"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nadam {
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
}

impl Default for Nadam {
    /// Keras's defaults.
    fn default() -> Nadam {
        Nadam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl OptimizerRule for Nadam {
    const NAME: &'static str = "nadam";

    fn validate(&self) -> Result<()> {
        check_unit_open("beta_1", self.beta_1)?;
        check_unit_open("beta_2", self.beta_2)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "velocity"]
    }

    fn update_step<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        s: Slots<'_, T>,
        prep: GradPrep<T>,
        lr: f64,
        t: u64,
    ) {
        let Nadam {
            beta_1,
            beta_2,
            epsilon,
        } = *self;
        let of = T::of;
        let u_t = momentum_at(beta_1, t as f64);
        let u_next = momentum_at(beta_1, t as f64 + 1.0);
        let product = momentum_product(beta_1, t);
        let product_next = product * u_next;
        // m_hat * lr = a * m + b * g; the denominator is sqrt(v) * d + epsilon.
        let a = of(lr * u_next / (1.0 - product_next));
        let b = of(lr * (1.0 - u_t) / (1.0 - product));
        let d = of(1.0 / (1.0 - beta_2.powf(t as f64)));
        let (c1, c2, eps) = (of(1.0 - beta_1), of(1.0 - beta_2), of(epsilon));
        fused(w, g, s, move |w, g, [m, v, _]| {
            let slots = m.iter_mut().zip(v.iter_mut());
            for ((w, &g), (m, v)) in w.iter_mut().zip(g).zip(slots) {
                let g = prep.grad(g);
                *m += (g - *m) * c1;
                *v += (g * g - *v) * c2;
                *w = prep.weight(*w) - (a * *m + b * g) / ((*v * d).sqrt() + eps);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::test_support::run;

    /// The published rule (Dozat 2016, as Keras writes it), step by step with its `u_product`
    /// kept as a running product.
    fn reference(rule: &Nadam, w: &mut [f64], grads: &[&[f64]], lr: f64) {
        let (mut m, mut v) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        let mut u_product = 1.0;
        for (step, g) in grads.iter().enumerate() {
            let t = (step + 1) as f64;
            let u_t = rule.beta_1 * (1.0 - 0.5 * 0.96f64.powf(t));
            let u_t1 = rule.beta_1 * (1.0 - 0.5 * 0.96f64.powf(t + 1.0));
            u_product *= u_t;
            for i in 0..w.len() {
                m[i] = rule.beta_1 * m[i] + (1.0 - rule.beta_1) * g[i];
                v[i] = rule.beta_2 * v[i] + (1.0 - rule.beta_2) * g[i] * g[i];
                let m_hat =
                    u_t1 * m[i] / (1.0 - u_product * u_t1) + (1.0 - u_t) * g[i] / (1.0 - u_product);
                let v_hat = v[i] / (1.0 - rule.beta_2.powf(t));
                w[i] -= lr * m_hat / (v_hat.sqrt() + rule.epsilon);
            }
        }
    }

    #[test]
    fn matches_the_published_rule_step_by_step() {
        let rule = Nadam {
            beta_1: 0.8,
            beta_2: 0.95,
            epsilon: 1e-6,
        };
        let g = [0.5, -2.0, 0.0];
        for steps in 1..=5 {
            let mut w = [1.0, -1.0, 0.25];
            run(&rule, &mut w, &g, steps, 0.05);
            let mut expected = [1.0, -1.0, 0.25];
            let grads = vec![&g[..]; steps as usize];
            reference(&rule, &mut expected, &grads, 0.05);
            for (a, b) in w.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-14, "step {steps}: {w:?} vs {expected:?}");
            }
        }
    }

    #[test]
    fn the_product_matches_a_running_product() {
        let mut running = 1.0;
        for t in 1..=3000u64 {
            running *= momentum_at(0.9, t as f64);
            let closed = momentum_product(0.9, t);
            assert!((closed - running).abs() <= 1e-12 * running, "t={t}");
        }
        assert_eq!(momentum_product(0.0, 5), 0.0);
    }

    #[test]
    fn first_step_value() {
        // t = 1: u_1 = 0.9 * 0.52, u_2 = 0.9 * (1 - 0.5 * 0.9216); m = 0.1 g, v = 0.001 g^2.
        let mut w = [1.0];
        run(&Nadam::default(), &mut w, &[2.0], 1, 0.1);
        let u1 = 0.9 * 0.52;
        let u2 = 0.9 * (1.0 - 0.5 * 0.9216);
        let m_hat = u2 * 0.2 / (1.0 - u1 * u2) + (1.0 - u1) * 2.0 / (1.0 - u1);
        let expected = 1.0 - 0.1 * m_hat / (2.0 + 1e-7);
        assert!((w[0] - expected).abs() < 1e-15, "{} vs {expected}", w[0]);
    }

    #[test]
    fn validation_echoes_the_value() {
        let bad = Nadam {
            beta_2: -0.5,
            ..Nadam::default()
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("beta_2=-0.5"), "{msg}");
    }
}

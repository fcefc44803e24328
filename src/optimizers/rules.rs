//! `UpdateRule`: the update step of each optimizer, with Keras 3's formulas
//! (`keras/src/optimizers/{sgd,adam,rmsprop,adagrad,adadelta}.py`).
//!
//! Each rule is one fused pass over a parameter, its gradient and its slots: the gradient is
//! clipped and the parameter decayed on the fly (`GradPrep`), nothing is allocated, and large
//! parameters are cut into fixed-size chunks run in parallel (`par_chunks_mut`), so the result
//! does not depend on the thread count. The math is in the parameter's dtype; per-step scalars
//! (bias corrections) are computed in `f64` and rounded once.

use serde::{Deserialize, Serialize};

use super::clipping::GradPrep;
use super::schedules::{check_non_negative, check_positive};
use crate::bail;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::{SharedMut, par_chunks_mut};
use crate::storage::Storage;

/// The most slot variables one parameter has (Adam with AMSGrad, centered RMSprop with
/// momentum).
pub const MAX_SLOTS: usize = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum UpdateRule {
    /// `w -= lr * g`; with momentum `m = momentum * m - lr * g; w += m`, and with Nesterov
    /// `w += momentum * m - lr * g`.
    Sgd { momentum: f64, nesterov: bool },
    /// `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
    /// w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`, `t` counting
    /// from 1; AMSGrad divides by the running maximum of `v` instead.
    Adam {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
        amsgrad: bool,
    },
    /// Adam with decoupled weight decay (the decay itself is the base optimizer's).
    #[serde(rename = "adamw")]
    AdamW {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
        amsgrad: bool,
    },
    /// `v = rho v + (1 - rho) g^2`; centered: `a = rho a + (1 - rho) g`, divide by
    /// `sqrt(v - a^2 + epsilon)`, else by `sqrt(v + epsilon)`; momentum accumulates the
    /// increments.
    Rmsprop {
        rho: f64,
        momentum: f64,
        epsilon: f64,
        centered: bool,
    },
    /// `acc += g^2; w -= lr * g / sqrt(acc + epsilon)`, `acc` starting at
    /// `initial_accumulator_value`.
    Adagrad {
        initial_accumulator_value: f64,
        epsilon: f64,
    },
    /// Zeiler's rule scaled by `lr`: `acc_g = rho acc_g + (1 - rho) g^2;
    /// d = -sqrt(acc_d + eps) / sqrt(acc_g + eps) * g; acc_d = rho acc_d + (1 - rho) d^2;
    /// w += lr * d`.
    Adadelta { rho: f64, epsilon: f64 },
}

fn check_unit_open(name: &str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        bail!("Argument `{name}` must be in [0, 1). Received: {name}={value:?}");
    }
    Ok(())
}

fn check_unit_closed(name: &str, value: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&value) {
        bail!("Argument `{name}` must be a float between [0, 1]. Received: {name}={value:?}");
    }
    Ok(())
}

impl UpdateRule {
    /// Keras's defaults for each rule.
    pub fn sgd() -> UpdateRule {
        UpdateRule::Sgd {
            momentum: 0.0,
            nesterov: false,
        }
    }

    pub fn adam() -> UpdateRule {
        UpdateRule::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }

    pub fn adamw() -> UpdateRule {
        UpdateRule::AdamW {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }

    pub fn rmsprop() -> UpdateRule {
        UpdateRule::Rmsprop {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }

    pub fn adagrad() -> UpdateRule {
        UpdateRule::Adagrad {
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }

    pub fn adadelta() -> UpdateRule {
        UpdateRule::Adadelta {
            rho: 0.95,
            epsilon: 1e-7,
        }
    }

    /// The rule's name in configs (`"sgd"`, `"adam"`, `"adamw"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            UpdateRule::Sgd { .. } => "sgd",
            UpdateRule::Adam { .. } => "adam",
            UpdateRule::AdamW { .. } => "adamw",
            UpdateRule::Rmsprop { .. } => "rmsprop",
            UpdateRule::Adagrad { .. } => "adagrad",
            UpdateRule::Adadelta { .. } => "adadelta",
        }
    }

    pub fn validate(&self) -> Result<()> {
        match *self {
            UpdateRule::Sgd { momentum, .. } => check_unit_closed("momentum", momentum),
            UpdateRule::Adam {
                beta_1,
                beta_2,
                epsilon,
                ..
            }
            | UpdateRule::AdamW {
                beta_1,
                beta_2,
                epsilon,
                ..
            } => {
                check_unit_open("beta_1", beta_1)?;
                check_unit_open("beta_2", beta_2)?;
                check_positive("epsilon", epsilon)
            }
            UpdateRule::Rmsprop {
                rho,
                momentum,
                epsilon,
                ..
            } => {
                check_unit_open("rho", rho)?;
                check_unit_closed("momentum", momentum)?;
                check_positive("epsilon", epsilon)
            }
            UpdateRule::Adagrad {
                initial_accumulator_value,
                epsilon,
            } => {
                check_non_negative("initial_accumulator_value", initial_accumulator_value)?;
                check_positive("epsilon", epsilon)
            }
            UpdateRule::Adadelta { rho, epsilon } => {
                check_unit_open("rho", rho)?;
                check_positive("epsilon", epsilon)
            }
        }
    }

    /// The names of the slot variables each parameter gets, in order (Keras's names).
    pub fn slot_names(&self) -> &'static [&'static str] {
        match *self {
            UpdateRule::Sgd { momentum: 0.0, .. } => &[],
            UpdateRule::Sgd { .. } => &["momentum"],
            UpdateRule::Adam { amsgrad, .. } | UpdateRule::AdamW { amsgrad, .. } => {
                if amsgrad {
                    &["momentum", "velocity", "velocity_hat"]
                } else {
                    &["momentum", "velocity"]
                }
            }
            UpdateRule::Rmsprop {
                momentum, centered, ..
            } => match (momentum > 0.0, centered) {
                (false, false) => &["velocity"],
                (true, false) => &["velocity", "momentum"],
                (false, true) => &["velocity", "average_gradient"],
                (true, true) => &["velocity", "momentum", "average_gradient"],
            },
            UpdateRule::Adagrad { .. } => &["accumulator"],
            UpdateRule::Adadelta { .. } => &["accumulated_grad", "accumulated_delta_var"],
        }
    }

    /// The value slots start from.
    pub fn slot_initial_value(&self) -> f64 {
        match *self {
            UpdateRule::Adagrad {
                initial_accumulator_value,
                ..
            } => initial_accumulator_value,
            _ => 0.0,
        }
    }

    /// One update of `w` with gradient `g` and this parameter's `slots` (of `slot_names()`, of
    /// `w`'s length), at learning rate `lr`, `t` being the 1-based number of this update.
    pub(crate) fn update<T: Element>(
        &self,
        w: &mut [T],
        g: &[T],
        slots: &mut [Storage],
        prep: GradPrep<T>,
        lr: f64,
        t: u64,
    ) -> Result<()> {
        let s = slot_slices::<T>(slots, w.len(), g.len())?;
        let of = T::of;
        match *self {
            UpdateRule::Sgd { momentum, nesterov } => {
                let lr = of(lr);
                if momentum == 0.0 {
                    fused(w, g, s, move |w, g, _| {
                        for (w, &g) in w.iter_mut().zip(g) {
                            *w = prep.weight(*w) - prep.grad(g) * lr;
                        }
                    });
                } else {
                    let mu = of(momentum);
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
            UpdateRule::Adam {
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
            }
            | UpdateRule::AdamW {
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
            } => {
                let t = t as f64;
                let alpha = of(lr * (1.0 - beta_2.powf(t)).sqrt() / (1.0 - beta_1.powf(t)));
                let (c1, c2, eps) = (of(1.0 - beta_1), of(1.0 - beta_2), of(epsilon));
                if amsgrad {
                    fused(w, g, s, move |w, g, [m, v, vh]| {
                        let slots = m.iter_mut().zip(v.iter_mut()).zip(vh.iter_mut());
                        for ((w, &g), ((m, v), vh)) in w.iter_mut().zip(g).zip(slots) {
                            let g = prep.grad(g);
                            *m += (g - *m) * c1;
                            *v += (g * g - *v) * c2;
                            // The maximum, NaN spreading (as `ops.maximum`).
                            *vh = if *vh >= *v { *vh } else { *v };
                            *w = prep.weight(*w) - *m * alpha / (vh.sqrt() + eps);
                        }
                    });
                } else {
                    fused(w, g, s, move |w, g, [m, v, _]| {
                        let slots = m.iter_mut().zip(v.iter_mut());
                        for ((w, &g), (m, v)) in w.iter_mut().zip(g).zip(slots) {
                            let g = prep.grad(g);
                            *m += (g - *m) * c1;
                            *v += (g * g - *v) * c2;
                            *w = prep.weight(*w) - *m * alpha / (v.sqrt() + eps);
                        }
                    });
                }
            }
            UpdateRule::Rmsprop {
                rho,
                momentum,
                epsilon,
                centered,
            } => {
                let (lr, eps, mu) = (of(lr), of(epsilon), of(momentum));
                let (rho, c) = (of(rho), of(1.0 - rho));
                match (momentum > 0.0, centered) {
                    (false, false) => fused(w, g, s, move |w, g, [v, ..]| {
                        for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                            let g = prep.grad(g);
                            *v = rho * *v + c * (g * g);
                            *w = prep.weight(*w) - lr * g / (*v + eps).sqrt();
                        }
                    }),
                    (true, false) => fused(w, g, s, move |w, g, [v, mo, _]| {
                        let slots = v.iter_mut().zip(mo.iter_mut());
                        for ((w, &g), (v, mo)) in w.iter_mut().zip(g).zip(slots) {
                            let g = prep.grad(g);
                            *v = rho * *v + c * (g * g);
                            *mo = mu * *mo + lr * g / (*v + eps).sqrt();
                            *w = prep.weight(*w) - *mo;
                        }
                    }),
                    (false, true) => fused(w, g, s, move |w, g, [v, a, _]| {
                        let slots = v.iter_mut().zip(a.iter_mut());
                        for ((w, &g), (v, a)) in w.iter_mut().zip(g).zip(slots) {
                            let g = prep.grad(g);
                            *v = rho * *v + c * (g * g);
                            *a = rho * *a + c * g;
                            *w = prep.weight(*w) - lr * g / (*v - *a * *a + eps).sqrt();
                        }
                    }),
                    (true, true) => fused(w, g, s, move |w, g, [v, mo, a]| {
                        let slots = v.iter_mut().zip(mo.iter_mut()).zip(a.iter_mut());
                        for ((w, &g), ((v, mo), a)) in w.iter_mut().zip(g).zip(slots) {
                            let g = prep.grad(g);
                            *v = rho * *v + c * (g * g);
                            *a = rho * *a + c * g;
                            *mo = mu * *mo + lr * g / (*v - *a * *a + eps).sqrt();
                            *w = prep.weight(*w) - *mo;
                        }
                    }),
                }
            }
            UpdateRule::Adagrad { epsilon, .. } => {
                let (lr, eps) = (of(lr), of(epsilon));
                fused(w, g, s, move |w, g, [acc, ..]| {
                    for ((w, &g), acc) in w.iter_mut().zip(g).zip(acc.iter_mut()) {
                        let g = prep.grad(g);
                        *acc += g * g;
                        *w = prep.weight(*w) - lr * g / (*acc + eps).sqrt();
                    }
                });
            }
            UpdateRule::Adadelta { rho, epsilon } => {
                let (lr, eps, c, rho) = (of(lr), of(epsilon), of(1.0 - rho), of(rho));
                fused(w, g, s, move |w, g, [ag, ad, _]| {
                    let slots = ag.iter_mut().zip(ad.iter_mut());
                    for ((w, &g), (ag, ad)) in w.iter_mut().zip(g).zip(slots) {
                        let g = prep.grad(g);
                        *ag = rho * *ag + c * (g * g);
                        let delta = -((*ad + eps).sqrt() * g / (*ag + eps).sqrt());
                        *ad = rho * *ad + c * (delta * delta);
                        *w = prep.weight(*w) + lr * delta;
                    }
                });
            }
        }
        Ok(())
    }
}

/// The slots as typed flat slices, padded with empty ones; every slot must have `len`
/// elements, as must the gradient.
fn slot_slices<T: Element>(
    slots: &mut [Storage],
    len: usize,
    grad_len: usize,
) -> Result<[&mut [T]; MAX_SLOTS]> {
    if grad_len != len || slots.len() > MAX_SLOTS {
        bail!("optimizer: a gradient or the slots do not match their parameter");
    }
    let mut out: [&mut [T]; MAX_SLOTS] = [&mut [], &mut [], &mut []];
    for (dst, slot) in out.iter_mut().zip(slots.iter_mut()) {
        let slice = slot
            .typed_mut::<T>()?
            .as_slice_mut()
            .ok_or_else(|| Error::value("optimizer: a slot variable is not contiguous"))?;
        if slice.len() != len {
            bail!(
                "optimizer: a slot variable has {} elements, its parameter {len}",
                slice.len()
            );
        }
        *dst = slice;
    }
    Ok(out)
}

/// Runs `body` over matching chunks of the parameter, the gradient and the slots (empty slots
/// stay empty), in parallel for large parameters; chunk boundaries depend only on the length.
fn fused<T: Element>(
    w: &mut [T],
    g: &[T],
    slots: [&mut [T]; MAX_SLOTS],
    body: impl Fn(&mut [T], &[T], [&mut [T]; MAX_SLOTS]) + Sync,
) {
    let slots = slots.map(|s| (SharedMut(s.as_mut_ptr()), s.len()));
    par_chunks_mut(w, |offset, w| {
        let n = w.len();
        let g = &g[offset..offset + n];
        let chunk = slots.map(|(ptr, len)| -> &mut [T] {
            if len == 0 {
                &mut []
            } else {
                // SAFETY: every non-empty slot has the parameter's length (`slot_slices`), is
                // a buffer of its own, and is borrowed mutably for the whole call; chunks are
                // disjoint ranges of it.
                unsafe { std::slice::from_raw_parts_mut(ptr.get().add(offset), n) }
            }
        });
        body(w, g, chunk);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn run(rule: &UpdateRule, w: &mut [f64], g: &[f64], steps: u64, lr: f64) -> Vec<Storage> {
        let mut slots: Vec<Storage> = rule
            .slot_names()
            .iter()
            .map(|_| {
                Storage::F64(ArrayD::from_elem(IxDyn(&[w.len()]), rule.slot_initial_value()).into())
            })
            .collect();
        let prep = GradPrep {
            scale: 1.0,
            clip: f64::INFINITY,
            decay: None,
        };
        for t in 1..=steps {
            rule.update(w, g, &mut slots, prep, lr, t).unwrap();
        }
        slots
    }

    #[test]
    fn sgd_with_momentum_by_hand() {
        let rule = UpdateRule::Sgd {
            momentum: 0.5,
            nesterov: false,
        };
        let mut w = [1.0];
        run(&rule, &mut w, &[2.0], 2, 0.1);
        // m1 = -0.2, w1 = 0.8; m2 = -0.1 - 0.2 = -0.3, w2 = 0.5.
        assert!((w[0] - 0.5).abs() < 1e-15);
        let nesterov = UpdateRule::Sgd {
            momentum: 0.5,
            nesterov: true,
        };
        let mut w = [1.0];
        run(&nesterov, &mut w, &[2.0], 1, 0.1);
        // m1 = -0.2; w1 = 1 + (0.5 * -0.2 - 0.2) = 0.7.
        assert!((w[0] - 0.7).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_moves_by_about_lr() {
        let mut w = [1.0, -1.0];
        run(&UpdateRule::adam(), &mut w, &[3.0, -0.5], 1, 0.01);
        assert!((w[0] - 0.99).abs() < 1e-7, "{w:?}");
        assert!((w[1] + 0.99).abs() < 1e-7, "{w:?}");
    }

    #[test]
    fn adagrad_starts_from_its_initial_accumulator() {
        let mut w = [0.0];
        let slots = run(&UpdateRule::adagrad(), &mut w, &[1.0], 1, 0.1);
        assert_eq!(slots[0].to_f64_vec(), vec![1.1]);
        assert!((w[0] + 0.1 / (1.1f64 + 1e-7).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn validation_echoes_the_value() {
        let bad = UpdateRule::Adam {
            beta_1: 1.0,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        };
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("beta_1=1.0"), "{msg}");
        let bad = UpdateRule::Rmsprop {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 0.0,
            centered: false,
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("epsilon=0.0")
        );
    }

    #[test]
    fn json_names() {
        let json = serde_json::to_string(&UpdateRule::adamw()).unwrap();
        assert!(json.starts_with(r#"{"name":"adamw""#), "{json}");
        let back: UpdateRule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, UpdateRule::adamw());
        assert!(serde_json::from_str::<UpdateRule>(r#"{"name":"sgd","momentum":0}"#).is_err());
    }
}

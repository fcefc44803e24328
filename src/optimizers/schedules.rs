//! `Schedule`: the learning rate as a function of the optimizer's step, with Keras's formulas
//! (`keras.optimizers.schedules`) and PyTorch's `StepLR` counted in steps.
//!
//! A schedule is evaluated once per update, in `f64`, at the optimizer's `iterations` before the
//! update (so the first update uses `at(0)`), as Keras does.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::bail;
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The same value at every step.
    Constant { value: f64 },
    /// `initial_learning_rate * decay_rate ^ (step / decay_steps)`; with `staircase` the
    /// exponent is floored.
    ExponentialDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        decay_rate: f64,
        #[serde(default)]
        staircase: bool,
    },
    /// `values[0]` while `step <= boundaries[0]`, `values[i]` while
    /// `boundaries[i-1] < step <= boundaries[i]`, and `values[-1]` after the last boundary.
    PiecewiseConstantDecay {
        boundaries: Vec<f64>,
        values: Vec<f64>,
    },
    /// An optional linear warmup from `initial_learning_rate` to `warmup_target` over
    /// `warmup_steps`, then a cosine decay over `decay_steps` from the warmup target (or the
    /// initial rate without warmup) down to `alpha` times it, where it stays.
    CosineDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        #[serde(default)]
        alpha: f64,
        #[serde(default)]
        warmup_target: Option<f64>,
        #[serde(default)]
        warmup_steps: f64,
    },
    /// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the
    /// quotient is floored.
    InverseTimeDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        decay_rate: f64,
        #[serde(default)]
        staircase: bool,
    },
    /// `(initial - end) * (1 - step / decay_steps) ^ power + end`, with `step` held at
    /// `decay_steps` afterwards, or with `cycle` the decay restarting over the next multiple of
    /// `decay_steps`.
    PolynomialDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        end_learning_rate: f64,
        power: f64,
        #[serde(default)]
        cycle: bool,
    },
    /// PyTorch's `StepLR`, per step: `initial_learning_rate * gamma ^ floor(step / step_size)`.
    StepDecay {
        initial_learning_rate: f64,
        step_size: u64,
        gamma: f64,
    },
}

/// Fails unless `value` is a finite number `>= 0`.
pub(crate) fn check_non_negative(name: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        bail!("Argument `{name}` must be a non-negative float. Received: {name}={value:?}");
    }
    Ok(())
}

/// Fails unless `value` is a finite number `> 0`.
pub(crate) fn check_positive(name: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        bail!("Argument `{name}` must be > 0. Received: {name}={value:?}");
    }
    Ok(())
}

impl Schedule {
    /// A constant learning rate.
    pub fn constant(value: f64) -> Schedule {
        Schedule::Constant { value }
    }

    /// The schedule's name in configs (`"exponential_decay"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::Constant { .. } => "constant",
            Schedule::ExponentialDecay { .. } => "exponential_decay",
            Schedule::PiecewiseConstantDecay { .. } => "piecewise_constant_decay",
            Schedule::CosineDecay { .. } => "cosine_decay",
            Schedule::InverseTimeDecay { .. } => "inverse_time_decay",
            Schedule::PolynomialDecay { .. } => "polynomial_decay",
            Schedule::StepDecay { .. } => "step_decay",
        }
    }

    /// Checks the arguments, so that `at` returns a finite non-negative rate at every step.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Schedule::Constant { value } => check_non_negative("learning_rate", value),
            Schedule::ExponentialDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                ..
            }
            | Schedule::InverseTimeDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                ..
            } => {
                check_non_negative("initial_learning_rate", initial_learning_rate)?;
                check_positive("decay_steps", decay_steps)?;
                check_non_negative("decay_rate", decay_rate)
            }
            Schedule::PiecewiseConstantDecay {
                ref boundaries,
                ref values,
            } => {
                if values.is_empty() || boundaries.len() + 1 != values.len() {
                    bail!(
                        "The length of boundaries should be 1 less than the length of values. \
                         Received: boundaries={boundaries:?} of length {}, and values={values:?} \
                         of length {}.",
                        boundaries.len(),
                        values.len()
                    );
                }
                if boundaries.iter().any(|b| !b.is_finite())
                    || boundaries.windows(2).any(|w| w[0] >= w[1])
                {
                    bail!(
                        "Argument `boundaries` must be finite and strictly increasing. \
                         Received: boundaries={boundaries:?}"
                    );
                }
                if values.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                    bail!(
                        "Argument `values` must be non-negative floats. Received: \
                         values={values:?}"
                    );
                }
                Ok(())
            }
            Schedule::CosineDecay {
                initial_learning_rate,
                decay_steps,
                alpha,
                warmup_target,
                warmup_steps,
            } => {
                check_non_negative("initial_learning_rate", initial_learning_rate)?;
                check_positive("decay_steps", decay_steps)?;
                if !(0.0..=1.0).contains(&alpha) {
                    bail!("Argument `alpha` must be in [0, 1]. Received: alpha={alpha:?}");
                }
                if let Some(target) = warmup_target {
                    check_non_negative("warmup_target", target)?;
                }
                check_non_negative("warmup_steps", warmup_steps)
            }
            Schedule::PolynomialDecay {
                initial_learning_rate,
                decay_steps,
                end_learning_rate,
                power,
                ..
            } => {
                check_non_negative("initial_learning_rate", initial_learning_rate)?;
                check_positive("decay_steps", decay_steps)?;
                check_non_negative("end_learning_rate", end_learning_rate)?;
                check_non_negative("power", power)
            }
            Schedule::StepDecay {
                initial_learning_rate,
                step_size,
                gamma,
            } => {
                check_non_negative("initial_learning_rate", initial_learning_rate)?;
                if step_size == 0 {
                    bail!("Argument `step_size` must be > 0. Received: step_size=0");
                }
                check_non_negative("gamma", gamma)
            }
        }
    }

    /// The learning rate at `step` (the number of updates made so far).
    pub fn at(&self, step: u64) -> f64 {
        let t = step as f64;
        match *self {
            Schedule::Constant { value } => value,
            Schedule::ExponentialDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
            } => {
                let p = t / decay_steps;
                let p = if staircase { p.floor() } else { p };
                initial_learning_rate * decay_rate.powf(p)
            }
            Schedule::PiecewiseConstantDecay {
                ref boundaries,
                ref values,
            } => {
                let i = boundaries.iter().take_while(|&&b| t > b).count();
                values.get(i).or(values.last()).copied().unwrap_or(0.0)
            }
            Schedule::CosineDecay {
                initial_learning_rate,
                decay_steps,
                alpha,
                warmup_target,
                warmup_steps,
            } => {
                let cosine = |step: f64, from: f64| {
                    let decayed = 0.5 * (1.0 + (PI * (step / decay_steps)).cos());
                    from * ((1.0 - alpha) * decayed + alpha)
                };
                match warmup_target {
                    None => cosine(t.min(decay_steps), initial_learning_rate),
                    Some(target) => {
                        let t = t.min(decay_steps + warmup_steps);
                        if t < warmup_steps {
                            (target - initial_learning_rate) * (t / warmup_steps)
                                + initial_learning_rate
                        } else {
                            cosine(t - warmup_steps, target)
                        }
                    }
                }
            }
            Schedule::InverseTimeDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
            } => {
                let p = t / decay_steps;
                let p = if staircase { p.floor() } else { p };
                initial_learning_rate / (1.0 + decay_rate * p)
            }
            Schedule::PolynomialDecay {
                initial_learning_rate,
                decay_steps,
                end_learning_rate,
                power,
                cycle,
            } => {
                let (t, decay_steps) = if cycle {
                    let multiplier = if step == 0 {
                        1.0
                    } else {
                        (t / decay_steps).ceil()
                    };
                    (t, decay_steps * multiplier)
                } else {
                    (t.min(decay_steps), decay_steps)
                };
                let p = t / decay_steps;
                (initial_learning_rate - end_learning_rate) * (1.0 - p).powf(power)
                    + end_learning_rate
            }
            Schedule::StepDecay {
                initial_learning_rate,
                step_size,
                gamma,
            } => initial_learning_rate * gamma.powf((step / step_size.max(1)) as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn exponential_decay_smooth_and_staircase() {
        let smooth = Schedule::ExponentialDecay {
            initial_learning_rate: 0.1,
            decay_steps: 10.0,
            decay_rate: 0.5,
            staircase: false,
        };
        assert!(close(smooth.at(0), 0.1));
        assert!(close(smooth.at(5), 0.1 * 0.5f64.powf(0.5)));
        assert!(close(smooth.at(20), 0.025));
        let stairs = Schedule::ExponentialDecay {
            initial_learning_rate: 0.1,
            decay_steps: 10.0,
            decay_rate: 0.5,
            staircase: true,
        };
        assert!(close(stairs.at(9), 0.1));
        assert!(close(stairs.at(10), 0.05));
    }

    #[test]
    fn piecewise_boundaries_belong_to_the_left_interval() {
        let s = Schedule::PiecewiseConstantDecay {
            boundaries: vec![10.0, 20.0],
            values: vec![1.0, 0.5, 0.1],
        };
        assert!(s.validate().is_ok());
        let got: Vec<f64> = [0, 10, 11, 20, 21, 1000].iter().map(|&t| s.at(t)).collect();
        assert_eq!(got, vec![1.0, 1.0, 0.5, 0.5, 0.1, 0.1]);
    }

    #[test]
    fn cosine_decay_with_warmup() {
        let s = Schedule::CosineDecay {
            initial_learning_rate: 0.0,
            decay_steps: 10.0,
            alpha: 0.1,
            warmup_target: Some(1.0),
            warmup_steps: 4.0,
        };
        assert!(close(s.at(2), 0.5));
        assert!(close(s.at(4), 1.0));
        assert!(close(s.at(9), 0.9 * 0.5 * (1.0 + (PI * 0.5).cos()) + 0.1));
        assert!(close(s.at(14), 0.1));
        assert!(close(s.at(100), 0.1));
    }

    #[test]
    fn step_decay_polynomial_and_inverse_time() {
        let step = Schedule::StepDecay {
            initial_learning_rate: 1.0,
            step_size: 3,
            gamma: 0.1,
        };
        assert_eq!(step.at(2), 1.0);
        assert!(close(step.at(3), 0.1));
        assert!(close(step.at(7), 0.01));
        let poly = Schedule::PolynomialDecay {
            initial_learning_rate: 1.0,
            decay_steps: 10.0,
            end_learning_rate: 0.0,
            power: 2.0,
            cycle: true,
        };
        assert!(close(poly.at(5), 0.25));
        // Past the first period the decay runs over 20 steps.
        assert!(close(poly.at(15), 0.0625));
        let inverse = Schedule::InverseTimeDecay {
            initial_learning_rate: 1.0,
            decay_steps: 2.0,
            decay_rate: 0.5,
            staircase: true,
        };
        assert!(close(inverse.at(3), 1.0 / 1.5));
    }

    #[test]
    fn bad_arguments_echo_the_value() {
        let s = Schedule::ExponentialDecay {
            initial_learning_rate: 0.1,
            decay_steps: 0.0,
            decay_rate: 0.5,
            staircase: false,
        };
        let msg = s.validate().unwrap_err().to_string();
        assert!(msg.contains("decay_steps=0.0"), "{msg}");
        let s = Schedule::PiecewiseConstantDecay {
            boundaries: vec![5.0, 5.0],
            values: vec![1.0, 0.5, 0.1],
        };
        assert!(s.validate().is_err());
    }

    #[test]
    fn json_round_trip() {
        let s = Schedule::CosineDecay {
            initial_learning_rate: 0.1,
            decay_steps: 100.0,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0.0,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"name\":\"cosine_decay\""), "{json}");
        assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
        let err = serde_json::from_str::<Schedule>(r#"{"name":"constant","value":1,"x":2}"#);
        assert!(err.is_err());
    }
}

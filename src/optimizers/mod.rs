//! Optimizers and learning-rate schedules, as in Keras 3.
//!
//! An `Optimizer` is an update rule (an `OptimizerRule`: `Sgd`, `Adam`, `AdamW`, `Rmsprop`,
//! `Adagrad`, `Adadelta`, one file each) plus what Keras's base optimizer does around it, in this
//! order on every update:
//! 1. the learning rate is the `Schedule` evaluated at `iterations`;
//! 2. gradients are clipped (`clipnorm` each, `global_clipnorm` jointly, or `clipvalue`);
//! 3. with `weight_decay`, every updated parameter decays: `w -= w * weight_decay * lr`;
//! 4. the rule updates the parameter and its slot variables (`m`, `v`, ...);
//! 5. `iterations += 1`.
//!
//! Steps 2 to 4 run as one fused pass per parameter (see `fused.rs`), writing the parameter in
//! place. Slot variables are keyed by `Tensor::id()` and created on a parameter's first update.
//!
//! ```
//! use std::sync::Arc;
//! use ferrograd::optimizers::{Optimizer, OptimizerConfig, Schedule, Sgd};
//! use ferrograd::{DType, Tensor, Storage};
//!
//! let w = Tensor::full(&[3], 1.0, DType::F64).unwrap();
//! let mut opt = Optimizer::new(OptimizerConfig::new(Sgd::default(), Schedule::constant(0.1)))
//!     .unwrap();
//! let grad = Arc::new(Storage::full(DType::F64, &[3], 2.0).unwrap());
//! opt.apply(&[w.clone()], &[grad]).unwrap();
//! assert_eq!(w.to_f64_vec(), vec![0.8, 0.8, 0.8]);
//! assert_eq!(opt.iterations(), 1);
//! ```
//!
//! Adding an optimizer: write its file (its config struct, `impl OptimizerRule`, its tests), add
//! its `mod` line and its line in `RULES` below.

mod checks;
mod clipping;
mod config;
mod fused;
mod optimizer;
mod rule;
mod schedules;

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod lion;
mod nadam;
mod rmsprop;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use clipping::GradPrep;
pub use config::OptimizerConfig;
pub use fused::{MAX_SLOTS, Slots, fused};
pub use lion::Lion;
pub use nadam::Nadam;
pub use optimizer::Optimizer;
pub use rmsprop::Rmsprop;
pub use rule::{OptimizerRule, UpdateRule};
pub use schedules::{
    Constant, CosineDecay, ExponentialDecay, InverseTimeDecay, LearningRateSchedule,
    PiecewiseConstantDecay, PolynomialDecay, Schedule, StepDecay,
};
pub use sgd::Sgd;

use crate::config_registry::Entry;
use rule::entry;

/// The update rules an optimizer config can name (`{"name": "adam", ...}`): one line each.
const RULES: &[Entry<UpdateRule>] = &[
    entry::<Sgd>(),
    entry::<Adam>(),
    entry::<AdamW>(),
    entry::<Rmsprop>(),
    entry::<Adagrad>(),
    entry::<Adadelta>(),
    entry::<Nadam>(),
    entry::<Adamax>(),
    entry::<Lion>(),
];

#[cfg(test)]
mod optimizer_tests;
#[cfg(test)]
mod test_support;

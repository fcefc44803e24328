//! `Optimizer`: the base every update rule runs in, as Keras's `BaseOptimizer`: the learning
//! rate schedule, gradient clipping, weight decay, the step counter and the slot variables.

use std::collections::HashMap;
use std::sync::Arc;

use super::checks::check_non_negative;
use super::clipping::{self, GradPrep};
use super::config::OptimizerConfig;
use super::rule::RuleElement;
use super::schedules::Schedule;
use crate::bail;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The slot variables of one parameter, in `UpdateRule::slot_names` order.
#[derive(Clone, Debug)]
struct ParamState {
    slots: Vec<Storage>,
}

/// An optimizer: an update rule (`config.rule`) with what Keras's base optimizer does around
/// it (see the module docs), its step counter and the slot variables of each parameter.
pub struct Optimizer {
    config: OptimizerConfig,
    iterations: u64,
    state: HashMap<u64, ParamState>,
}

impl Optimizer {
    /// An optimizer with no state yet; fails on an invalid hyperparameter.
    pub fn new(config: OptimizerConfig) -> Result<Optimizer> {
        config.validate()?;
        Ok(Optimizer {
            config,
            iterations: 0,
            state: HashMap::new(),
        })
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The number of updates made so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    pub fn set_iterations(&mut self, iterations: u64) {
        self.iterations = iterations;
    }

    /// The learning rate the next update will use (the schedule evaluated at `iterations`).
    pub fn current_learning_rate(&self) -> f64 {
        self.config.learning_rate.at(self.iterations)
    }

    /// Replaces the learning rate with a constant, as assigning `optimizer.learning_rate` does
    /// in Keras.
    pub fn set_learning_rate(&mut self, learning_rate: f64) -> Result<()> {
        self.set_schedule(Schedule::constant(learning_rate))
    }

    /// Replaces the learning-rate schedule (the slot variables and `iterations` stay).
    pub fn set_schedule(&mut self, schedule: Schedule) -> Result<()> {
        schedule.validate()?;
        self.config.learning_rate = schedule;
        Ok(())
    }

    /// One update of `params` with `grads` (same length and order, matching shapes and
    /// dtypes), then `iterations += 1`. Nothing changes when an argument is wrong. An empty list
    /// is a no-op, as in Keras.
    pub fn apply(&mut self, params: &[Tensor], grads: &[Arc<Storage>]) -> Result<()> {
        let learning_rate = self.current_learning_rate();
        self.apply_with_learning_rate(params, grads, learning_rate)
    }

    /// `apply` at a learning rate given by the caller instead of the schedule (for a schedule
    /// evaluated elsewhere, such as a Python one).
    pub fn apply_with_learning_rate(
        &mut self,
        params: &[Tensor],
        grads: &[Arc<Storage>],
        learning_rate: f64,
    ) -> Result<()> {
        check_pairs(params, grads)?;
        check_non_negative("learning_rate", learning_rate)?;
        if params.is_empty() {
            return Ok(());
        }
        for (i, param) in params.iter().enumerate() {
            if params[..i].iter().any(|p| p.id() == param.id()) {
                bail!("apply: parameter {i} appears twice in the list of parameters");
            }
        }
        for param in params {
            self.ensure_state(param)?;
        }
        let global_scale = match self.config.global_clipnorm {
            Some(clip) => {
                let squares: f64 = grads.iter().map(|g| clipping::sum_of_squares(g)).sum();
                clipping::global_clipnorm_scale(squares.sqrt(), clip)
            }
            None => 1.0,
        };
        let t = self.iterations.saturating_add(1);
        for (param, grad) in params.iter().zip(grads) {
            let scale = match self.config.clipnorm {
                Some(clip) => clipping::clipnorm_scale(clipping::sum_of_squares(grad).sqrt(), clip),
                None => global_scale,
            };
            let state = self.state.get_mut(&param.id()).ok_or_else(|| {
                Error::value("apply: missing optimizer state (internal error)".to_string())
            })?;
            let config = &self.config;
            param.with_data_mut(|data| match (data, &**grad) {
                (Storage::F32(w), Storage::F32(g)) => {
                    update_typed(config, w, g, &mut state.slots, scale, learning_rate, t)
                }
                (Storage::F64(w), Storage::F64(g)) => {
                    update_typed(config, w, g, &mut state.slots, scale, learning_rate, t)
                }
                _ => bail!("apply: a gradient's dtype differs from its parameter's"),
            })?;
        }
        self.iterations = t;
        Ok(())
    }

    /// One update with each param's own `.grad`; params without a gradient are left alone.
    /// Fails when none of several params has a gradient ("No gradients provided").
    pub fn step(&mut self, params: &[Tensor]) -> Result<()> {
        let learning_rate = self.current_learning_rate();
        self.step_with_learning_rate(params, learning_rate)
    }

    /// `step` at a learning rate given by the caller instead of the schedule.
    pub fn step_with_learning_rate(&mut self, params: &[Tensor], learning_rate: f64) -> Result<()> {
        let (with_grad, grads): (Vec<Tensor>, Vec<Arc<Storage>>) = params
            .iter()
            .filter_map(|p| p.grad().map(|g| (p.clone(), g.data())))
            .unzip();
        if with_grad.is_empty() && !params.is_empty() {
            bail!("No gradients provided for any variable.");
        }
        self.apply_with_learning_rate(&with_grad, &grads, learning_rate)
    }

    /// The slot variables (m, v, ...) of `params`, named `"{param index}/{slot name}"`, for
    /// saving. Parameters not updated yet have none.
    pub fn slots(&self, params: &[Tensor]) -> Vec<(String, Storage)> {
        let names = self.config.rule.slot_names();
        let mut out = Vec::new();
        for (i, param) in params.iter().enumerate() {
            if let Some(state) = self.state.get(&param.id()) {
                for (name, slot) in names.iter().zip(&state.slots) {
                    out.push((format!("{i}/{name}"), slot.clone()));
                }
            }
        }
        out
    }

    /// Loads slot variables saved by `slots`: afterwards each of `params` has exactly the
    /// slots given for it (a parameter with none given starts fresh on its next update).
    /// Everything is checked first (names, completeness, shapes, dtypes); nothing changes on
    /// error.
    pub fn load_slots(&mut self, params: &[Tensor], slots: Vec<(String, Storage)>) -> Result<()> {
        let names = self.config.rule.slot_names();
        let mut loaded: Vec<Vec<Option<Storage>>> = vec![vec![None; names.len()]; params.len()];
        for (key, storage) in slots {
            let Some((index, name)) = key.split_once('/') else {
                bail!(
                    "load_slots: slot names are \"{{param index}}/{{slot name}}\", received {key:?}"
                );
            };
            let index: usize = match index.parse() {
                Ok(i) if i < params.len() => i,
                _ => bail!(
                    "load_slots: {key:?} names no parameter: there are {} parameters",
                    params.len()
                ),
            };
            let Some(position) = names.iter().position(|n| *n == name) else {
                bail!(
                    "load_slots: {key:?}: {} has no slot {name:?}; its slots are {names:?}",
                    self.config.rule.name()
                );
            };
            let param = &params[index];
            if storage.shape() != param.shape() {
                return Err(Error::ShapeMismatch {
                    op: "load_slots",
                    lhs: param.shape().to_vec(),
                    rhs: storage.shape().to_vec(),
                    reason: "differ: a slot must have its parameter's shape",
                });
            }
            if storage.dtype() != param.dtype() {
                bail!(
                    "load_slots: {key:?} has dtype {}, its parameter {}",
                    storage.dtype(),
                    param.dtype()
                );
            }
            let entry = &mut loaded[index][position];
            if entry.is_some() {
                bail!("load_slots: {key:?} is given twice");
            }
            *entry = Some(storage);
        }
        let mut states = Vec::with_capacity(params.len());
        for (i, slots) in loaded.into_iter().enumerate() {
            let given = slots.iter().filter(|s| s.is_some()).count();
            if given == 0 {
                states.push(None);
            } else if given == names.len() {
                states.push(Some(ParamState {
                    slots: slots.into_iter().flatten().collect(),
                }));
            } else {
                bail!(
                    "load_slots: parameter {i} needs all of its slots {names:?}, received {given}"
                );
            }
        }
        for (param, state) in params.iter().zip(states) {
            match state {
                Some(state) => self.state.insert(param.id(), state),
                None => self.state.remove(&param.id()),
            };
        }
        Ok(())
    }

    /// Creates `param`'s slots on its first update.
    fn ensure_state(&mut self, param: &Tensor) -> Result<()> {
        if self.state.contains_key(&param.id()) {
            return Ok(());
        }
        let initial = self.config.rule.slot_initial_value();
        let slots = self
            .config
            .rule
            .slot_names()
            .iter()
            .map(|_| Storage::full(param.dtype(), param.shape(), initial))
            .collect::<Result<Vec<_>>>()?;
        self.state.insert(param.id(), ParamState { slots });
        Ok(())
    }
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("config", &self.config)
            .field("iterations", &self.iterations)
            .field("parameters with state", &self.state.len())
            .finish()
    }
}

/// Checks that `grads` match `params` one to one, in shape and dtype.
fn check_pairs(params: &[Tensor], grads: &[Arc<Storage>]) -> Result<()> {
    if params.len() != grads.len() {
        bail!(
            "apply: received {} gradients for {} parameters; they must match one to one",
            grads.len(),
            params.len()
        );
    }
    for (i, (param, grad)) in params.iter().zip(grads).enumerate() {
        if grad.shape() != param.shape() {
            return Err(Error::Shape {
                op: "apply",
                msg: format!(
                    "the gradient of parameter {i} has shape {:?}, the parameter {:?}",
                    grad.shape(),
                    param.shape()
                ),
            });
        }
        if grad.dtype() != param.dtype() {
            bail!(
                "apply: the gradient of parameter {i} (shape {:?}) has dtype {}, the parameter {}",
                param.shape(),
                grad.dtype(),
                param.dtype()
            );
        }
    }
    Ok(())
}

/// Runs the rule on one parameter of element type `T`.
fn update_typed<T: RuleElement>(
    config: &OptimizerConfig,
    w: &mut ndarray::ArrayRefD<T>,
    g: &ndarray::ArrayRefD<T>,
    slots: &mut [Storage],
    scale: f64,
    learning_rate: f64,
    t: u64,
) -> Result<()> {
    let prep = GradPrep {
        scale: T::of(scale),
        clip: T::of(config.clipvalue.unwrap_or(f64::INFINITY)),
        decay: config.weight_decay.map(|wd| T::of(wd * learning_rate)),
    };
    let (Some(w), Some(g)) = (w.as_slice_mut(), g.as_slice()) else {
        bail!("apply: a parameter or gradient is not contiguous");
    };
    config.rule.update(w, g, slots, prep, learning_rate, t)
}

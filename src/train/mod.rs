//! The loops that run a model over a dataset: `fit`, `evaluate` and `predict`. They run
//! without the Python interpreter; whatever must happen between batches (progress, callbacks,
//! Ctrl-C) goes through `Hooks`.

pub mod batches;
pub mod collective;
pub mod data;
mod data_parallel;
pub mod fit;
mod predict;
#[cfg(test)]
mod tests;

pub use batches::{Batches, Data, Pipeline};
pub use collective::{Collective, SumBuffer};
pub use predict::{predict, predict_all, predict_stream, predict_stream_all};

use crate::error::Result;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Named values reported after a batch or an epoch (`loss`, metrics, `val_...`), in order.
pub type Logs = Vec<(String, f64)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// What a loop calls between batches and epochs. Every method may fail (a callback raised, the
/// user pressed Ctrl-C): the loop then stops at once and returns the error, leaving the model as
/// it was after the last finished batch.
pub trait Hooks {
    /// Whether each batch must be reported around its own computation: begin, compute, end,
    /// then the next (a user callback asked for batch events). When false, a loop may compute
    /// several batches before reporting them in order.
    fn wants_every_batch(&self) -> bool {
        true
    }

    fn on_epoch_begin(&mut self, _epoch: usize) -> Result<()> {
        Ok(())
    }

    fn on_batch_begin(&mut self, _step: usize) -> Result<()> {
        Ok(())
    }

    /// After each batch, with the running logs of the epoch so far.
    fn on_batch_end(&mut self, _step: usize, _logs: &Logs) -> Result<Control> {
        Ok(Control::Continue)
    }

    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// Fails if the run must stop now (the user pressed Ctrl-C), without reporting a batch:
    /// what the validation pass inside `fit` calls after each of its batches.
    fn check_interrupt(&mut self) -> Result<()> {
        Ok(())
    }

    /// Metrics kept outside the loop (written in Python): a pass over the data (an epoch, a
    /// validation, an evaluation) begins, so they forget what they saw.
    fn reset_metrics(&mut self) -> Result<()> {
        Ok(())
    }

    /// Metrics kept outside the loop see one batch: the targets and the predictions (one of
    /// each per model output). Returns their values so far, which the logs report after the
    /// loop's own metrics.
    fn update_metrics(&mut self, _y: &[Tensor], _predictions: &[Storage]) -> Result<Logs> {
        Ok(Vec::new())
    }

    /// The processes of a data-parallel run (`fg.distribution.DataParallel`), when `fit` is one
    /// of several processes training the same model; `None` for a single process.
    fn collective(&mut self) -> Option<&mut dyn Collective> {
        None
    }
}

/// The hooks of `fit`'s validation pass: no batch events reach the training's callbacks, but an
/// interruption is noticed after every validation batch rather than when validation ends.
pub struct ValidationHooks<'a> {
    pub training: &'a mut dyn Hooks,
}

impl Hooks for ValidationHooks<'_> {
    fn wants_every_batch(&self) -> bool {
        false
    }

    fn on_batch_end(&mut self, _step: usize, _logs: &Logs) -> Result<Control> {
        self.training.check_interrupt()?;
        Ok(Control::Continue)
    }

    // The validation pass uses the training's metrics, reset: the epoch's own values are
    // already in its logs when validation begins (as Keras does).
    fn reset_metrics(&mut self) -> Result<()> {
        self.training.reset_metrics()
    }

    fn update_metrics(&mut self, y: &[Tensor], predictions: &[Storage]) -> Result<Logs> {
        self.training.update_metrics(y, predictions)
    }
}

/// Hooks that do nothing (for Rust callers and tests).
pub struct NoHooks;

impl Hooks for NoHooks {
    fn wants_every_batch(&self) -> bool {
        false
    }
}

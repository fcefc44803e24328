//! `Hooks` that call back into Python between batches and epochs, and check for Ctrl-C.
//!
//! The loops run with the GIL released; each hook re-attaches briefly. Batch-end calls are
//! throttled (progress bars redraw at most every 0.05 s) unless a user callback asked for every
//! batch. A Python exception raised by a callback (or KeyboardInterrupt from a signal check) is
//! kept here and the loop is stopped with `Error::Interrupted`; `finish` turns that back into
//! the original exception.

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::collective::PyCollective;
use super::convert::storage_to_numpy;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::train::{Collective, Control, Hooks, Logs};

const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(5);

pub struct PyHooks {
    /// An object with `on_epoch_begin(epoch)`, `on_batch_begin(step)`, `on_batch_end(step,
    /// logs)` and `on_epoch_end(epoch, logs) -> bool` (True: stop training); any may be absent.
    dispatcher: Option<Py<PyAny>>,
    every_batch: bool,
    /// The metrics written in Python, when the model has any: an object with `reset()` and
    /// `update(ys, predictions) -> [(name, value), ...]` (lists of numpy arrays, one per model
    /// output). Without them no batch takes the GIL for metrics.
    metrics: Option<Py<PyAny>>,
    last_progress: Option<Instant>,
    last_signal_check: Instant,
    error: Option<PyErr>,
    /// The processes of a data-parallel `fit` (`ferrograd.distribution.DataParallel`).
    collective: Option<PyCollective>,
}

impl PyHooks {
    pub fn new(dispatcher: Option<Py<PyAny>>, every_batch: bool) -> PyHooks {
        PyHooks {
            dispatcher,
            every_batch,
            metrics: None,
            last_progress: None,
            last_signal_check: Instant::now(),
            error: None,
            collective: None,
        }
    }

    /// These hooks with the model's metrics written in Python (see `metrics`); None leaves
    /// them without.
    pub fn with_metrics(mut self, metrics: Option<Py<PyAny>>) -> PyHooks {
        self.metrics = metrics.filter(|m| Python::attach(|py| !m.bind(py).is_none()));
        self
    }

    /// Makes the loop one process of a data-parallel run over `collective`.
    pub fn with_collective(mut self, collective: Option<PyCollective>) -> PyHooks {
        self.collective = collective;
        self
    }

    /// The loop's result as Python sees it: the callback's own exception if one stopped it.
    pub fn finish<T>(&mut self, result: Result<T>) -> PyResult<T> {
        match result {
            Ok(value) => Ok(value),
            Err(Error::Interrupted) => Err(self
                .error
                .take()
                .or_else(|| self.collective.as_mut().and_then(PyCollective::take_error))
                .unwrap_or_else(|| PyErr::from(Error::Interrupted))),
            Err(other) => Err(other.into()),
        }
    }

    fn call(
        &mut self,
        method: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>>,
    ) -> Result<Option<bool>> {
        let Some(dispatcher) = &self.dispatcher else {
            return Ok(None);
        };
        let outcome = Python::attach(|py| -> PyResult<Option<bool>> {
            let target = dispatcher.bind(py);
            if !target.hasattr(method)? {
                return Ok(None);
            }
            let returned = target.call_method1(method, args(py)?)?;
            Ok(Some(returned.is_truthy()?))
        });
        outcome.map_err(|e| self.stash(e))
    }

    fn stash(&mut self, error: PyErr) -> Error {
        self.error = Some(error);
        Error::Interrupted
    }

    fn check_signals(&mut self) -> Result<()> {
        if self.last_signal_check.elapsed() < SIGNAL_CHECK_INTERVAL {
            return Ok(());
        }
        self.last_signal_check = Instant::now();
        Python::attach(|py| py.check_signals()).map_err(|e| self.stash(e))
    }
}

fn logs_dict<'py>(py: Python<'py>, logs: &Logs) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in logs {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

impl Hooks for PyHooks {
    fn wants_every_batch(&self) -> bool {
        self.every_batch
    }

    fn check_interrupt(&mut self) -> Result<()> {
        self.check_signals()
    }

    fn reset_metrics(&mut self) -> Result<()> {
        let Some(metrics) = &self.metrics else {
            return Ok(());
        };
        let outcome = Python::attach(|py| metrics.bind(py).call_method0("reset").map(|_| ()));
        outcome.map_err(|e| self.stash(e))
    }

    fn update_metrics(&mut self, y: &[Tensor], predictions: &[Storage]) -> Result<Logs> {
        let Some(metrics) = &self.metrics else {
            return Ok(Vec::new());
        };
        let outcome = Python::attach(|py| -> PyResult<Logs> {
            let ys = y
                .iter()
                .map(|t| storage_to_numpy(py, &t.data()))
                .collect::<PyResult<Vec<_>>>()?;
            let predictions = predictions
                .iter()
                .map(|p| storage_to_numpy(py, p))
                .collect::<PyResult<Vec<_>>>()?;
            metrics
                .bind(py)
                .call_method1("update", (ys, predictions))?
                .extract()
        });
        outcome.map_err(|e| self.stash(e))
    }

    fn collective(&mut self) -> Option<&mut dyn Collective> {
        self.collective
            .as_mut()
            .map(|collective| collective as &mut dyn Collective)
    }

    fn on_epoch_begin(&mut self, epoch: usize) -> Result<()> {
        self.last_progress = None;
        self.call("on_epoch_begin", |py| (epoch,).into_pyobject(py))?;
        Ok(())
    }

    fn on_batch_begin(&mut self, step: usize) -> Result<()> {
        if self.every_batch {
            self.call("on_batch_begin", |py| (step,).into_pyobject(py))?;
        }
        Ok(())
    }

    fn on_batch_end(&mut self, step: usize, logs: &Logs) -> Result<Control> {
        self.check_signals()?;
        let due = self
            .last_progress
            .is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL);
        if self.every_batch || due {
            self.last_progress = Some(Instant::now());
            let stop = self.call("on_batch_end", |py| {
                (step, logs_dict(py, logs)?).into_pyobject(py)
            })?;
            if stop == Some(true) {
                return Ok(Control::Stop);
            }
        }
        Ok(Control::Continue)
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs) -> Result<Control> {
        let stop = self.call("on_epoch_end", |py| {
            (epoch, logs_dict(py, logs)?).into_pyobject(py)
        })?;
        Ok(if stop == Some(true) {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

//! `fit` and `evaluate` from Python: wraps the datasets, releases the GIL and runs the Rust
//! loops, calling back into Python only through the hooks.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::hooks::PyHooks;
use super::losses::PyLoss;
use super::metrics::PyMetric;
use super::model::{PyGraph, guarded_core};
use super::optimizers::PyOptimizer;
use super::sources::{NumpyRows, PyBatchStream};
use crate::metrics::MetricKind;
use crate::rng;
use crate::train::Data;
use crate::train::fit::{self as loops, Compiled, FitConfig};

/// A dataset as the loops take it: two arrays of rows, or a stream of batches.
enum Source {
    Arrays(NumpyRows, NumpyRows),
    Stream(PyBatchStream),
}

impl Source {
    /// `x` and `y` numpy arrays (C-contiguous; the Python side converted them once), or `x` an
    /// iterable of `(x, y)` batches with `y` None.
    fn new(x: &Bound<'_, PyAny>, y: Option<&Bound<'_, PyAny>>) -> PyResult<Source> {
        match y {
            Some(y) if !y.is_none() => Ok(Source::Arrays(NumpyRows::new(x)?, NumpyRows::new(y)?)),
            _ if x.hasattr("__iter__")? && x.cast::<numpy::PyUntypedArray>().is_err() => {
                Ok(Source::Stream(PyBatchStream::new(x.clone().unbind())))
            }
            _ => Err(PyTypeError::new_err(
                "expected arrays x and y, or an iterable of (x, y) batches",
            )),
        }
    }

    fn data(&mut self) -> Data<'_> {
        match self {
            Source::Arrays(x, y) => Data::Rows { x, y: Some(y) },
            Source::Stream(stream) => Data::Stream(stream),
        }
    }

    /// The exception a Python iterator raised, which is the real cause of an interruption.
    fn take_error(&mut self) -> Option<PyErr> {
        match self {
            Source::Stream(stream) => stream.take_error(),
            Source::Arrays(..) => None,
        }
    }
}

fn metric_kinds(metrics: &[(String, PyRef<'_, PyMetric>)]) -> Vec<(String, MetricKind)> {
    metrics
        .iter()
        .map(|(name, metric)| (name.clone(), metric.kind()))
        .collect()
}

/// Trains `graph`. Returns a dict: `epochs_completed`, `nonfinite` (None or `(epoch, step,
/// loss)`), `ran_out_of_data`.
#[pyfunction]
#[pyo3(signature = (
    graph, loss, metrics, optimizer, x, y=None, validation=None, *, epochs=1, initial_epoch=0,
    batch_size=32, shuffle=true, steps_per_epoch=None, validation_batch_size=None,
    validation_steps=None, stop_on_nonfinite=false, hooks=None, every_batch=false
))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    graph: PyRef<'_, PyGraph>,
    loss: PyRef<'_, PyLoss>,
    metrics: Vec<(String, PyRef<'_, PyMetric>)>,
    optimizer: PyRef<'_, PyOptimizer>,
    x: &Bound<'py, PyAny>,
    y: Option<&Bound<'py, PyAny>>,
    validation: Option<&Bound<'py, PyTuple>>,
    epochs: usize,
    initial_epoch: usize,
    batch_size: usize,
    shuffle: bool,
    steps_per_epoch: Option<usize>,
    validation_batch_size: Option<usize>,
    validation_steps: Option<usize>,
    stop_on_nonfinite: bool,
    hooks: Option<Py<PyAny>>,
    every_batch: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut train = Source::new(x, y)?;
    let mut validation = match validation {
        Some(v) => {
            let (vx, vy) = (v.get_item(0)?, v.get_item(1).ok());
            Some(Source::new(&vx, vy.as_ref())?)
        }
        None => None,
    };
    let config = FitConfig {
        epochs,
        initial_epoch,
        batch_size,
        shuffle,
        steps_per_epoch,
        validation_batch_size: validation_batch_size.unwrap_or(batch_size),
        validation_steps,
        stop_on_nonfinite,
    };
    let compiled_loss = loss.inner.clone();
    let kinds = metric_kinds(&metrics);
    let graph = graph.inner.clone();
    let optimizer = optimizer.inner.clone();
    let mut hooks = PyHooks::new(hooks, every_batch);
    let mut generator = rng::fork();
    let result = py.detach(|| {
        let compiled = Compiled {
            graph: &graph,
            loss: compiled_loss,
            metrics: kinds,
            optimizer: Some(&*optimizer),
        };
        guarded_core(|| {
            loops::fit(
                &compiled,
                train.data(),
                validation.as_mut().map(Source::data),
                &config,
                &mut generator,
                &mut hooks,
            )
        })
    });
    for source in std::iter::once(&mut train).chain(validation.as_mut()) {
        if let Some(error) = source.take_error() {
            return Err(error);
        }
    }
    let report = hooks.finish(result)?;
    let out = PyDict::new(py);
    out.set_item("epochs_completed", report.epochs_completed)?;
    out.set_item(
        "nonfinite",
        report.nonfinite.map(|n| (n.epoch, n.step, n.loss)),
    )?;
    out.set_item("ran_out_of_data", report.ran_out_of_data)?;
    Ok(out)
}

/// The loss and metrics over a dataset, as `[(name, value), ...]`.
#[pyfunction]
#[pyo3(signature = (graph, loss, metrics, x, y=None, *, batch_size=32, steps=None, hooks=None, every_batch=false))]
#[allow(clippy::too_many_arguments)]
fn evaluate(
    py: Python<'_>,
    graph: PyRef<'_, PyGraph>,
    loss: PyRef<'_, PyLoss>,
    metrics: Vec<(String, PyRef<'_, PyMetric>)>,
    x: &Bound<'_, PyAny>,
    y: Option<&Bound<'_, PyAny>>,
    batch_size: usize,
    steps: Option<usize>,
    hooks: Option<Py<PyAny>>,
    every_batch: bool,
) -> PyResult<Vec<(String, f64)>> {
    let mut data = Source::new(x, y)?;
    let compiled_loss = loss.inner.clone();
    let kinds = metric_kinds(&metrics);
    let graph = graph.inner.clone();
    let mut hooks = PyHooks::new(hooks, every_batch);
    let result = py.detach(|| {
        let compiled = Compiled {
            graph: &graph,
            loss: compiled_loss,
            metrics: kinds,
            optimizer: None,
        };
        guarded_core(|| loops::evaluate(&compiled, data.data(), batch_size, steps, &mut hooks))
    });
    if let Some(error) = data.take_error() {
        return Err(error);
    }
    hooks.finish(result)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    Ok(())
}

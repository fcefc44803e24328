//! `fit` and `evaluate` from Python: wraps the datasets, releases the GIL and runs the Rust
//! loops, calling back into Python only through the hooks.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::collective::PyCollective;
use super::hooks::PyHooks;
use super::losses::PyLoss;
use super::metrics::PyMetric;
use super::model::{PyGraph, guarded_core};
use super::optimizers::PyOptimizer;
use super::sources::{NumpyRows, PyBatchStream};
use crate::metrics::MetricKind;
use crate::nn::Graph;
use crate::rng;
use crate::train::Data;
use crate::train::data::Rows;
use crate::train::fit::{self as loops, Compiled, FitConfig, OutputLoss, ValidationFreq};

/// A dataset as the loops take it: arrays of rows (one per model input, one per output), or a
/// stream of batches.
enum Source {
    /// `x`, `y` and optionally the sample weights (one array per output).
    Arrays(Vec<NumpyRows>, Vec<NumpyRows>, Option<Vec<NumpyRows>>),
    Stream(PyBatchStream),
}

/// `x` as arrays of rows for a model with `count` inputs: one numpy array, or (several inputs) a
/// list or tuple of `count` numpy arrays. `None` when `x` is neither (an iterable of batches).
pub(super) fn input_columns(
    x: &Bound<'_, PyAny>,
    count: usize,
) -> PyResult<Option<Vec<NumpyRows>>> {
    if x.cast::<numpy::PyUntypedArray>().is_ok() {
        return Ok(Some(vec![NumpyRows::new(x)?]));
    }
    let sequence = x.cast::<PyList>().is_ok() || x.cast::<PyTuple>().is_ok();
    // One input given as a list of one array (the Python side's columns for a model with one
    // input and several outputs).
    let one_array = sequence
        && count == 1
        && x.len()? == 1
        && x.get_item(0)?.cast::<numpy::PyUntypedArray>().is_ok();
    if sequence && (count > 1 || one_array) {
        return columns(x, count, "x", "inputs").map(Some);
    }
    Ok(None)
}

/// `count` numpy arrays from one array (`count` = 1) or a list or tuple of them.
fn columns(
    value: &Bound<'_, PyAny>,
    count: usize,
    what: &str,
    of: &str,
) -> PyResult<Vec<NumpyRows>> {
    if count == 1 && value.cast::<numpy::PyUntypedArray>().is_ok() {
        return Ok(vec![NumpyRows::new(value)?]);
    }
    let items: Vec<Bound<'_, PyAny>> = value.try_iter()?.collect::<PyResult<_>>()?;
    if items.len() != count {
        return Err(PyValueError::new_err(format!(
            "{what} must hold {count} arrays (the model has {count} {of}), received {}",
            items.len()
        )));
    }
    items.iter().map(NumpyRows::new).collect()
}

impl Source {
    /// `x` and `y` numpy arrays (C-contiguous; the Python side converted them once), lists of
    /// them for a model with several inputs or outputs, or `x` an iterable of `(x, y)` or
    /// `(x, y, sample_weight)` batches with `y` None. `sample_weight`, for arrays, is None or a
    /// list of one array of weights per output.
    fn new(
        x: &Bound<'_, PyAny>,
        y: Option<&Bound<'_, PyAny>>,
        sample_weight: Option<&Bound<'_, PyAny>>,
        inputs: usize,
        outputs: usize,
    ) -> PyResult<Source> {
        match y {
            Some(y) if !y.is_none() => {
                let x = input_columns(x, inputs)?.ok_or_else(|| {
                    PyTypeError::new_err(
                        "expected arrays x and y, or an iterable of (x, y) batches",
                    )
                })?;
                let weights = match sample_weight {
                    Some(w) if !w.is_none() => {
                        let items: Vec<Bound<'_, PyAny>> =
                            w.try_iter()?.collect::<PyResult<_>>()?;
                        if items.len() != outputs {
                            return Err(PyValueError::new_err(format!(
                                "sample_weight must hold {outputs} arrays (one per model \
                                 output), received {}",
                                items.len()
                            )));
                        }
                        Some(items.iter().map(NumpyRows::new).collect::<PyResult<_>>()?)
                    }
                    _ => None,
                };
                Ok(Source::Arrays(
                    x,
                    columns(y, outputs, "y", "outputs")?,
                    weights,
                ))
            }
            _ if x.hasattr("__iter__")? && x.cast::<numpy::PyUntypedArray>().is_err() => {
                Ok(Source::Stream(PyBatchStream::with_arity(
                    x.clone().unbind(),
                    inputs,
                    outputs,
                )))
            }
            _ => Err(PyTypeError::new_err(
                "expected arrays x and y, or an iterable of (x, y) batches",
            )),
        }
    }

    fn data(&mut self) -> Data<'_> {
        match self {
            Source::Arrays(x, y, weights) => Data::Columns {
                x: x.iter().map(|r| r as &dyn Rows).collect(),
                y: Some(y.iter().map(|r| r as &dyn Rows).collect()),
                sample_weight: weights
                    .as_ref()
                    .map(|w| w.iter().map(|r| r as &dyn Rows).collect()),
            },
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

fn metric_kinds(metrics: &Bound<'_, PyAny>) -> PyResult<Vec<(String, MetricKind)>> {
    let pairs: Vec<(String, PyRef<'_, PyMetric>)> = metrics.extract()?;
    Ok(pairs
        .iter()
        .map(|(name, metric)| (name.clone(), metric.kind()))
        .collect())
}

/// The graph's outputs with their losses: `loss` one loss (one output) or a list of one per
/// output; `metrics` a list of `(name, metric)` (one output) or a list of such lists;
/// `loss_weights` None or one float per output; `output_names` None or one name per output.
fn output_losses(
    graph: &Graph,
    loss: &Bound<'_, PyAny>,
    metrics: &Bound<'_, PyAny>,
    loss_weights: Option<Vec<f64>>,
    output_names: Option<Vec<String>>,
) -> PyResult<Vec<OutputLoss>> {
    let count = graph.outputs().len();
    let (losses, metrics): (Vec<crate::losses::Loss>, Vec<Vec<(String, MetricKind)>>) =
        if let Ok(single) = loss.cast::<PyLoss>() {
            (
                vec![single.borrow().inner.clone()],
                vec![metric_kinds(metrics)?],
            )
        } else {
            let losses: Vec<PyRef<'_, PyLoss>> = loss.extract()?;
            let per_output: Vec<Bound<'_, PyAny>> = metrics.try_iter()?.collect::<PyResult<_>>()?;
            let metrics = if per_output.is_empty() {
                vec![Vec::new(); losses.len()]
            } else {
                per_output
                    .iter()
                    .map(metric_kinds)
                    .collect::<PyResult<_>>()?
            };
            (losses.iter().map(|l| l.inner.clone()).collect(), metrics)
        };
    let weights: Vec<Option<f64>> = match loss_weights {
        Some(w) => w.into_iter().map(Some).collect(),
        None => vec![None; count],
    };
    let names = output_names.unwrap_or_else(|| (0..count).map(|i| format!("output_{i}")).collect());
    if losses.len() != count
        || metrics.len() != count
        || weights.len() != count
        || names.len() != count
    {
        return Err(PyValueError::new_err(format!(
            "the model has {count} outputs; received {} losses, {} metric lists, {} loss \
             weights and {} output names",
            losses.len(),
            metrics.len(),
            weights.len(),
            names.len()
        )));
    }
    Ok(names
        .into_iter()
        .zip(losses)
        .zip(weights)
        .zip(metrics)
        .map(|(((name, loss), weight), metrics)| OutputLoss {
            name,
            loss,
            weight,
            metrics,
        })
        .collect())
}

/// Trains `graph`. `validation` is `(batches,)`, `(x, y)` or `(x, y, sample_weight)`;
/// `validation_freq` an int (every n-th epoch) or a list of epochs (counting from 1); `seed`,
/// for a run that may be resumed at any epoch (BackupAndRestore), the seed each epoch's
/// shuffling and dropout are derived from with the epoch's number (when None, one generator
/// drawn from the library's continues from epoch to epoch).
/// `python_metrics`: None, or the model's metrics written in Python (see `PyHooks`), updated
/// once per batch.
/// `collective`, for one process of a data-parallel run, the object `PyCollective` wraps.
/// Returns a dict: `epochs_completed`, `nonfinite` (None or `(epoch, step, loss)`),
/// `ran_out_of_data`.
#[pyfunction]
#[pyo3(signature = (
    graph, loss, metrics, optimizer, x, y=None, validation=None, *, epochs=1, initial_epoch=0,
    batch_size=32, shuffle=true, steps_per_epoch=None, validation_batch_size=None,
    validation_steps=None, stop_on_nonfinite=false, hooks=None, every_batch=false,
    loss_weights=None, output_names=None, sample_weight=None, validation_freq=None, seed=None,
    python_metrics=None, collective=None
))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    graph: PyRef<'_, PyGraph>,
    loss: &Bound<'py, PyAny>,
    metrics: &Bound<'py, PyAny>,
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
    loss_weights: Option<Vec<f64>>,
    output_names: Option<Vec<String>>,
    sample_weight: Option<&Bound<'py, PyAny>>,
    validation_freq: Option<&Bound<'py, PyAny>>,
    seed: Option<u64>,
    python_metrics: Option<Py<PyAny>>,
    collective: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let outputs = output_losses(&graph.inner, loss, metrics, loss_weights, output_names)?;
    let arity = (
        graph.inner.input_shapes().len(),
        graph.inner.outputs().len(),
    );
    let mut train = Source::new(x, y, sample_weight, arity.0, arity.1)?;
    let mut validation = match validation {
        Some(v) => {
            let (vx, vy, vw) = (v.get_item(0)?, v.get_item(1).ok(), v.get_item(2).ok());
            Some(Source::new(
                &vx,
                vy.as_ref(),
                vw.as_ref(),
                arity.0,
                arity.1,
            )?)
        }
        None => None,
    };
    let validation_freq = match validation_freq {
        None => ValidationFreq::default(),
        Some(freq) => match freq.extract::<i64>() {
            Ok(n) if n > 0 => ValidationFreq::Every(n as usize),
            Ok(n) => {
                return Err(PyValueError::new_err(format!(
                    "validation_freq must be a positive integer or a list of epochs, received \
                     validation_freq={n}"
                )));
            }
            Err(_) => ValidationFreq::Epochs(freq.extract::<Vec<usize>>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "validation_freq must be a positive integer or a list of epochs, received \
                     {freq}"
                ))
            })?),
        },
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
        validation_freq,
        resumable: seed.is_some(),
    };
    let graph = graph.inner.clone();
    let optimizer = optimizer.inner.clone();
    let collective = collective
        .filter(|c| !c.is_none())
        .map(PyCollective::new)
        .transpose()?;
    let mut hooks = PyHooks::new(hooks, every_batch)
        .with_metrics(python_metrics)
        .with_collective(collective);
    let mut generator = match seed {
        Some(seed) => <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed),
        None => rng::fork(),
    };
    let result = py.detach(|| {
        let compiled = Compiled {
            graph: &graph,
            outputs,
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
#[pyo3(signature = (
    graph, loss, metrics, x, y=None, *, batch_size=32, steps=None, hooks=None, every_batch=false,
    loss_weights=None, output_names=None, sample_weight=None, python_metrics=None
))]
#[allow(clippy::too_many_arguments)]
fn evaluate(
    py: Python<'_>,
    graph: PyRef<'_, PyGraph>,
    loss: &Bound<'_, PyAny>,
    metrics: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: Option<&Bound<'_, PyAny>>,
    batch_size: usize,
    steps: Option<usize>,
    hooks: Option<Py<PyAny>>,
    every_batch: bool,
    loss_weights: Option<Vec<f64>>,
    output_names: Option<Vec<String>>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    python_metrics: Option<Py<PyAny>>,
) -> PyResult<Vec<(String, f64)>> {
    let outputs = output_losses(&graph.inner, loss, metrics, loss_weights, output_names)?;
    let mut data = Source::new(
        x,
        y,
        sample_weight,
        graph.inner.input_shapes().len(),
        graph.inner.outputs().len(),
    )?;
    let graph = graph.inner.clone();
    let mut hooks = PyHooks::new(hooks, every_batch).with_metrics(python_metrics);
    let result = py.detach(|| {
        let compiled = Compiled {
            graph: &graph,
            outputs,
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

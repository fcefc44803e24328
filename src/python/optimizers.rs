//! Python binding for `crate::optimizers`: the `Optimizer` and `Schedule` classes that the
//! Python optimizers (`ferrograd.optimizers`) hold as `_core`. Configs cross as JSON, the same
//! JSON a model file stores.

use std::sync::Arc;

use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
use parking_lot::Mutex;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::convert::{array_to_storage, as_numeric_array, storage_to_numpy, to_storage, type_name};
use super::errors::guarded;
use super::tensor::PyTensor;
use crate::dtype::DType;
use crate::optimizers::{Optimizer, OptimizerConfig, Schedule};
use crate::storage::Storage;
use crate::tensor::Tensor;

fn parse_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json)
        .map_err(|e| PyValueError::new_err(format!("invalid {what} config {json}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The tensors of a Python iterable, refusing anything else with its position.
fn tensor_list(what: &str, seq: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    let mut out = Vec::new();
    for (i, item) in seq.try_iter()?.enumerate() {
        let item = item?;
        match item.cast::<PyTensor>() {
            Ok(t) => out.push(t.get().inner.clone()),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "{what}[{i}] must be a ferrograd Tensor, received {}",
                    type_name(&item)
                )));
            }
        }
    }
    Ok(out)
}

/// The gradients as storages: a tensor's data is shared as is (no copy, its dtype kept so that
/// a mismatch is reported), anything array-like is converted to its parameter's dtype.
fn grad_list(seq: &Bound<'_, PyAny>, params: &[Tensor]) -> PyResult<Vec<Arc<Storage>>> {
    let mut out = Vec::new();
    for (i, item) in seq.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(t) = item.cast::<PyTensor>() {
            out.push(t.get().inner.data());
            continue;
        }
        let dtype = params.get(i).map_or(DType::F32, |p| p.dtype());
        out.push(Arc::new(to_storage(&item, dtype)?));
    }
    Ok(out)
}

/// A saved slot value as storage, keeping its float dtype (so that a mismatch is reported).
fn slot_storage(value: &Bound<'_, PyAny>) -> PyResult<Storage> {
    if let Ok(t) = value.cast::<PyTensor>() {
        return Ok((*t.get().inner.data()).clone());
    }
    let array = as_numeric_array(value)?;
    let descr = array.dtype();
    let dtype = if descr.kind() == b'f' && descr.itemsize() == 4 {
        DType::F32
    } else {
        DType::F64
    };
    array_to_storage(&array, dtype)
}

/// The state of an optimizer: its config (an `OptimizerConfig` as JSON), its iteration count
/// and the slot variables of the parameters it has updated.
#[pyclass(name = "Optimizer", module = "ferrograd._core", frozen)]
pub struct PyOptimizer {
    pub inner: Arc<Mutex<Optimizer>>,
}

#[pymethods]
impl PyOptimizer {
    #[new]
    fn new(config_json: &str) -> PyResult<PyOptimizer> {
        guarded(|| {
            let config: OptimizerConfig = parse_json("optimizer", config_json)?;
            Ok(PyOptimizer {
                inner: Arc::new(Mutex::new(Optimizer::new(config)?)),
            })
        })
    }

    /// The config as JSON.
    fn config_json(&self) -> PyResult<String> {
        to_json(self.inner.lock().config())
    }

    #[getter]
    fn iterations(&self) -> u64 {
        self.inner.lock().iterations()
    }

    #[setter]
    fn set_iterations(&self, iterations: u64) {
        self.inner.lock().set_iterations(iterations);
    }

    /// The learning rate the next update will use.
    #[getter]
    fn learning_rate(&self) -> f64 {
        self.inner.lock().current_learning_rate()
    }

    /// Replaces the schedule with a constant.
    fn set_learning_rate(&self, learning_rate: f64) -> PyResult<()> {
        Ok(self.inner.lock().set_learning_rate(learning_rate)?)
    }

    /// Replaces the schedule (a `Schedule` config as JSON).
    fn set_schedule(&self, schedule_json: &str) -> PyResult<()> {
        let schedule: Schedule = parse_json("schedule", schedule_json)?;
        Ok(self.inner.lock().set_schedule(schedule)?)
    }

    /// One update of `params` (tensors) with `grads` (tensors or array-likes, same order), at
    /// `learning_rate` when given, else at the schedule's rate. Runs without the GIL.
    #[pyo3(signature = (params, grads, learning_rate=None))]
    fn apply(
        &self,
        py: Python<'_>,
        params: &Bound<'_, PyAny>,
        grads: &Bound<'_, PyAny>,
        learning_rate: Option<f64>,
    ) -> PyResult<()> {
        let params = tensor_list("trainable_variables", params)?;
        let grads = grad_list(grads, &params)?;
        let inner = &self.inner;
        guarded(|| {
            py.detach(|| {
                let mut opt = inner.lock();
                match learning_rate {
                    Some(lr) => opt.apply_with_learning_rate(&params, &grads, lr),
                    None => opt.apply(&params, &grads),
                }
            })?;
            Ok(())
        })
    }

    /// One update of `params` with their own `.grad` (those without one are left alone).
    #[pyo3(signature = (params, learning_rate=None))]
    fn step(
        &self,
        py: Python<'_>,
        params: &Bound<'_, PyAny>,
        learning_rate: Option<f64>,
    ) -> PyResult<()> {
        let params = tensor_list("params", params)?;
        let inner = &self.inner;
        guarded(|| {
            py.detach(|| {
                let mut opt = inner.lock();
                match learning_rate {
                    Some(lr) => opt.step_with_learning_rate(&params, lr),
                    None => opt.step(&params),
                }
            })?;
            Ok(())
        })
    }

    /// The slot variables of `params` as a list of `("{index}/{slot name}", numpy array)`.
    fn slots<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let params = tensor_list("params", params)?;
        let slots = self.inner.lock().slots(&params);
        let items = slots
            .iter()
            .map(|(name, storage)| {
                PyTuple::new(
                    py,
                    [
                        name.into_pyobject(py)?.into_any(),
                        storage_to_numpy(py, storage)?,
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Loads slot variables (a dict or a list of `(name, array)` pairs, as `slots` returns).
    fn load_slots(&self, params: &Bound<'_, PyAny>, slots: &Bound<'_, PyAny>) -> PyResult<()> {
        let params = tensor_list("params", params)?;
        let pairs = match slots.cast::<PyDict>() {
            Ok(dict) => dict.items().into_any(),
            Err(_) => slots.clone(),
        };
        let mut loaded = Vec::new();
        for item in pairs.try_iter()? {
            let (name, value): (String, Bound<'_, PyAny>) = item?.extract().map_err(|_| {
                PyTypeError::new_err("slots must be (name, array) pairs or a dict of them")
            })?;
            loaded.push((name, slot_storage(&value)?));
        }
        guarded(|| Ok(self.inner.lock().load_slots(&params, loaded)?))
    }

    fn __repr__(&self) -> String {
        let opt = self.inner.lock();
        format!(
            "<Optimizer {} iterations={}>",
            opt.config().rule.name(),
            opt.iterations()
        )
    }
}

/// A learning-rate schedule (a `Schedule` config as JSON), checked on creation.
#[pyclass(name = "Schedule", module = "ferrograd._core", frozen)]
pub struct PySchedule {
    pub inner: Schedule,
}

#[pymethods]
impl PySchedule {
    #[new]
    fn new(config_json: &str) -> PyResult<PySchedule> {
        let inner: Schedule = parse_json("schedule", config_json)?;
        inner.validate()?;
        Ok(PySchedule { inner })
    }

    /// The learning rate at `step`.
    fn at(&self, step: u64) -> f64 {
        self.inner.at(step)
    }

    fn config_json(&self) -> PyResult<String> {
        to_json(&self.inner)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOptimizer>()?;
    m.add_class::<PySchedule>()?;
    Ok(())
}

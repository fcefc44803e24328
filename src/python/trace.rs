//! Python access to the trace recorder (`crate::trace`): what `ferrograd.tracing` uses to turn
//! a Python `call()` into graph nodes.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::errors::{ferrograd_error, guarded};
use super::tensor::PyTensor;
use crate::trace::{self, TracedStep};

fn wrap_all(tensors: Vec<crate::tensor::Tensor>) -> Vec<PyTensor> {
    tensors.into_iter().map(PyTensor::wrap).collect()
}

/// Starts recording the tensor ops made on this thread.
#[pyfunction]
fn _trace_start() -> PyResult<()> {
    guarded(|| Ok(trace::start()?))
}

/// Ends the recording; returns its steps in order: `("op", op_json, inputs, output)` for a
/// tensor op, `("call", token, inputs, outputs)` for a layer or model noted by `_trace_call`.
/// Empty when no recording was on.
#[pyfunction]
fn _trace_finish<'py>(py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    let steps = trace::finish().unwrap_or_default();
    steps
        .into_iter()
        .map(|step| match step {
            TracedStep::Op { op, inputs, output } => {
                let json = serde_json::to_string(&op).map_err(|e| {
                    pyo3::exceptions::PyValueError::new_err(format!("op {op:?}: {e}"))
                })?;
                ("op", json, wrap_all(inputs), PyTensor::wrap(output)).into_pyobject(py)
            }
            TracedStep::Call {
                token,
                inputs,
                outputs,
            } => ("call", token, wrap_all(inputs), wrap_all(outputs)).into_pyobject(py),
        })
        .collect()
}

/// Whether ops made now are recorded.
#[pyfunction]
fn _trace_active() -> bool {
    trace::is_recording()
}

/// Pauses the recording while a built-in layer or model runs (its own ops are not the
/// trace's); `_trace_resume` ends the pause.
#[pyfunction]
fn _trace_pause() {
    trace::pause();
}

#[pyfunction]
fn _trace_resume() {
    trace::resume();
}

/// Notes a call of the layer or model the tracer knows by `token`, with the tensors it read
/// and made.
#[pyfunction]
fn _trace_call(token: usize, inputs: Vec<PyRef<'_, PyTensor>>, outputs: Vec<PyRef<'_, PyTensor>>) {
    trace::record_call(
        token,
        inputs.iter().map(|t| t.inner.clone()).collect(),
        outputs.iter().map(|t| t.inner.clone()).collect(),
    );
}

/// Marks the input tensors of the traced code.
#[pyfunction]
fn _trace_inputs(inputs: Vec<PyRef<'_, PyTensor>>) {
    for tensor in &inputs {
        trace::mark_input(&tensor.inner);
    }
}

/// A tensor's identity (the same for every Python object wrapping it).
#[pyfunction]
fn _tensor_uid(tensor: PyRef<'_, PyTensor>) -> u64 {
    tensor.inner.id()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_trace_start, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_finish, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_active, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_pause, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_resume, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_call, m)?)?;
    m.add_function(wrap_pyfunction!(_tensor_uid, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_inputs, m)?)?;
    Ok(())
}

/// Raises `TracedValueError` when `tensor` is a traced value (see `trace::check_readable`).
pub fn check_readable(tensor: &crate::tensor::Tensor, reading: &str) -> PyResult<()> {
    trace::check_readable(tensor, reading)
        .map_err(|message| ferrograd_error("TracedValueError", message))
}

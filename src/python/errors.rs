//! Core errors as Python exceptions, and the guard that keeps panics out of Python.
//!
//! The exception classes live in the pure-Python module `ferrograd.errors` so that they can
//! inherit from two builtins where that helps (`ShapeError` is a `ValueError`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::error::Error;

pub fn ferrograd_error(name: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let class = py
            .import("ferrograd.errors")
            .and_then(|module| module.getattr(name));
        match class {
            Ok(class) => match class.call1((message.clone(),)) {
                Ok(instance) => PyErr::from_value(instance),
                Err(e) => e,
            },
            // The package is half-installed; a builtin still carries the message.
            Err(_) => PyValueError::new_err(message),
        }
    })
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let message = err.to_string();
        match err {
            Error::ShapeMismatch { .. } | Error::Shape { .. } | Error::AxisOutOfRange { .. } => {
                ferrograd_error("ShapeError", message)
            }
            Error::DTypeMismatch { .. } => ferrograd_error("DTypeError", message),
            Error::Type(_) => PyTypeError::new_err(message),
            Error::Value(_) => PyValueError::new_err(message),
            Error::Index(_) => pyo3::exceptions::PyIndexError::new_err(message),
            Error::Autograd(_) => ferrograd_error("AutogradError", message),
            Error::OutOfMemory(_) => PyMemoryError::new_err(message),
            Error::Format(_) => ferrograd_error("FileFormatError", message),
            Error::Io { context, source } => {
                let kind = source.kind();
                PyErr::from(std::io::Error::new(kind, format!("{context}: {source}")))
            }
            Error::Interrupted => PyRuntimeError::new_err(message),
        }
    }
}

/// Runs a binding body, turning a panic (a bug) into a `RuntimeError` instead of letting pyo3
/// raise its `PanicException`, which is not even an `Exception`.
pub fn guarded<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(PyRuntimeError::new_err(format!(
                "internal error in ferrograd ({detail}); please report it"
            )))
        }
    }
}

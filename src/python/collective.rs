//! The processes of a data-parallel `fit`, as the Rust loop sees them, backed by a Python object
//! (`ferrograd.distribution`'s MPI communicator, through mpi4py).
//!
//! The loop runs without the GIL; each collective call takes it only for the mpi4py call. The
//! buffers cross as memoryviews over the loop's own memory (no copy); they are released when
//! the call returns, so Python cannot keep them.

use std::ffi::c_char;

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::error::{Error, Result};
use crate::train::{Collective, SumBuffer};

pub struct PyCollective {
    /// An object with `process_index`, `process_count`, `sum_in_place(buffers)` (a list of
    /// `(memoryview, "f" or "d")` pairs), `start_sum(memoryview, code)`, `progress()`,
    /// `wait_sums()` (which also releases the views it kept) and `broadcast_bytes(memoryview)`.
    object: Py<PyAny>,
    index: usize,
    count: usize,
    /// The Python exception that stopped the loop, for `take_error`.
    error: Option<PyErr>,
}

impl PyCollective {
    pub fn new(object: &Bound<'_, PyAny>) -> PyResult<PyCollective> {
        Ok(PyCollective {
            index: object.getattr("process_index")?.extract()?,
            count: object.getattr("process_count")?.extract()?,
            object: object.clone().unbind(),
            error: None,
        })
    }

    /// The Python exception a collective call raised, if one stopped the loop.
    pub fn take_error(&mut self) -> Option<PyErr> {
        self.error.take()
    }

    fn stash(&mut self, error: PyErr) -> Error {
        self.error = Some(error);
        Error::Interrupted
    }
}

/// A writable memoryview over `len` bytes at `data`.
///
/// # Safety
/// The memory must stay valid and unaliased until the view is released.
unsafe fn memoryview<'py>(
    py: Python<'py>,
    data: *mut u8,
    len: usize,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the caller keeps the memory valid until `release`; PyBUF_WRITE makes the view
    // writable, which the in-place sums need.
    unsafe {
        let view = pyo3::ffi::PyMemoryView_FromMemory(
            data.cast::<c_char>(),
            len as pyo3::ffi::Py_ssize_t,
            pyo3::ffi::PyBUF_WRITE,
        );
        Bound::from_owned_ptr_or_err(py, view)
    }
}

/// Releases the views, so that nothing in Python refers to the loop's memory after the call
/// (a view something still exports fails here with BufferError).
fn release_all(views: &[Bound<'_, PyAny>]) -> PyResult<()> {
    for view in views {
        view.call_method0("release")?;
    }
    Ok(())
}

impl Collective for PyCollective {
    fn process_index(&self) -> usize {
        self.index
    }

    fn process_count(&self) -> usize {
        self.count
    }

    fn sum_in_place(&mut self, buffers: &mut [SumBuffer<'_>]) -> Result<()> {
        let outcome = Python::attach(|py| -> PyResult<()> {
            let mut views = Vec::with_capacity(buffers.len());
            let pairs = PyList::empty(py);
            for buffer in buffers.iter_mut() {
                // SAFETY: the buffers are borrowed mutably for this whole call and the views
                // are released before it returns.
                let (view, code) = unsafe {
                    match buffer {
                        SumBuffer::F32(values) => (
                            memoryview(py, values.as_mut_ptr().cast(), values.len() * 4)?,
                            "f",
                        ),
                        SumBuffer::F64(values) => (
                            memoryview(py, values.as_mut_ptr().cast(), values.len() * 8)?,
                            "d",
                        ),
                    }
                };
                pairs.append((&view, code))?;
                views.push(view);
            }
            let called = self.object.bind(py).call_method1("sum_in_place", (pairs,));
            release_all(&views)?;
            called.map(|_| ())
        });
        outcome.map_err(|e| self.stash(e))
    }

    unsafe fn start_sum(&mut self, buffer: SumBuffer<'_>) -> Result<()> {
        let outcome = Python::attach(|py| -> PyResult<()> {
            // SAFETY: the caller keeps the memory valid and untouched until `wait_sums`, which
            // releases the view.
            let (view, code) = unsafe {
                match buffer {
                    SumBuffer::F32(values) => (
                        memoryview(py, values.as_mut_ptr().cast(), values.len() * 4)?,
                        "f",
                    ),
                    SumBuffer::F64(values) => (
                        memoryview(py, values.as_mut_ptr().cast(), values.len() * 8)?,
                        "d",
                    ),
                }
            };
            self.object
                .bind(py)
                .call_method1("start_sum", (view, code))
                .map(|_| ())
        });
        outcome.map_err(|e| self.stash(e))
    }

    fn progress(&mut self) -> Result<()> {
        let outcome = Python::attach(|py| -> PyResult<()> {
            self.object.bind(py).call_method0("progress").map(|_| ())
        });
        outcome.map_err(|e| self.stash(e))
    }

    fn wait_sums(&mut self) -> Result<()> {
        let outcome = Python::attach(|py| -> PyResult<()> {
            self.object.bind(py).call_method0("wait_sums").map(|_| ())
        });
        outcome.map_err(|e| self.stash(e))
    }

    fn broadcast_bytes(&mut self, bytes: &mut [u8]) -> Result<()> {
        let outcome = Python::attach(|py| -> PyResult<()> {
            // SAFETY: `bytes` is borrowed mutably for this whole call; the view is released
            // before it returns.
            let view = unsafe { memoryview(py, bytes.as_mut_ptr(), bytes.len())? };
            let called = self
                .object
                .bind(py)
                .call_method1("broadcast_bytes", (&view,));
            release_all(std::slice::from_ref(&view))?;
            called.map(|_| ())
        });
        outcome.map_err(|e| self.stash(e))
    }
}

//! The Python binding: converts types and errors, and nothing else. Built only with the
//! `python` feature, so the core compiles and tests without Python.

mod convert;
mod errors;
mod functions;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    functions::register(m)?;
    Ok(())
}

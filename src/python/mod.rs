//! The Python binding: converts types and errors, and nothing else. Built only with the
//! `python` feature, so the core compiles and tests without Python. One file per Python-facing
//! area, each with its own `register`.

mod batch_order;
mod collective;
mod convert;
mod data;
mod dlpack;
mod errors;
mod functions;
mod hooks;
mod io;
mod layers;
mod losses;
mod metrics;
mod model;
mod optimizers;
mod sources;
mod tensor;
mod trace;
mod train;

use pyo3::prelude::*;

/// The training loop allocates and frees the same few buffer sizes every step; glibc returns
/// them to the system and faults them back in (a few percent of an epoch, measured), while
/// mimalloc keeps them for reuse. Only the extension module uses it: numpy's and Python's
/// memory stay with their own allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    batch_order::register(m)?;
    functions::register(m)?;
    io::register(m)?;
    layers::register(m)?;
    model::register(m)?;
    data::register(m)?;
    losses::register(m)?;
    metrics::register(m)?;
    optimizers::register(m)?;
    train::register(m)?;
    dlpack::register(m)?;
    trace::register(m)?;
    Ok(())
}

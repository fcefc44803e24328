//! DLPack export: a tensor handed to `torch.from_dlpack` or `np.from_dlpack` without a copy.
//!
//! The export goes through numpy, which already speaks every DLPack version: the tensor's buffer
//! is wrapped in a numpy array that borrows it, and that array's own `__dlpack__` makes the
//! capsule. The borrowed buffer is kept alive by an `ExportedBuffer` holding its `Arc`, set as the
//! numpy array's base object, so the memory outlives the tensor if it must.
//!
//! Copy-on-write keeps this sound: ferrograd writes in place only into a buffer nobody else
//! holds (`Arc::make_mut`), and the `ExportedBuffer` is another holder, so while a view lives an
//! in-place update on the ferrograd side (an optimizer step, `assign`) moves the tensor to a
//! fresh buffer instead of changing the memory under the view. Writes through the view land in
//! the shared buffer and so show in the tensor until then, as in PyTorch.

use std::sync::Arc;

use numpy::PyArrayDyn;
use pyo3::exceptions::{PyBufferError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::storage::Storage;
use crate::tensor::Tensor;

/// DLPack's device type for main memory (`kDLCPU`).
pub const DLPACK_CPU: i32 = 1;

/// rust-numpy panics on arrays of more dimensions than numpy 1 allowed.
const MAX_VIEW_DIMS: usize = 32;

/// Keeps an exported buffer alive for as long as a numpy array (and so a DLPack consumer)
/// still points into it.
#[pyclass(name = "_ExportedBuffer", module = "ferrograd._core", frozen)]
pub struct ExportedBuffer {
    _storage: Arc<Storage>,
}

/// The DLPack capsule of `tensor`'s buffer, for `Tensor.__dlpack__`; the keyword arguments
/// given (stream, max_version, dl_device, copy) are passed on to numpy, which checks them.
pub fn export<'py>(
    py: Python<'py>,
    tensor: &Tensor,
    dlpack_kwargs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    if tensor.requires_grad() {
        return Err(PyRuntimeError::new_err(format!(
            "cannot export a tensor that requires grad (shape {:?}) through DLPack, since the \
             consumer would not record its operations; use tensor.detach()",
            tensor.shape()
        )));
    }
    shared_numpy_view(py, tensor.data())?.call_method("__dlpack__", (), Some(dlpack_kwargs))
}

/// A writable numpy array over `storage`'s buffer, with no copy.
fn shared_numpy_view(py: Python<'_>, storage: Arc<Storage>) -> PyResult<Bound<'_, PyAny>> {
    if storage.ndim() > MAX_VIEW_DIMS {
        return Err(PyBufferError::new_err(format!(
            "a tensor of {} dimensions cannot be exported through DLPack (at most {MAX_VIEW_DIMS})",
            storage.ndim()
        )));
    }
    let owner = Bound::new(
        py,
        ExportedBuffer {
            _storage: Arc::clone(&storage),
        },
    )?
    .into_any();
    // SAFETY: the array points into the heap buffer of the `ArrayD` inside `storage`; `owner`
    // holds an `Arc` to that same `Storage`, becomes the array's base object, and so keeps the
    // buffer alive and in place for the array's whole life (no `Arc::make_mut` can mutate or
    // free a storage with a second holder).
    let view = match &*storage {
        Storage::F32(array) => unsafe { PyArrayDyn::borrow_from_array(array, owner) }.into_any(),
        Storage::F64(array) => unsafe { PyArrayDyn::borrow_from_array(array, owner) }.into_any(),
    };
    Ok(view)
}

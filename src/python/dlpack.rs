//! DLPack both ways without a copy: a tensor handed to `torch.from_dlpack` or `np.from_dlpack`,
//! and a tensor made over another library's memory by `fg.from_dlpack`.
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
//!
//! The import also goes through numpy: `fg.from_dlpack` asks `np.from_dlpack` for a view of the
//! producer's memory, and `share_numpy_array` wraps that view in a foreign `Buffer` that holds
//! the numpy array (and so the producer's memory) alive.

use std::sync::Arc;

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyBufferError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::array_to_storage;
use super::tensor::PyTensor;
use crate::buffer::Buffer;
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
        Storage::F32(array) => {
            unsafe { PyArrayDyn::borrow_from_array(&array.view(), owner) }.into_any()
        }
        Storage::F64(array) => {
            unsafe { PyArrayDyn::borrow_from_array(&array.view(), owner) }.into_any()
        }
    };
    Ok(view)
}

/// A tensor over the memory of `array` (float32 or float64), with no copy when the memory can be
/// shared: C-contiguous, aligned, writable and not empty. Any other array is copied, since a
/// ferrograd buffer is C-ordered and an optimizer step may write into it.
#[pyfunction]
#[pyo3(name = "_share_numpy_array")]
pub fn share_numpy_array(array: &Bound<'_, PyUntypedArray>) -> PyResult<PyTensor> {
    let storage = if let Ok(typed) = array.cast::<PyArrayDyn<f32>>() {
        shared_or_copied(typed)?
    } else if let Ok(typed) = array.cast::<PyArrayDyn<f64>>() {
        shared_or_copied(typed)?
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "from_dlpack takes float32 or float64 data, received dtype {}",
            array.dtype()
        )));
    };
    Ok(PyTensor::wrap(Tensor::new(storage, false)))
}

fn shared_or_copied<T>(array: &Bound<'_, PyArrayDyn<T>>) -> PyResult<Storage>
where
    T: crate::dtype::Element + numpy::Element,
{
    let flags = array.getattr("flags")?;
    let shareable = array.is_c_contiguous()
        && flags.getattr("aligned")?.extract::<bool>()?
        && flags.getattr("writeable")?.extract::<bool>()?
        && !array.is_empty()
        && array.ndim() <= MAX_VIEW_DIMS;
    if !shareable {
        return array_to_storage(array.as_untyped(), T::DTYPE);
    }
    let owner: Box<dyn std::any::Any + Send + Sync> = Box::new(array.clone().into_any().unbind());
    // SAFETY: the array is C-contiguous, aligned, writable and holds `shape`'s product of
    // initialised values of `T`; numpy keeps that memory (and the producer's, through the
    // array's base) in place for as long as the array lives, and `owner` holds a reference to
    // the array for as long as the buffer lives.
    let buffer = unsafe { Buffer::from_foreign(array.data(), array.shape(), owner) };
    Ok(T::into_storage(buffer))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(share_numpy_array, m)?)?;
    Ok(())
}

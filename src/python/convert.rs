//! Conversions between Python values (numpy arrays, scalars, lists, tensors) and the core.

use ndarray::{ArrayD, ArrayViewD};
use numpy::{
    PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods, ToPyArray,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};

use super::tensor::PyTensor;
use crate::dtype::{DType, Element};
use crate::error::Error;
use crate::storage::{Storage, array_from_vec};
use crate::tensor::Tensor;
use crate::with_storage;

/// Parses a dtype given as a string, a numpy dtype or a type (`np.float64`, `float`); `None`
/// means float32.
pub fn parse_dtype(dtype: Option<&Bound<'_, PyAny>>) -> PyResult<DType> {
    let Some(dtype) = dtype.filter(|d| !d.is_none()) else {
        return Ok(DType::F32);
    };
    if let Ok(name) = dtype.extract::<String>() {
        return Ok(DType::parse(&name)?);
    }
    let np = dtype.py().import("numpy")?;
    let name: String = np
        .call_method1("dtype", (dtype,))
        .and_then(|d| d.getattr("name"))
        .and_then(|n| n.extract())
        .map_err(|_| PyTypeError::new_err(format!("unknown dtype {dtype}")))?;
    Ok(DType::parse(&name)?)
}

/// The numpy array for `obj` (itself when it is one), refusing what is not numeric.
pub fn as_numeric_array<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let array = match obj.cast::<PyUntypedArray>() {
        Ok(array) => array.clone(),
        Err(_) => {
            let np = obj.py().import("numpy")?;
            np.call_method1("asarray", (obj,))
                .map_err(|e| {
                    PyTypeError::new_err(format!(
                        "expected numbers, a numpy array or a tensor, received {}: {e}",
                        type_name(obj)
                    ))
                })?
                .cast_into::<PyUntypedArray>()?
        }
    };
    let kind = array.dtype().kind();
    match kind {
        b'f' | b'i' | b'u' | b'b' => Ok(array),
        b'c' => Err(PyTypeError::new_err(format!(
            "complex values are not supported (received an array of dtype {}); take .real or \
             abs() first",
            array.dtype()
        ))),
        _ => Err(PyTypeError::new_err(format!(
            "expected numeric data, received an array of dtype {}",
            array.dtype()
        ))),
    }
}

/// The values of a numeric numpy array as storage of `dtype`, copied once (converted while
/// copying when the dtypes differ), whatever the array's strides.
pub fn array_to_storage(array: &Bound<'_, PyUntypedArray>, dtype: DType) -> PyResult<Storage> {
    if array.ndim() > RUST_NUMPY_MAX_DIMS {
        return flattened_to_storage(array, dtype);
    }
    if viewable(array)? {
        if let Ok(typed) = array.cast::<PyArrayDyn<f32>>() {
            return typed_to_storage(typed, dtype);
        }
        if let Ok(typed) = array.cast::<PyArrayDyn<f64>>() {
            return typed_to_storage(typed, dtype);
        }
    }
    // Integers, booleans, float16, and float arrays that cannot be viewed go through numpy's own
    // cast, which copies into a fresh aligned array.
    let converted = array.call_method1("astype", (dtype.name(),))?;
    let converted = converted.cast::<PyUntypedArray>()?;
    array_to_storage(converted, dtype)
}

/// rust-numpy panics on arrays of more dimensions than numpy 1 allowed; numpy 2 allows 64.
const RUST_NUMPY_MAX_DIMS: usize = 32;

/// An array of too many dimensions for rust-numpy, read through a one-dimensional C-order copy
/// made by numpy.
fn flattened_to_storage(array: &Bound<'_, PyUntypedArray>, dtype: DType) -> PyResult<Storage> {
    let np = array.py().import("numpy")?;
    let flat = np
        .call_method1("ascontiguousarray", (array, dtype.name()))?
        .call_method1("reshape", (-1,))?;
    Ok(to_storage(&flat, dtype)?.into_shape(array.shape())?)
}

/// Whether rust-numpy can view the array as an ndarray: aligned, with strides that are whole
/// elements. An array made by `as_strided` or from a byte buffer at an odd offset is not, and
/// viewing it would read the wrong elements (the byte strides are divided by the element size).
fn viewable(array: &Bound<'_, PyUntypedArray>) -> PyResult<bool> {
    let itemsize = array.dtype().itemsize() as isize;
    let whole_strides = array.strides().iter().all(|s| s % itemsize == 0);
    Ok(whole_strides && array.getattr("flags")?.getattr("aligned")?.extract()?)
}

fn typed_to_storage<T: Element + numpy::Element>(
    array: &Bound<'_, PyArrayDyn<T>>,
    dtype: DType,
) -> PyResult<Storage> {
    let readonly = array.try_readonly()?;
    let view = readonly.as_array();
    Ok(match dtype {
        // The one copy: a C-contiguous array is copied as is, any other is gathered into C order.
        same if same == T::DTYPE => T::into_storage(view.as_standard_layout().into_owned()),
        DType::F32 => Storage::F32(converted(view)?.into()),
        DType::F64 => Storage::F64(converted(view)?.into()),
    })
}

/// A C-order copy of `view` with every value converted to `U`, in one pass.
fn converted<T: Element, U: Element>(view: ArrayViewD<'_, T>) -> PyResult<ArrayD<U>> {
    let values: Vec<U> = view.iter().map(|&v| U::of(v.as_f64())).collect();
    Ok(array_from_vec(view.shape(), values)?)
}

/// Any array-like (tensor, numpy array, list, scalar) as storage of `dtype`.
pub fn to_storage(obj: &Bound<'_, PyAny>, dtype: DType) -> PyResult<Storage> {
    if let Ok(tensor) = obj.cast::<PyTensor>() {
        return Ok(tensor.get().inner.data().astype(dtype));
    }
    array_to_storage(&as_numeric_array(obj)?, dtype)
}

pub fn storage_to_numpy<'py>(py: Python<'py>, storage: &Storage) -> PyResult<Bound<'py, PyAny>> {
    if storage.ndim() <= RUST_NUMPY_MAX_DIMS {
        return Ok(with_storage!(storage, a => a.view().to_pyarray(py).into_any()));
    }
    let flat = with_storage!(storage, a => PyArray1::from_iter(py, a.iter().copied()).into_any());
    flat.call_method1("reshape", (PyTuple::new(py, storage.shape())?,))
}

/// The right-hand side of an arithmetic operator.
pub enum Operand {
    Tensor(Tensor),
    Scalar(f64),
}

/// Reads an operand: a tensor as is, a Python or numpy scalar as a number, anything else
/// array-like as a constant tensor of `like`'s dtype.
pub fn to_operand(obj: &Bound<'_, PyAny>, like: &Tensor) -> PyResult<Operand> {
    if let Ok(tensor) = obj.cast::<PyTensor>() {
        return Ok(Operand::Tensor(tensor.get().inner.clone()));
    }
    if obj.is_instance_of::<PyFloat>()
        || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>())
    {
        return Ok(Operand::Scalar(obj.extract()?));
    }
    let storage = to_storage(obj, like.dtype())?;
    Ok(Operand::Tensor(Tensor::new(storage, false)))
}

/// A shape given as a tuple, a list or separate integers (`zeros(2, 3)` or `zeros((2, 3))`).
pub fn shape_from_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    let single = if args.len() == 1 {
        let first = args.get_item(0)?;
        if first.is_instance_of::<PyTuple>() || first.is_instance_of::<PyList>() {
            Some(first)
        } else {
            None
        }
    } else {
        None
    };
    let dims: Vec<isize> = match single {
        Some(seq) => seq.extract()?,
        None => args.extract()?,
    };
    dims.iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| {
                PyErr::from(Error::value(format!(
                    "a shape cannot have negative dimensions, received {dims:?}"
                )))
            })
        })
        .collect()
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

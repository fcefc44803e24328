//! Datasets from Python: numpy arrays (and memory maps) read in place, and generators.

use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::train::data::{Batch, BatchStream, Rows, batch_from_vec, batch_shape};

/// The element types a dataset may hold on the Python side.
#[derive(Clone, Copy, Debug)]
enum SourceType {
    F32,
    F64,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    Bool,
}

impl SourceType {
    fn of(array: &Bound<'_, PyUntypedArray>) -> PyResult<SourceType> {
        let dtype = array.dtype();
        let (kind, size) = (dtype.kind(), dtype.itemsize());
        Ok(match (kind, size) {
            (b'f', 4) => SourceType::F32,
            (b'f', 8) => SourceType::F64,
            (b'u', 1) => SourceType::U8,
            (b'i', 1) => SourceType::I8,
            (b'u', 2) => SourceType::U16,
            (b'i', 2) => SourceType::I16,
            (b'u', 4) => SourceType::U32,
            (b'i', 4) => SourceType::I32,
            (b'u', 8) => SourceType::U64,
            (b'i', 8) => SourceType::I64,
            (b'b', 1) => SourceType::Bool,
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "expected numeric data, received an array of dtype {dtype}"
                )));
            }
        })
    }

    fn size(self) -> usize {
        match self {
            SourceType::U8 | SourceType::I8 | SourceType::Bool => 1,
            SourceType::U16 | SourceType::I16 => 2,
            SourceType::F32 | SourceType::U32 | SourceType::I32 => 4,
            SourceType::F64 | SourceType::U64 | SourceType::I64 => 8,
        }
    }
}

/// The rows of a C-contiguous, aligned numpy array (possibly a memory map), read where they lie:
/// a batch is gathered and converted row by row, so the array is never copied whole.
pub struct NumpyRows {
    // Keeps the array (and so its buffer) alive while the loop runs without the GIL.
    _owner: Py<PyAny>,
    address: usize,
    source: SourceType,
    rows: usize,
    row_shape: Vec<usize>,
    row_len: usize,
}

impl NumpyRows {
    pub fn new(array: &Bound<'_, PyAny>) -> PyResult<NumpyRows> {
        let untyped = array
            .cast::<PyUntypedArray>()
            .map_err(|_| PyTypeError::new_err("expected a numpy array for the dataset"))?;
        let flags = array.getattr("flags")?;
        let contiguous: bool = flags.getattr("c_contiguous")?.extract()?;
        let aligned: bool = flags.getattr("aligned")?.extract()?;
        if !contiguous || !aligned {
            return Err(PyValueError::new_err(
                "the dataset array must be C-contiguous and aligned (np.ascontiguousarray)",
            ));
        }
        let shape = untyped.shape().to_vec();
        if shape.is_empty() {
            return Err(PyValueError::new_err(
                "a dataset needs at least one dimension (the rows), received a 0-d array",
            ));
        }
        let source = SourceType::of(untyped)?;
        let address: usize = array.getattr("ctypes")?.getattr("data")?.extract()?;
        let row_shape = shape[1..].to_vec();
        Ok(NumpyRows {
            _owner: array.clone().unbind(),
            address,
            source,
            rows: shape[0],
            row_len: row_shape.iter().product(),
            row_shape,
        })
    }

    fn gather_as<T: Element>(&self, rows: &[usize], dtype: DType) -> Result<Storage> {
        let shape = batch_shape(rows.len(), &self.row_shape, dtype)?;
        let mut values: Vec<T> = Vec::new();
        values
            .try_reserve_exact(rows.len() * self.row_len)
            .map_err(|_| {
                Error::OutOfMemory(format!("cannot allocate a batch of shape {shape:?}"))
            })?;
        let row_bytes = self.row_len * self.source.size();
        for &row in rows {
            if row >= self.rows {
                return Err(Error::Index(format!(
                    "row {row} is out of range for {} rows",
                    self.rows
                )));
            }
            let start = (self.address + row * row_bytes) as *const u8;
            // SAFETY: the array is C-contiguous and aligned, holds `rows * row_len` elements of
            // `source`'s type, and `_owner` keeps it alive; `row` is in range.
            unsafe { extend_converted(&mut values, start, self.row_len, self.source) };
        }
        batch_from_vec(&shape, values)
    }
}

/// Appends `count` elements of type `source` read from `start`, converted to `T`.
///
/// # Safety
/// `start` must point to `count` valid, aligned elements of the source type.
unsafe fn extend_converted<T: Element>(
    out: &mut Vec<T>,
    start: *const u8,
    count: usize,
    source: SourceType,
) {
    macro_rules! convert {
        ($t:ty, $to_f64:expr) => {{
            // SAFETY: per the function's contract.
            let values = unsafe { std::slice::from_raw_parts(start as *const $t, count) };
            out.extend(values.iter().map(|&v| T::of($to_f64(v))));
        }};
    }
    match source {
        SourceType::F32 => convert!(f32, |v: f32| v as f64),
        SourceType::F64 => convert!(f64, |v: f64| v),
        SourceType::U8 => convert!(u8, |v: u8| v as f64),
        SourceType::I8 => convert!(i8, |v: i8| v as f64),
        SourceType::U16 => convert!(u16, |v: u16| v as f64),
        SourceType::I16 => convert!(i16, |v: i16| v as f64),
        SourceType::U32 => convert!(u32, |v: u32| v as f64),
        SourceType::I32 => convert!(i32, |v: i32| v as f64),
        SourceType::U64 => convert!(u64, |v: u64| v as f64),
        SourceType::I64 => convert!(i64, |v: i64| v as f64),
        SourceType::Bool => convert!(u8, |v: u8| if v != 0 { 1.0 } else { 0.0 }),
    }
}

impl Rows for NumpyRows {
    fn len(&self) -> usize {
        self.rows
    }

    fn row_shape(&self) -> &[usize] {
        &self.row_shape
    }

    fn gather(&self, rows: &[usize], dtype: DType) -> Result<Storage> {
        match dtype {
            DType::F32 => self.gather_as::<f32>(rows, dtype),
            DType::F64 => self.gather_as::<f64>(rows, dtype),
        }
    }
}

/// Batches from a Python iterable of `(x, y)` pairs, `(x, y, sample_weight)` triples or of
/// `x` alone (a generator, a list, a
/// `PyDataset`-like object); each batch is converted as it arrives. Each epoch starts a new
/// iteration (`iter(source)`; a generator simply continues) unless the loop asks to continue.
///
/// For a model with several inputs (outputs), a batch's `x` (`y`) is a tuple or list of arrays,
/// one per input (output), in the model's order.
pub struct PyBatchStream {
    source: Py<PyAny>,
    iterator: Option<Py<PyAny>>,
    error: Option<PyErr>,
    inputs: usize,
    outputs: usize,
}

impl PyBatchStream {
    /// A stream for a model with `inputs` inputs and `outputs` outputs.
    pub fn with_arity(source: Py<PyAny>, inputs: usize, outputs: usize) -> PyBatchStream {
        PyBatchStream {
            source,
            iterator: None,
            error: None,
            inputs,
            outputs,
        }
    }

    fn fail(&mut self, error: PyErr) -> Error {
        self.error = Some(error);
        Error::Interrupted
    }

    /// The Python exception the iterator raised, if that is what stopped the loop.
    pub fn take_error(&mut self) -> Option<PyErr> {
        self.error.take()
    }
}

impl BatchStream for PyBatchStream {
    fn start_epoch(&mut self, continuing: bool) -> Result<()> {
        if continuing && self.iterator.is_some() {
            return Ok(());
        }
        let fresh = Python::attach(|py| {
            self.source
                .bind(py)
                .try_iter()
                .map(|i| i.into_any().unbind())
        });
        match fresh {
            Ok(iterator) => {
                self.iterator = Some(iterator);
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn next_batch(&mut self, dtype: DType) -> Result<Option<Batch>> {
        if self.iterator.is_none() {
            self.start_epoch(false)?;
        }
        let Some(iterator) = &self.iterator else {
            return Ok(None);
        };
        let outcome = Python::attach(|py| -> PyResult<Option<Batch>> {
            let iterator = iterator.bind(py);
            let item = match iterator.call_method0("__next__") {
                Ok(item) => item,
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let (x, y, weights) = match item.cast::<pyo3::types::PyTuple>() {
                Ok(t) if t.len() >= 3 => {
                    (t.get_item(0)?, Some(t.get_item(1)?), Some(t.get_item(2)?))
                }
                Ok(t) if t.len() == 2 => (t.get_item(0)?, Some(t.get_item(1)?), None),
                Ok(t) if t.len() == 1 => (t.get_item(0)?, None, None),
                _ => (item.clone(), None, None),
            };
            let x = arrays(&x, self.inputs, "x", dtype)?;
            let y = y
                .filter(|y| !y.is_none())
                .map(|y| arrays(&y, self.outputs, "y", dtype))
                .transpose()?;
            // As in Keras, one array of sample weights serves every output.
            let sample_weight = weights
                .filter(|w| !w.is_none())
                .map(|w| {
                    if w.cast::<numpy::PyUntypedArray>().is_ok() {
                        let one = arrays(&w, 1, "sample_weight", dtype)?;
                        Ok(vec![one[0].clone(); self.outputs])
                    } else {
                        arrays(&w, self.outputs, "sample_weight", dtype)
                    }
                })
                .transpose()?;
            Ok(Some(Batch {
                x,
                y,
                sample_weight,
            }))
        });
        outcome.map_err(|e| self.fail(e))
    }
}

/// A batch's `x` or `y`: one array, or with `count` > 1 a tuple or list of `count` arrays.
fn arrays(
    value: &Bound<'_, PyAny>,
    count: usize,
    what: &str,
    dtype: DType,
) -> PyResult<Vec<Storage>> {
    if count == 1 {
        return Ok(vec![super::convert::to_storage(value, dtype)?]);
    }
    let items: Vec<Bound<'_, PyAny>> = match value.cast::<pyo3::types::PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) => match value.cast::<pyo3::types::PyList>() {
            Ok(l) => l.iter().collect(),
            Err(_) => Vec::new(),
        },
    };
    if items.len() != count {
        return Err(PyValueError::new_err(format!(
            "a batch's {what} must be a tuple or list of {count} arrays (the model has {count} \
             {}), received {}",
            if what == "x" { "inputs" } else { "outputs" },
            value.get_type().name()?
        )));
    }
    items
        .iter()
        .map(|item| super::convert::to_storage(item, dtype))
        .collect()
}

//! Where the training loop's batches come from.
//!
//! `Rows` is a dataset whose rows can be gathered in any order (an array in memory, a memory
//! map): the loop shuffles indices and gathers each batch into a fresh buffer, converting the
//! element type on the way, so the dataset itself is never copied or converted whole.
//! `BatchStream` is a dataset that hands out whole batches in its own order (a generator).

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, Axis, IxDyn};

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::storage::{Storage, checked_numel};
use crate::with_storage;

pub trait Rows: Send {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one row (everything after the first axis).
    fn row_shape(&self) -> &[usize];

    /// A batch of the given rows, in that order, as `dtype`: shape `(rows.len(), row_shape...)`.
    fn gather(&self, rows: &[usize], dtype: DType) -> Result<Storage>;
}

/// A batch of `x` (one array per model input) and, for training and evaluation, `y` (one
/// array per model output) and optionally `sample_weight` (one array of per-sample weights per
/// model output, Keras's `sample_weight`), all with the same rows in the same order.
pub struct Batch {
    pub x: Vec<Storage>,
    pub y: Option<Vec<Storage>>,
    pub sample_weight: Option<Vec<Storage>>,
}

pub trait BatchStream: Send {
    /// Called before each epoch's first batch. `continuing` asks to go on where the previous
    /// epoch stopped (a fixed number of steps per epoch) rather than start over.
    fn start_epoch(&mut self, _continuing: bool) -> Result<()> {
        Ok(())
    }

    /// The next batch, or `None` when the stream is exhausted.
    fn next_batch(&mut self, dtype: DType) -> Result<Option<Batch>>;
}

/// Rows of an array the library owns.
pub struct ArrayRows {
    data: Arc<Storage>,
    row_shape: Vec<usize>,
}

impl ArrayRows {
    pub fn new(data: Arc<Storage>) -> Result<ArrayRows> {
        if data.ndim() == 0 {
            return Err(Error::shape(
                "data",
                "a dataset needs at least one dimension (rows)",
            ));
        }
        let row_shape = data.shape()[1..].to_vec();
        Ok(ArrayRows { data, row_shape })
    }
}

impl Rows for ArrayRows {
    fn len(&self) -> usize {
        self.data.shape()[0]
    }

    fn row_shape(&self) -> &[usize] {
        &self.row_shape
    }

    fn gather(&self, rows: &[usize], dtype: DType) -> Result<Storage> {
        with_storage!(&*self.data, a => gather_rows(a, rows, dtype))
    }
}

fn gather_rows<T: Element>(a: &ArrayRefD<T>, rows: &[usize], dtype: DType) -> Result<Storage> {
    if let Some(&bad) = rows.iter().find(|&&r| r >= a.shape()[0]) {
        return Err(Error::Index(format!(
            "row {bad} is out of range for {} rows",
            a.shape()[0]
        )));
    }
    let batch = a.select(Axis(0), rows);
    Ok(Storage::from_array(batch).astype(dtype))
}

/// The shape of a batch of `rows` rows of `row_shape`, checked for overflow.
pub fn batch_shape(rows: usize, row_shape: &[usize], dtype: DType) -> Result<Vec<usize>> {
    let mut shape = Vec::with_capacity(row_shape.len() + 1);
    shape.push(rows);
    shape.extend_from_slice(row_shape);
    checked_numel(&shape, dtype)?;
    Ok(shape)
}

/// Builds a batch from values already converted to `T`, in C order.
pub fn batch_from_vec<T: Element>(shape: &[usize], values: Vec<T>) -> Result<Storage> {
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map(T::into_storage)
        .map_err(|e| Error::value(format!("batch: {e}")))
}

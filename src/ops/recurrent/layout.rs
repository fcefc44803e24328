//! The time-major layout inside the op (rows of every step in processing order) and its
//! buffers.

use ndarray::{Array2, ArrayRefD};

use super::Dims;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::Storage;

/// The time index read at processing step `step`.
pub(super) fn time_of(step: usize, steps: usize, go_backwards: bool) -> usize {
    if go_backwards { steps - 1 - step } else { step }
}

/// Which (step, row) pairs are processed, in processing order: `keep[step * batch + row]`.
pub(super) fn processing_mask(
    mask: Option<&Array2<bool>>,
    dims: Dims,
    go_backwards: bool,
) -> Vec<bool> {
    let mut keep = vec![true; dims.steps * dims.batch];
    if let Some(mask) = mask {
        for step in 0..dims.steps {
            let t = time_of(step, dims.steps, go_backwards);
            for b in 0..dims.batch {
                keep[step * dims.batch + b] = mask[[b, t]];
            }
        }
    }
    keep
}

/// A zeroed buffer, failing cleanly when the memory cannot be had.
pub(super) fn buffer<T: Element>(len: usize) -> Result<Vec<T>> {
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| {
        Error::OutOfMemory(format!(
            "recurrent layer: cannot allocate {len} values for its state"
        ))
    })?;
    data.resize(len, T::zero());
    Ok(data)
}

pub(super) fn slice_of<T: Element>(storage: &Storage) -> Result<&[T]> {
    storage
        .typed::<T>()?
        .as_slice()
        .ok_or_else(|| Error::value("recurrent layer: operand is not contiguous"))
}

pub(super) fn slice_mut<T: Element>(a: &mut ArrayRefD<T>) -> Result<&mut [T]> {
    a.as_slice_mut()
        .ok_or_else(|| Error::value("recurrent layer: buffer is not contiguous"))
}

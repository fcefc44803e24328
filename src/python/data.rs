//! Python binding for `crate::data`: the IDX reader.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use numpy::IntoPyArray;
use pyo3::prelude::*;

use super::errors::guarded;
use crate::data::idx;
use crate::error::Error;

/// Reads an IDX file of unsigned bytes, gzipped or not (detected from its first bytes).
///
/// The header is checked before any memory is reserved, and the SHA-256 of the decompressed
/// content is computed while reading, with the GIL released.
///
/// Args:
///     path: the file, a `str` or `os.PathLike`.
///     max_bytes: the most bytes the decompressed file may hold (header included); a file whose
///         header declares more is rejected before its data is read. Defaults to, and cannot
///         exceed, 1 GiB.
///
/// Returns:
///     `(array, sha256)`: a uint8 numpy array of the shape the header declares, and the SHA-256
///     of the decompressed file as 64 hexadecimal digits.
///
/// Raises:
///     ferrograd.errors.FileFormatError: the file is truncated, corrupt, too large or not IDX.
///     OSError: the file cannot be opened or read.
///
/// Example:
///
/// >>> from ferrograd._core import read_idx
/// >>> labels, sha256 = read_idx("mnist/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
/// >>> labels.shape, labels.dtype  # doctest: +SKIP
/// ((10000,), dtype('uint8'))
#[pyfunction]
#[pyo3(signature = (path, max_bytes=None))]
fn read_idx<'py>(
    py: Python<'py>,
    path: PathBuf,
    max_bytes: Option<u64>,
) -> PyResult<(Bound<'py, PyAny>, String)> {
    guarded(|| {
        let limit = max_bytes.map_or(idx::DEFAULT_MAX_BYTES, |m| m.min(idx::DEFAULT_MAX_BYTES));
        let array = py.detach(|| idx::read_idx_with_limit(&path, limit))?;
        let sha256 = array.sha256_hex();
        // The reader returns exactly as many values as the shape holds; moved, not copied.
        let values = ArrayD::from_shape_vec(IxDyn(&array.shape), array.data)
            .map_err(|e| Error::Format(format!("{}: {e}", path.display())))?;
        Ok((values.into_pyarray(py).into_any(), sha256))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_idx, m)?)?;
    Ok(())
}

//! Python access to the safetensors encoding.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::convert::storage_to_numpy;
use super::errors::guarded;
use super::tensor::PyTensor;
use crate::io::safetensors;

/// The safetensors bytes of `(name, tensor)` pairs, with optional string metadata.
#[pyfunction]
#[pyo3(signature = (tensors, metadata=None))]
fn safetensors_dumps<'py>(
    py: Python<'py>,
    tensors: Vec<(String, PyRef<'_, PyTensor>)>,
    metadata: Option<HashMap<String, String>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let datas: Vec<(String, std::sync::Arc<crate::storage::Storage>)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.inner.data()))
        .collect();
    let bytes = guarded(|| {
        let refs: Vec<(String, &crate::storage::Storage)> = datas
            .iter()
            .map(|(name, data)| (name.clone(), &**data))
            .collect();
        Ok(safetensors::to_bytes(&refs, metadata)?)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Named numpy arrays and the string metadata of a safetensors file.
type Loaded<'py> = (Vec<(String, Bound<'py, PyAny>)>, HashMap<String, String>);

/// `([(name, numpy array), ...], metadata)` from safetensors bytes, all validated first.
#[pyfunction]
fn safetensors_loads<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Loaded<'py>> {
    let decoded = guarded(|| Ok(py.detach(|| safetensors::from_bytes(data))?))?;
    let tensors = decoded
        .tensors
        .into_iter()
        .map(|(name, storage)| Ok((name, storage_to_numpy(py, &storage)?)))
        .collect::<PyResult<_>>()?;
    Ok((tensors, decoded.metadata))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(safetensors_dumps, m)?)?;
    m.add_function(wrap_pyfunction!(safetensors_loads, m)?)?;
    Ok(())
}

//! Python binding for `crate::metrics`: the `_core.Metric` class that `ferrograd.metrics`
//! wraps, and `resolve_accuracy`.

use std::sync::Arc;

use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
use parking_lot::Mutex;
use pyo3::prelude::*;

use super::convert::{array_to_storage, as_numeric_array};
use super::errors::guarded;
use super::losses::PyLoss;
use super::tensor::PyTensor;
use crate::dtype::DType;
use crate::metrics::{Metric, MetricKind, resolve_accuracy_for_loss};
use crate::storage::Storage;

/// A streaming metric of the Rust core, built from its JSON config
/// (`'{"name": "auc", "num_thresholds": 200, "curve": "ROC"}'`).
#[pyclass(name = "Metric", module = "ferrograd._core", frozen)]
pub struct PyMetric {
    pub inner: Mutex<Metric>,
}

impl PyMetric {
    pub fn wrap(metric: Metric) -> PyMetric {
        PyMetric {
            inner: Mutex::new(metric),
        }
    }

    /// The metric's kind and parameters (for the training binding, which keeps its own state).
    pub fn kind(&self) -> MetricKind {
        self.inner.lock().kind().clone()
    }
}

/// Labels or predictions as storage: a tensor's data as is, an array-like in its own dtype when
/// that is float32, else as float64 (so integer labels stay exact).
fn storage_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arc<Storage>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().inner.data());
    }
    let array = as_numeric_array(obj)?;
    let descr = array.dtype();
    let dtype = if descr.kind() == b'f' && descr.itemsize() == 4 {
        DType::F32
    } else {
        DType::F64
    };
    Ok(Arc::new(array_to_storage(&array, dtype)?))
}

#[pymethods]
impl PyMetric {
    #[new]
    fn py_new(config: &str) -> PyResult<Self> {
        guarded(|| Ok(PyMetric::wrap(Metric::new(MetricKind::from_json(config)?)?)))
    }

    /// The metric of a name or alias (`"auc"`, `"mse"`), with Keras's defaults.
    #[staticmethod]
    fn from_name(name: &str) -> PyResult<Self> {
        guarded(|| Ok(PyMetric::wrap(Metric::new(MetricKind::parse(name)?)?)))
    }

    /// The Keras snake_case name of the metric's kind.
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.lock().name()
    }

    /// The JSON config of the metric's kind (without its state).
    fn to_json(&self) -> PyResult<String> {
        Ok(self.kind().to_json()?)
    }

    /// Accumulates one batch of labels and predictions (tensors or array-likes).
    fn update_state(&self, y_true: &Bound<'_, PyAny>, y_pred: &Bound<'_, PyAny>) -> PyResult<()> {
        guarded(|| {
            let y_true = storage_arg(y_true)?;
            let y_pred = storage_arg(y_pred)?;
            Ok(self.inner.lock().update(&y_true, &y_pred)?)
        })
    }

    /// The value over every batch since the last reset.
    fn result(&self) -> f64 {
        self.inner.lock().result()
    }

    fn reset_state(&self) {
        self.inner.lock().reset();
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("_core.Metric('{}')", self.to_json()?))
    }
}

/// The name of the metric that `"accuracy"` means for labels and predictions of these shapes
/// (Keras's rule): `"binary_accuracy"`, `"sparse_categorical_accuracy"` or
/// `"categorical_accuracy"`. With a binary cross-entropy `loss`, always binary.
#[pyfunction]
#[pyo3(signature = (y_true_shape, y_pred_shape, loss = None))]
fn resolve_accuracy(
    y_true_shape: Vec<usize>,
    y_pred_shape: Vec<usize>,
    loss: Option<PyRef<'_, PyLoss>>,
) -> &'static str {
    resolve_accuracy_for_loss(
        loss.as_deref().map(|l| &l.inner),
        &y_true_shape,
        &y_pred_shape,
    )
    .name()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMetric>()?;
    m.add_function(wrap_pyfunction!(resolve_accuracy, m)?)?;
    Ok(())
}

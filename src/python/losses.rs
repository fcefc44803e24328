//! Python binding for `crate::losses`: the `_core.Loss` class that `ferrograd.losses` wraps.

use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::as_numeric_array;
use super::errors::guarded;
use super::tensor::{PyTensor, run_op, tensor_arg};
use crate::dtype::DType;
use crate::losses::{Loss, Reduction};
use crate::nn::PrimitiveOp;
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

/// A loss function of the Rust core, built from its JSON config
/// (`'{"name": "binary_crossentropy", "from_logits": true}'`).
#[pyclass(name = "Loss", module = "ferrograd._core", frozen)]
pub struct PyLoss {
    pub inner: Loss,
}

/// The predictions as a tensor: a tensor as is, an array-like as a constant tensor (float64
/// when it is float64, float32 otherwise).
pub fn prediction_arg(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().inner.clone());
    }
    let array = as_numeric_array(obj)?;
    let descr = array.dtype();
    let dtype = if descr.kind() == b'f' && descr.itemsize() == 8 {
        DType::F64
    } else {
        DType::F32
    };
    tensor_arg(array.as_any(), dtype)
}

#[pymethods]
impl PyLoss {
    #[new]
    fn py_new(config: &str) -> PyResult<Self> {
        guarded(|| {
            Ok(PyLoss {
                inner: Loss::from_json(config)?,
            })
        })
    }

    /// The loss a traced graph computes (inputs y_true and y_pred, output the loss of each
    /// sample): a loss written in Python.
    #[staticmethod]
    fn traced(graph: PyRef<'_, super::model::PyGraph>) -> PyResult<Self> {
        guarded(|| {
            Ok(PyLoss {
                inner: crate::losses::TracedLoss::loss(graph.inner.clone())?,
            })
        })
    }

    /// The loss of a name or alias (`"mse"`, `"binary_crossentropy"`), with Keras's defaults.
    #[staticmethod]
    fn from_name(name: &str) -> PyResult<Self> {
        guarded(|| {
            Ok(PyLoss {
                inner: Loss::parse(name)?,
            })
        })
    }

    /// The Keras snake_case name.
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    #[getter(from_logits)]
    fn expects_logits(&self) -> bool {
        self.inner.from_logits()
    }

    /// The JSON config (what a model file stores).
    fn to_json(&self) -> PyResult<String> {
        Ok(self.inner.to_json()?)
    }

    /// The loss of `y_pred` (a tensor, or an array-like for a plain value) against `y_true`
    /// (converted to `y_pred`'s dtype), reduced as `reduction` says: `"sum_over_batch_size"`
    /// (the mean over samples, a scalar), `"sum"` or `"none"` (one value per sample).
    #[pyo3(signature = (y_true, y_pred, reduction = "sum_over_batch_size"))]
    fn compute(
        &self,
        y_true: &Bound<'_, PyAny>,
        y_pred: &Bound<'_, PyAny>,
        reduction: &str,
    ) -> PyResult<PyTensor> {
        Reduction::parse(reduction)?;
        let y_pred = prediction_arg(y_pred)?;
        let y_true = tensor_arg(y_true, y_pred.dtype())?;
        // As an op, so that a loss written in Python that calls a built-in one traces.
        let op = PrimitiveOp::BuiltinLoss {
            loss: self.inner.clone(),
            reduction: reduction.to_string(),
        };
        run_op(op, &[y_true, y_pred])
    }

    /// The same loss on pre-activation values when a model ends in `activation` (a Keras
    /// name), or None when they do not fuse.
    fn fused_with(&self, activation: &str) -> PyResult<Option<PyLoss>> {
        guarded(|| {
            let activation = Activation::parse(activation)?;
            Ok(self
                .inner
                .fused_with(&activation)
                .map(|inner| PyLoss { inner }))
        })
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyLoss>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let json = slf.get().to_json()?;
        PyTuple::new(
            slf.py(),
            [
                slf.get_type().into_any(),
                PyTuple::new(slf.py(), [json])?.into_any(),
            ],
        )
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("_core.Loss('{}')", self.to_json()?))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLoss>()?;
    Ok(())
}

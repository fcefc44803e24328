//! Python access to built layers, initializers, regularizers and activations.

use std::sync::Arc;

use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::convert::parse_dtype;
use super::errors::guarded;
use super::tensor::PyTensor;
use crate::error::Error;
use crate::initializers::Initializer;
use crate::nn::{BuiltLayer, Context, Mask, PrimitiveOp, Regularizer, Shape, build_layer};
use crate::ops::unary::UnaryFn;
use crate::rng;
use crate::tensor::Tensor;

fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json)
        .map_err(|e| Error::value(format!("invalid {what} settings {json}: {e}")).into())
}

/// A layer built for an input shape, with its weights.
#[pyclass(name = "Layer", module = "ferrograd._core", frozen)]
pub struct PyLayer {
    pub inner: Arc<BuiltLayer>,
}

#[pymethods]
impl PyLayer {
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.layer.kind()
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// The settings the layer was built from, as JSON.
    #[getter]
    fn config(&self) -> String {
        self.inner.layer.config().to_string()
    }

    #[getter]
    fn trainable(&self) -> bool {
        self.inner.trainable()
    }

    #[setter]
    fn set_trainable(&self, trainable: bool) {
        self.inner.set_trainable(trainable);
    }

    /// The Keras name of the activation the layer applies last.
    #[getter]
    fn output_activation(&self) -> &'static str {
        self.inner.layer.output_activation().name()
    }

    fn output_shape(&self, input_shapes: Vec<Shape>) -> PyResult<Shape> {
        Ok(self.inner.layer.output_shape(&input_shapes)?)
    }

    /// The shapes of every output (a recurrent layer with `return_state=True` adds its
    /// states).
    fn output_shapes(&self, input_shapes: Vec<Shape>) -> PyResult<Vec<Shape>> {
        Ok(self.inner.layer.output_shapes(&input_shapes)?)
    }

    /// `(name, tensor, trainable)` for each weight.
    fn weights(&self) -> Vec<(String, PyTensor, bool)> {
        self.inner
            .weights()
            .into_iter()
            .map(|w| (w.name.into_owned(), PyTensor::wrap(w.tensor), w.trainable))
            .collect()
    }

    #[pyo3(signature = (inputs, training=false))]
    fn forward(&self, inputs: Vec<PyRef<'_, PyTensor>>, training: bool) -> PyResult<PyTensor> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
        guarded(|| {
            let mut generator = rng::fork();
            let mut ctx = Context {
                training: self.inner.training_mode(training, true),
                rng: &mut generator,
                packed_kernels: None,
            };
            Ok(PyTensor::wrap(
                self.inner.layer.forward(&inputs, None, &mut ctx)?,
            ))
        })
    }

    /// Applies the layer to tensors with an optional (batch, time) mask; returns every output (a
    /// recurrent layer with `return_state=True` has several) and the mask of the output.
    #[pyo3(signature = (inputs, mask=None, training=false))]
    #[allow(clippy::type_complexity)]
    fn call<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<PyRef<'_, PyTensor>>,
        mask: Option<PyReadonlyArray2<'py, bool>>,
        training: bool,
    ) -> PyResult<(Vec<PyTensor>, Option<Bound<'py, PyArray2<bool>>>)> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
        let mask: Option<Mask> = mask.map(|m| Arc::new(m.as_array().to_owned()));
        let (outputs, output_mask) = guarded(|| {
            let mut generator = rng::fork();
            let mut ctx = Context {
                training: self.inner.training_mode(training, true),
                rng: &mut generator,
                packed_kernels: None,
            };
            let layer = &self.inner.layer;
            let outputs = layer.forward_outputs(&inputs, mask.as_ref(), &mut ctx)?;
            Ok((outputs, layer.compute_mask(&inputs, mask.as_ref())?))
        })?;
        Ok((
            outputs.into_iter().map(PyTensor::wrap).collect(),
            output_mask.map(|m| PyArray2::from_array(py, &*m)),
        ))
    }

    /// Applies the layer to tensors with each input's own (batch, time) mask (`None` where an
    /// input has none), as a layer inside a model receives them; returns every output.
    #[pyo3(signature = (inputs, masks, training=false))]
    fn call_masked<'py>(
        &self,
        inputs: Vec<PyRef<'_, PyTensor>>,
        masks: Vec<Option<PyReadonlyArray2<'py, bool>>>,
        training: bool,
    ) -> PyResult<Vec<PyTensor>> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
        let masks: Vec<Option<Mask>> = masks
            .into_iter()
            .map(|m| m.map(|m| Arc::new(m.as_array().to_owned())))
            .collect();
        let outputs = guarded(|| {
            let mut generator = rng::fork();
            let mut ctx = Context {
                training: self.inner.training_mode(training, true),
                rng: &mut generator,
                packed_kernels: None,
            };
            Ok(self
                .inner
                .layer
                .forward_outputs_masked(&inputs, &masks, &mut ctx)?)
        })?;
        Ok(outputs.into_iter().map(PyTensor::wrap).collect())
    }

    fn regularization_loss(&self) -> PyResult<Option<PyTensor>> {
        Ok(self.inner.regularization_loss()?.map(PyTensor::wrap))
    }
}

/// Builds a layer of `kind` named `name` from its settings (JSON) for inputs of the given
/// shapes (`None` for unknown dimensions).
#[pyfunction]
#[pyo3(name = "build_layer", signature = (kind, name, config, input_shapes, dtype=None))]
fn build(
    kind: &str,
    name: String,
    config: &str,
    input_shapes: Vec<Shape>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyLayer> {
    let dtype = parse_dtype(dtype)?;
    let config: serde_json::Value = from_json(kind, config)?;
    guarded(|| {
        let layer = build_layer(kind, &config, &input_shapes, dtype)?;
        Ok(PyLayer {
            inner: Arc::new(BuiltLayer::new(name, layer)),
        })
    })
}

/// A new tensor drawn by the initializer described by `config` (JSON).
#[pyfunction]
#[pyo3(signature = (config, shape, dtype=None))]
fn initialize(
    config: &str,
    shape: Vec<usize>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTensor> {
    let initializer: Initializer = from_json("initializer", config)?;
    let dtype = parse_dtype(dtype)?;
    guarded(|| Ok(PyTensor::wrap(initializer.tensor(&shape, dtype)?)))
}

/// Turns deferred initial values on or off for this thread (see
/// `crate::initializers::defer_values`); returns the previous setting. Model loading builds
/// its layers this way.
#[pyfunction]
fn defer_initial_values(deferred: bool) -> bool {
    crate::initializers::defer_values(deferred)
}

/// `l1 * sum(|w|) + l2 * sum(w^2)` as a differentiable scalar.
#[pyfunction]
fn regularization_penalty(weight: PyRef<'_, PyTensor>, l1: f64, l2: f64) -> PyResult<PyTensor> {
    let regularizer = Regularizer::new(l1, l2)?;
    guarded(|| Ok(PyTensor::wrap(regularizer.penalty(&weight.inner)?)))
}

/// Applies the elementwise function described by `config` (JSON, e.g. `{"name": "elu",
/// "alpha": 1.0}`).
#[pyfunction]
fn apply_unary(x: PyRef<'_, PyTensor>, config: &str) -> PyResult<PyTensor> {
    let function: UnaryFn = from_json("activation", config)?;
    super::tensor::run_op(
        PrimitiveOp::Unary { function },
        std::slice::from_ref(&x.inner),
    )
}

/// Copies `value` into `tensor` in place (same shape; converted to the tensor's dtype), as
/// `set_weights` and weight loading do.
#[pyfunction]
fn assign(tensor: PyRef<'_, PyTensor>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let storage = super::convert::to_storage(value, tensor.inner.dtype())?;
    Ok(tensor.inner.set_data(storage)?)
}

/// The layer kinds a model may hold.
#[pyfunction]
fn layer_kinds<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, crate::nn::layer_kinds())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLayer>()?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(initialize, m)?)?;
    m.add_function(wrap_pyfunction!(defer_initial_values, m)?)?;
    m.add_function(wrap_pyfunction!(regularization_penalty, m)?)?;
    m.add_function(wrap_pyfunction!(apply_unary, m)?)?;
    m.add_function(wrap_pyfunction!(layer_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(assign, m)?)?;
    Ok(())
}

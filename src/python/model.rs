//! Python access to a model's graph: forward, predict and weights.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::convert::{parse_dtype, storage_to_numpy};
use super::errors::guarded;
use super::hooks::PyHooks;
use super::layers::PyLayer;
use super::sources::{NumpyRows, PyBatchStream};
use super::tensor::PyTensor;
use crate::nn::{Context, Graph, GraphNode, Shape};
use crate::tensor::Tensor;
use crate::{rng, train};

/// Layers wired into a model.
#[pyclass(name = "Graph", module = "ferrograd._core", frozen)]
pub struct PyGraph {
    pub inner: Arc<Graph>,
}

/// A node given from Python: `("input", shape)` or `(layer_index, [input_node, ...])`.
fn parse_node(node: &Bound<'_, PyAny>) -> PyResult<GraphNode> {
    let (head, tail): (Bound<'_, PyAny>, Bound<'_, PyAny>) = node.extract()?;
    if let Ok(tag) = head.extract::<String>() {
        if tag == "input" {
            return Ok(GraphNode::Input {
                shape: tail.extract()?,
            });
        }
        return Err(PyValueError::new_err(format!(
            "unknown graph node tag {tag:?}"
        )));
    }
    Ok(GraphNode::Apply {
        layer: head.extract()?,
        inputs: tail.extract()?,
    })
}

#[pymethods]
impl PyGraph {
    #[new]
    #[pyo3(signature = (layers, nodes, inputs, output, dtype=None))]
    fn py_new(
        layers: Vec<PyRef<'_, PyLayer>>,
        nodes: Vec<Bound<'_, PyAny>>,
        inputs: Vec<usize>,
        output: usize,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let layers = layers.iter().map(|l| l.inner.clone()).collect();
        let nodes = nodes.iter().map(parse_node).collect::<PyResult<Vec<_>>>()?;
        let dtype = parse_dtype(dtype)?;
        guarded(|| {
            Ok(PyGraph {
                inner: Arc::new(Graph::new(layers, nodes, inputs, output, dtype)?),
            })
        })
    }

    #[getter]
    fn output_shape(&self) -> Shape {
        self.inner.output_shape().clone()
    }

    #[getter]
    fn input_shapes(&self) -> Vec<Shape> {
        self.inner.input_shapes()
    }

    fn node_shape(&self, node: usize) -> Option<Shape> {
        self.inner.node_shape(node).cloned()
    }

    #[getter]
    fn output_activation(&self) -> &'static str {
        self.inner.output_activation().name()
    }

    /// `(path, tensor, trainable)` for every weight, once, with paths like "dense/kernel".
    fn weights(&self) -> Vec<(String, PyTensor, bool)> {
        self.inner
            .weights()
            .into_iter()
            .map(|(path, w)| (path, PyTensor::wrap(w.tensor), w.trainable))
            .collect()
    }

    fn regularization_loss(&self) -> PyResult<Option<PyTensor>> {
        Ok(self.inner.regularization_loss()?.map(PyTensor::wrap))
    }

    /// The model applied to tensors, recording a graph when gradients are enabled.
    #[pyo3(signature = (inputs, training=false))]
    fn forward(&self, inputs: Vec<PyRef<'_, PyTensor>>, training: bool) -> PyResult<PyTensor> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
        guarded(|| {
            let mut generator = rng::fork();
            let mut ctx = Context {
                training,
                rng: &mut generator,
                packed_kernels: None,
            };
            Ok(PyTensor::wrap(self.inner.forward(&inputs, &mut ctx)?))
        })
    }

    /// The outputs for every row of `x` (a C-contiguous numpy array) or every batch of an
    /// iterator, computed in Rust with the GIL released.
    #[pyo3(signature = (x, batch_size=32, hooks=None, every_batch=false))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        batch_size: usize,
        hooks: Option<Py<PyAny>>,
        every_batch: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut hooks = PyHooks::new(hooks, every_batch);
        let graph = self.inner.clone();
        let result = if x.cast::<numpy::PyUntypedArray>().is_ok() {
            let rows = NumpyRows::new(x)?;
            py.detach(|| guarded_core(|| train::predict(&graph, &rows, batch_size, &mut hooks)))
        } else if x.hasattr("__iter__")? {
            let mut stream = PyBatchStream::new(x.clone().unbind());
            let result = py
                .detach(|| guarded_core(|| train::predict_stream(&graph, &mut stream, &mut hooks)));
            if let Some(error) = stream.take_error() {
                return Err(error);
            }
            result
        } else {
            return Err(PyTypeError::new_err(
                "predict: expected a numpy array or an iterable of batches",
            ));
        };
        let storage = hooks.finish(result)?;
        storage_to_numpy(py, &storage)
    }
}

/// Catches a panic in a core loop as an error, so it can be reported with the hooks' state.
pub fn guarded_core<T>(body: impl FnOnce() -> crate::Result<T>) -> crate::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(_) => Err(crate::Error::value(
            "internal error in ferrograd's training loop (a panic); please report it",
        )),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGraph>()?;
    Ok(())
}

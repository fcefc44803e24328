//! Python access to a model's graph: forward, predict and weights.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::convert::{parse_dtype, storage_to_numpy};
use super::errors::guarded;
use super::hooks::PyHooks;
use super::layers::PyLayer;
use super::sources::PyBatchStream;
use super::tensor::PyTensor;
use crate::nn::{Context, Graph, GraphNode, Shape, ValueRef};
use crate::tensor::Tensor;
use crate::train::data::Rows;
use crate::{rng, train};

/// Layers wired into a model.
#[pyclass(name = "Graph", module = "ferrograd._core", frozen)]
pub struct PyGraph {
    pub inner: Arc<Graph>,
}

/// A value a node reads: `node` (its first output) or `(node, output_index)`.
fn parse_value(value: &Bound<'_, PyAny>) -> PyResult<ValueRef> {
    if let Ok(node) = value.extract::<usize>() {
        return Ok(ValueRef::from(node));
    }
    let (node, output): (usize, usize) = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "a graph value is a node index or a (node, output_index) pair, received {value}"
        ))
    })?;
    Ok(ValueRef::new(node, output))
}

fn parse_values(values: &Bound<'_, PyAny>) -> PyResult<Vec<ValueRef>> {
    values
        .try_iter()?
        .map(|value| parse_value(&value?))
        .collect()
}

/// A node given from Python: `("input", shape)`, `(layer_index, [value, ...][, training])` or
/// `("model", graph, [value, ...][, name[, training]])` (the name "model" by default), where a
/// value is a node index or a `(node, output_index)` pair and `training` is None, True or False
/// (Keras's `training=` argument of the call).
fn parse_node(node: &Bound<'_, PyAny>) -> PyResult<GraphNode> {
    let items: Vec<Bound<'_, PyAny>> = node.extract()?;
    let Some(head) = items.first() else {
        return Err(PyValueError::new_err("a graph node cannot be empty"));
    };
    if let Ok(tag) = head.extract::<String>() {
        return match (tag.as_str(), items.as_slice()) {
            ("input", [_, shape]) => Ok(GraphNode::Input {
                shape: shape.extract()?,
            }),
            ("model", [_, model, inputs, rest @ ..]) if rest.len() <= 2 => {
                let model: PyRef<'_, PyGraph> = model.extract()?;
                let name = match rest.first() {
                    Some(name) => name.extract()?,
                    None => "model".to_string(),
                };
                Ok(GraphNode::Model {
                    name,
                    model: model.inner.clone(),
                    inputs: parse_values(inputs)?,
                    training: rest.get(1).map(|t| t.extract()).transpose()?.flatten(),
                })
            }
            ("op", [_, op, inputs, shape]) => Ok(GraphNode::Op {
                op: serde_json::from_str(&op.extract::<String>()?)
                    .map_err(|e| PyValueError::new_err(format!("invalid traced op {op}: {e}")))?,
                inputs: parse_values(inputs)?,
                shape: shape.extract()?,
            }),
            ("constant", [_, tensor]) => Ok(GraphNode::Constant {
                tensor: tensor.extract::<PyRef<'_, PyTensor>>()?.inner.clone(),
            }),
            ("variable", [_, name, tensor, trainable, regularizer]) => {
                let regularizer = match regularizer.extract::<Option<(f64, f64)>>()? {
                    Some((l1, l2)) => Some(crate::nn::Regularizer::new(l1, l2)?),
                    None => None,
                };
                Ok(GraphNode::Variable {
                    name: name.extract()?,
                    tensor: tensor.extract::<PyRef<'_, PyTensor>>()?.inner.clone(),
                    trainable: trainable.extract()?,
                    regularizer,
                })
            }
            ("input" | "model", _) => Err(PyValueError::new_err(format!(
                "a {tag:?} graph node is (\"input\", shape) or (\"model\", graph, inputs[, \
                 name[, training]]), received {node}"
            ))),
            _ => Err(PyValueError::new_err(format!(
                "unknown graph node tag {tag:?}"
            ))),
        };
    }
    match items.as_slice() {
        [layer, inputs, rest @ ..] if rest.len() <= 1 => Ok(GraphNode::Apply {
            layer: layer.extract()?,
            inputs: parse_values(inputs)?,
            training: rest.first().map(|t| t.extract()).transpose()?.flatten(),
        }),
        _ => Err(PyValueError::new_err(format!(
            "a layer graph node is (layer_index, inputs[, training]), received {node}"
        ))),
    }
}

/// The model's outputs: a node index, a `(node, output_index)` pair, or a list of these.
fn parse_outputs(output: &Bound<'_, PyAny>) -> PyResult<Vec<ValueRef>> {
    if output.extract::<usize>().is_ok() || output.extract::<(usize, usize)>().is_ok() {
        return Ok(vec![parse_value(output)?]);
    }
    parse_values(output)
}

#[pymethods]
impl PyGraph {
    #[new]
    #[pyo3(signature = (layers, nodes, inputs, output, dtype=None, added_losses=0))]
    fn py_new(
        layers: Vec<PyRef<'_, PyLayer>>,
        nodes: Vec<Bound<'_, PyAny>>,
        inputs: Vec<usize>,
        output: &Bound<'_, PyAny>,
        dtype: Option<&Bound<'_, PyAny>>,
        added_losses: usize,
    ) -> PyResult<Self> {
        let layers = layers.iter().map(|l| l.inner.clone()).collect();
        let nodes = nodes.iter().map(parse_node).collect::<PyResult<Vec<_>>>()?;
        let outputs = parse_outputs(output)?;
        let dtype = parse_dtype(dtype)?;
        guarded(|| {
            Ok(PyGraph {
                inner: Arc::new(
                    Graph::with_outputs(layers, nodes, inputs, outputs, dtype)?
                        .with_added_losses(added_losses)?,
                ),
            })
        })
    }

    /// Sets the graph that runs in inference mode instead (a traced `call()` that branches on
    /// `training`).
    fn set_inference_graph(&self, inference: PyRef<'_, PyGraph>) -> PyResult<()> {
        Ok(self.inner.set_inference_graph(inference.inner.clone())?)
    }

    /// The shape of the first output.
    #[getter]
    fn output_shape(&self) -> Shape {
        self.inner.output_shape().clone()
    }

    /// The shape of every output, in order.
    #[getter]
    fn output_shapes(&self) -> Vec<Shape> {
        self.inner.output_shapes()
    }

    /// Whether the model's weights train as a whole (freezing a nested model).
    #[getter]
    fn trainable(&self) -> bool {
        self.inner.trainable()
    }

    #[setter]
    fn set_trainable(&self, trainable: bool) {
        self.inner.set_trainable(trainable);
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

    /// The Keras name of the activation each output's layer applies last.
    #[getter]
    fn output_activations(&self) -> Vec<&'static str> {
        self.inner
            .output_activations()
            .into_iter()
            .map(|a| a.name())
            .collect()
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

    /// Every output of the model applied to tensors, in order.
    #[pyo3(signature = (inputs, training=false))]
    fn forward_all(
        &self,
        inputs: Vec<PyRef<'_, PyTensor>>,
        training: bool,
    ) -> PyResult<Vec<PyTensor>> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
        guarded(|| {
            let mut generator = rng::fork();
            let mut ctx = Context {
                training,
                rng: &mut generator,
                packed_kernels: None,
            };
            let outputs = self.inner.forward_all(&inputs, &mut ctx)?;
            Ok(outputs.into_iter().map(PyTensor::wrap).collect())
        })
    }

    /// The outputs for every row of `x` (a C-contiguous numpy array; for a model with several
    /// inputs, a list or tuple of them, one per input) or every batch of an iterator, computed in
    /// Rust with the GIL released. One numpy array for a model with one output, else a list of
    /// arrays in the graph's output order.
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
        let (inputs, outputs) = (graph.input_shapes().len(), graph.outputs().len());
        let result = if let Some(columns) = super::train::input_columns(x, inputs)? {
            py.detach(|| {
                let rows: Vec<&dyn Rows> = columns.iter().map(|c| c as &dyn Rows).collect();
                guarded_core(|| train::predict_all(&graph, &rows, batch_size, &mut hooks))
            })
        } else if x.hasattr("__iter__")? {
            let mut stream = PyBatchStream::with_arity(x.clone().unbind(), inputs, outputs);
            let result = py.detach(|| {
                guarded_core(|| train::predict_stream_all(&graph, &mut stream, &mut hooks))
            });
            if let Some(error) = stream.take_error() {
                return Err(error);
            }
            result
        } else {
            return Err(PyTypeError::new_err(
                "predict: expected a numpy array (a list of them for several inputs) or an \
                 iterable of batches",
            ));
        };
        let storages = hooks.finish(result)?;
        if outputs == 1 && storages.len() == 1 {
            return storage_to_numpy(py, &storages[0]);
        }
        let arrays = storages
            .iter()
            .map(|s| storage_to_numpy(py, s))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(pyo3::types::PyList::new(py, arrays)?.into_any())
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

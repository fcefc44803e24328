//! `Graph`: layers connected into a model, in topological order. A `Sequential` model is a
//! chain; a functional `Model` is whatever its layer calls drew: nodes with several inputs
//! (merges) or several outputs (a recurrent layer's states), layers applied twice (shared
//! weights), whole models as nodes (nesting) and several model outputs.
//!
//! `node.rs` holds the node and value types, `run.rs` the forward pass, `program.rs` layers
//! recorded as programs of core tensor ops.

mod node;
mod primitive_op;
mod program;
mod run;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

pub use node::{GraphNode, Value, ValueRef};
pub use primitive_op::{OpEnv, PrimitiveOp};
pub use program::{Program, ProgramLayer, ProgramRef, ProgramWeight, RecordedOp};

use super::{BuiltLayer, Shape, Weight};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

pub struct Graph {
    layers: Vec<Arc<BuiltLayer>>,
    nodes: Vec<GraphNode>,
    inputs: Vec<usize>,
    outputs: Vec<ValueRef>,
    /// The shape of every output of every node.
    shapes: Vec<Vec<Shape>>,
    dtype: DType,
    /// Whether its weights train, as a whole (Keras's `model.trainable`, which matters most
    /// for a model nested in another).
    trainable: AtomicBool,
    /// The graph that runs in inference mode instead, when the traced Python code branches on
    /// `training` (a custom dropout's `if training:`). It shares this graph's weights.
    inference: OnceLock<Arc<Graph>>,
    /// How many of the last outputs are not model outputs but losses the traced code added
    /// (Keras's `add_loss`): scalars that training adds to the loss.
    added_losses: usize,
}

/// Whether a value of shape `actual` fits where `expected` is declared (same rank, and every
/// known dimension of both equal).
fn shape_fits(expected: &Shape, actual: &Shape) -> bool {
    expected.len() == actual.len()
        && expected.iter().zip(actual).all(|(e, a)| match (e, a) {
            (Some(e), Some(a)) => e == a,
            _ => true,
        })
}

impl Graph {
    /// A model with one output, the first output of node `output`.
    pub fn new(
        layers: Vec<Arc<BuiltLayer>>,
        nodes: Vec<GraphNode>,
        inputs: Vec<usize>,
        output: usize,
        dtype: DType,
    ) -> Result<Graph> {
        Graph::with_outputs(layers, nodes, inputs, vec![ValueRef::from(output)], dtype)
    }

    /// Checks the wiring (every node reads existing outputs of earlier nodes, the inputs are
    /// input nodes, the outputs exist) and infers the shape of every value.
    pub fn with_outputs(
        layers: Vec<Arc<BuiltLayer>>,
        nodes: Vec<GraphNode>,
        inputs: Vec<usize>,
        outputs: Vec<ValueRef>,
        dtype: DType,
    ) -> Result<Graph> {
        let mut shapes: Vec<Vec<Shape>> = Vec::with_capacity(nodes.len());
        for (index, node) in nodes.iter().enumerate() {
            let node_shapes = match node {
                GraphNode::Input { shape } => vec![shape.clone()],
                GraphNode::Apply { layer, inputs, .. } => {
                    let built = layers.get(*layer).ok_or_else(|| {
                        Error::value(format!("graph node {index} names a missing layer {layer}"))
                    })?;
                    let input_shapes = read_shapes(index, inputs, &shapes)?;
                    let out = built.layer.output_shapes(&input_shapes)?;
                    if out.is_empty() {
                        return Err(Error::value(format!(
                            "graph node {index}: layer {:?} gives no output",
                            built.name
                        )));
                    }
                    out
                }
                GraphNode::Model {
                    name,
                    model,
                    inputs,
                    ..
                } => {
                    let input_shapes = read_shapes(index, inputs, &shapes)?;
                    let expected = model.input_shapes();
                    let fits = input_shapes.len() == expected.len()
                        && expected
                            .iter()
                            .zip(&input_shapes)
                            .all(|(e, a)| shape_fits(e, a));
                    if !fits {
                        return Err(Error::value(format!(
                            "graph node {index}: the nested model {name:?} expects inputs of \
                             shapes {}, received {}",
                            list_shapes(&expected),
                            list_shapes(&input_shapes)
                        )));
                    }
                    if model.dtype() != dtype {
                        return Err(Error::value(format!(
                            "graph node {index}: the nested model {name:?} computes in {}, the \
                             model in {}",
                            model.dtype().name(),
                            dtype.name()
                        )));
                    }
                    model.output_shapes()
                }
                GraphNode::Op { op, inputs, shape } => {
                    if let Some(bad) = inputs.iter().find(|v| {
                        v.node >= index || shapes.get(v.node).is_none_or(|s| v.output >= s.len())
                    }) {
                        return Err(Error::value(format!(
                            "graph node {index} ({}) reads {bad:?}, which is not an earlier value",
                            op.name()
                        )));
                    }
                    let arity_fits = match op.arity() {
                        Some(n) => inputs.len() == n,
                        None => !inputs.is_empty(),
                    };
                    if !arity_fits {
                        return Err(Error::value(format!(
                            "graph node {index}: {} cannot take {} operand(s)",
                            op.name(),
                            inputs.len()
                        )));
                    }
                    vec![shape.clone()]
                }
                GraphNode::Constant { tensor } | GraphNode::Variable { tensor, .. } => {
                    vec![tensor.shape().iter().map(|&d| Some(d)).collect()]
                }
            };
            shapes.push(node_shapes);
        }
        if inputs.is_empty()
            || inputs
                .iter()
                .any(|&i| !matches!(nodes.get(i), Some(GraphNode::Input { .. })))
        {
            return Err(Error::value(format!(
                "the model inputs {inputs:?} must be input nodes"
            )));
        }
        if outputs.is_empty() {
            return Err(Error::value("a model needs at least one output"));
        }
        for value in &outputs {
            let Some(node_shapes) = shapes.get(value.node) else {
                return Err(Error::value(format!(
                    "the model output {} is not a node",
                    value.node
                )));
            };
            if value.output >= node_shapes.len() {
                return Err(Error::value(format!(
                    "the model output reads output {} of node {}, which has {} output(s)",
                    value.output,
                    value.node,
                    node_shapes.len()
                )));
            }
        }
        Ok(Graph {
            layers,
            nodes,
            inputs,
            outputs,
            shapes,
            dtype,
            trainable: AtomicBool::new(true),
            inference: OnceLock::new(),
            added_losses: 0,
        })
    }

    /// Sets the graph that runs in inference mode instead of this one (once; same inputs and
    /// outputs).
    pub fn set_inference_graph(&self, inference: Arc<Graph>) -> Result<()> {
        if inference.input_shapes() != self.input_shapes()
            || inference.outputs().len() != self.outputs().len()
        {
            return Err(Error::value(
                "the inference graph must take the same inputs and give as many outputs",
            ));
        }
        self.inference
            .set(inference)
            .map_err(|_| Error::value("the graph already has an inference graph"))
    }

    /// The graph that runs when not training: the inference graph, if any, else this one.
    pub fn for_mode(&self, training: bool) -> &Graph {
        match self.inference.get() {
            Some(inference) if !training => inference,
            _ => self,
        }
    }

    /// Marks the last `count` outputs as losses the traced code added (`add_loss`), each a
    /// scalar; the model's outputs are the ones before them.
    pub fn with_added_losses(mut self, count: usize) -> Result<Graph> {
        if count >= self.outputs.len() {
            return Err(Error::value(format!(
                "a graph with {} outputs cannot hold {count} added losses and an output",
                self.outputs.len()
            )));
        }
        self.added_losses = count;
        Ok(self)
    }

    /// How many losses the traced code added.
    pub fn added_losses(&self) -> usize {
        self.added_losses
    }

    pub fn layers(&self) -> &[Arc<BuiltLayer>] {
        &self.layers
    }

    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// The model's outputs, in order (the added losses are not among them).
    pub fn outputs(&self) -> &[ValueRef] {
        &self.outputs[..self.outputs.len() - self.added_losses]
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn trainable(&self) -> bool {
        self.trainable.load(Ordering::Relaxed)
    }

    /// Freezes or unfreezes the model as a whole: a frozen model's weights (those of its
    /// nested models too) are not trainable, whatever its layers say.
    pub fn set_trainable(&self, trainable: bool) {
        self.trainable.store(trainable, Ordering::Relaxed);
    }

    pub fn input_shapes(&self) -> Vec<Shape> {
        self.inputs
            .iter()
            .map(|&i| self.shapes[i][0].clone())
            .collect()
    }

    /// The shape of the first output.
    pub fn output_shape(&self) -> &Shape {
        self.value_shape(self.outputs()[0])
    }

    /// The shape of every output, in order.
    pub fn output_shapes(&self) -> Vec<Shape> {
        self.outputs()
            .iter()
            .map(|&v| self.value_shape(v).clone())
            .collect()
    }

    /// The shape of a node's first output.
    pub fn node_shape(&self, node: usize) -> Option<&Shape> {
        self.shapes.get(node).and_then(|s| s.first())
    }

    /// The shapes of every output of a node.
    pub fn node_shapes(&self, node: usize) -> Option<&[Shape]> {
        self.shapes.get(node).map(Vec::as_slice)
    }

    fn value_shape(&self, value: ValueRef) -> &Shape {
        &self.shapes[value.node][value.output]
    }

    /// The activation the (single) output's layer applies last, what a loss may fuse with.
    pub fn output_activation(&self) -> Activation {
        self.value_activation(self.outputs()[0])
    }

    /// The activation each output's layer applies last.
    pub fn output_activations(&self) -> Vec<Activation> {
        self.outputs()
            .iter()
            .map(|&v| self.value_activation(v))
            .collect()
    }

    /// A layer's last activation belongs to its one output; a state or an input has none.
    fn value_activation(&self, value: ValueRef) -> Activation {
        match &self.nodes[value.node] {
            GraphNode::Apply { layer, .. } if self.shapes[value.node].len() == 1 => {
                self.layers[*layer].layer.output_activation()
            }
            GraphNode::Model { model, .. } if model.outputs().len() == 1 => {
                model.output_activation()
            }
            _ => Activation::Linear,
        }
    }

    /// The nested models, each once, in node order.
    fn nested_models(&self) -> Vec<(&str, &Arc<Graph>)> {
        let mut seen = HashSet::new();
        self.nodes
            .iter()
            .filter_map(|node| match node {
                GraphNode::Model { name, model, .. } => seen
                    .insert(Arc::as_ptr(model))
                    .then_some((name.as_str(), model)),
                _ => None,
            })
            .collect()
    }

    /// Every weight once (a layer used twice shares its weights), named "{layer}/{weight}", in
    /// layer order, then those of nested models as "{model}/{layer}/{weight}". A weight trains
    /// only if it, its layer and every model around it do.
    pub fn weights(&self) -> Vec<(String, Weight)> {
        let model_trainable = self.trainable();
        let mut seen = HashSet::new();
        let mut named = Vec::new();
        for layer in &self.layers {
            for weight in layer.weights() {
                if seen.insert(weight.tensor.id()) {
                    named.push((
                        format!("{}/{}", layer.name, weight.name),
                        Weight {
                            trainable: weight.trainable && model_trainable,
                            ..weight
                        },
                    ));
                }
            }
        }
        for node in &self.nodes {
            if let GraphNode::Variable {
                name,
                tensor,
                trainable,
                ..
            } = node
                && seen.insert(tensor.id())
            {
                named.push((
                    name.clone(),
                    Weight {
                        name: std::borrow::Cow::Owned(name.clone()),
                        tensor: tensor.clone(),
                        trainable: *trainable && model_trainable,
                    },
                ));
            }
        }
        for (name, model) in self.nested_models() {
            for (path, weight) in model.weights() {
                if seen.insert(weight.tensor.id()) {
                    named.push((
                        format!("{name}/{path}"),
                        Weight {
                            trainable: weight.trainable && model_trainable,
                            ..weight
                        },
                    ));
                }
            }
        }
        named
    }

    pub fn trainable_weights(&self) -> Vec<Tensor> {
        self.weights()
            .into_iter()
            .filter(|(_, w)| w.trainable)
            .map(|(_, w)| w.tensor)
            .collect()
    }

    /// The sum of the layers' weight penalties, once per layer, then the nested models'.
    pub fn regularization_loss(&self) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for layer in &self.layers {
            if let Some(penalty) = layer.regularization_loss()? {
                total = Some(match total {
                    Some(t) => t.add(&penalty)?,
                    None => penalty,
                });
            }
        }
        let mut seen = HashSet::new();
        for node in &self.nodes {
            if let GraphNode::Variable {
                tensor,
                regularizer: Some(regularizer),
                ..
            } = node
                && seen.insert(tensor.id())
            {
                let penalty = regularizer.penalty(tensor)?;
                total = Some(match total {
                    Some(t) => t.add(&penalty)?,
                    None => penalty,
                });
            }
        }
        for (_, model) in self.nested_models() {
            if let Some(penalty) = model.regularization_loss()? {
                total = Some(match total {
                    Some(t) => t.add(&penalty)?,
                    None => penalty,
                });
            }
        }
        Ok(total)
    }
}

/// The shapes of the values node `index` reads, refusing values that are not (yet) there.
fn read_shapes(index: usize, inputs: &[ValueRef], shapes: &[Vec<Shape>]) -> Result<Vec<Shape>> {
    if inputs.is_empty() {
        return Err(Error::value(format!("graph node {index} reads no value")));
    }
    inputs
        .iter()
        .map(|value| {
            if value.node >= index {
                return Err(Error::value(format!(
                    "graph node {index} must read earlier nodes, reads node {}",
                    value.node
                )));
            }
            let node_shapes = &shapes[value.node];
            node_shapes.get(value.output).cloned().ok_or_else(|| {
                Error::value(format!(
                    "graph node {index} reads output {} of node {}, which has {} output(s)",
                    value.output,
                    value.node,
                    node_shapes.len()
                ))
            })
        })
        .collect()
}

fn list_shapes(shapes: &[Shape]) -> String {
    let listed: Vec<String> = shapes.iter().map(|s| crate::nn::format_shape(s)).collect();
    format!("[{}]", listed.join(", "))
}

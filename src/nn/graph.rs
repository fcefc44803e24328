//! `Graph`: layers connected into a model, in topological order. A `Sequential` model is a
//! chain; a functional `Model` is whatever its layer calls drew.

use std::collections::HashSet;
use std::sync::Arc;

use super::core::format_shape;
use super::{BuiltLayer, Context, Mask, Shape, Weight};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub enum GraphNode {
    /// A model input of the given shape (batch dimension first, `None`).
    Input { shape: Shape },
    /// `layers[layer]` applied to the values of earlier nodes.
    Apply { layer: usize, inputs: Vec<usize> },
}

pub struct Graph {
    layers: Vec<Arc<BuiltLayer>>,
    nodes: Vec<GraphNode>,
    inputs: Vec<usize>,
    output: usize,
    shapes: Vec<Shape>,
    dtype: DType,
}

impl Graph {
    /// Checks the wiring (every node reads earlier nodes, inputs are input nodes) and infers the
    /// shape of every node.
    pub fn new(
        layers: Vec<Arc<BuiltLayer>>,
        nodes: Vec<GraphNode>,
        inputs: Vec<usize>,
        output: usize,
        dtype: DType,
    ) -> Result<Graph> {
        let mut shapes: Vec<Shape> = Vec::with_capacity(nodes.len());
        for (index, node) in nodes.iter().enumerate() {
            let shape = match node {
                GraphNode::Input { shape } => shape.clone(),
                GraphNode::Apply { layer, inputs } => {
                    let built = layers.get(*layer).ok_or_else(|| {
                        Error::value(format!("graph node {index} names a missing layer {layer}"))
                    })?;
                    if inputs.is_empty() || inputs.iter().any(|&i| i >= index) {
                        return Err(Error::value(format!(
                            "graph node {index} must read earlier nodes, reads {inputs:?}"
                        )));
                    }
                    let input_shapes: Vec<Shape> =
                        inputs.iter().map(|&i| shapes[i].clone()).collect();
                    built.layer.output_shape(&input_shapes)?
                }
            };
            shapes.push(shape);
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
        if output >= nodes.len() {
            return Err(Error::value(format!(
                "the model output {output} is not a node"
            )));
        }
        Ok(Graph {
            layers,
            nodes,
            inputs,
            output,
            shapes,
            dtype,
        })
    }

    pub fn layers(&self) -> &[Arc<BuiltLayer>] {
        &self.layers
    }

    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn input_shapes(&self) -> Vec<Shape> {
        self.inputs
            .iter()
            .map(|&i| self.shapes[i].clone())
            .collect()
    }

    pub fn output_shape(&self) -> &Shape {
        &self.shapes[self.output]
    }

    pub fn node_shape(&self, node: usize) -> Option<&Shape> {
        self.shapes.get(node)
    }

    /// The activation the output layer applies last (what a loss may fuse with).
    pub fn output_activation(&self) -> Activation {
        match &self.nodes[self.output] {
            GraphNode::Apply { layer, .. } => self.layers[*layer].layer.output_activation(),
            GraphNode::Input { .. } => Activation::Linear,
        }
    }

    pub fn forward(&self, inputs: &[Tensor], ctx: &mut Context<'_>) -> Result<Tensor> {
        self.run(inputs, ctx, false)
    }

    /// The forward pass with the output layer's final activation left out, for a loss fused
    /// with it (`output_activation()` says which).
    pub fn forward_without_output_activation(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.run(inputs, ctx, true)
    }

    fn run(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context<'_>,
        leave_out_activation: bool,
    ) -> Result<Tensor> {
        self.check_inputs(inputs)?;
        let mut values: Vec<Option<(Tensor, Option<Mask>)>> = vec![None; self.nodes.len()];
        for (&node, tensor) in self.inputs.iter().zip(inputs) {
            values[node] = Some((tensor.clone(), None));
        }
        for (index, node) in self.nodes.iter().enumerate() {
            let GraphNode::Apply { layer, inputs } = node else {
                continue;
            };
            let mut tensors = Vec::with_capacity(inputs.len());
            let mut mask = None;
            for &i in inputs {
                let (tensor, input_mask) = values[i]
                    .as_ref()
                    .ok_or_else(|| Error::value(format!("graph node {i} has no value")))?;
                tensors.push(tensor.clone());
                mask = mask.or_else(|| input_mask.clone());
            }
            let built = &self.layers[*layer];
            let output = if leave_out_activation && index == self.output {
                built
                    .layer
                    .forward_without_activation(&tensors, mask.as_ref(), ctx)?
            } else {
                built.layer.forward(&tensors, mask.as_ref(), ctx)?
            };
            let output_mask = built.layer.compute_mask(&tensors, mask.as_ref())?;
            values[index] = Some((output, output_mask));
        }
        values[self.output]
            .take()
            .map(|(tensor, _)| tensor)
            .ok_or_else(|| Error::value("the model output was not computed"))
    }

    /// Every input must match its declared rank and known dimensions.
    fn check_inputs(&self, inputs: &[Tensor]) -> Result<()> {
        if inputs.len() != self.inputs.len() {
            return Err(Error::value(format!(
                "the model expects {} input(s), received {}",
                self.inputs.len(),
                inputs.len()
            )));
        }
        for (position, (&node, tensor)) in self.inputs.iter().zip(inputs).enumerate() {
            let expected = &self.shapes[node];
            let fits = tensor.ndim() == expected.len()
                && expected
                    .iter()
                    .zip(tensor.shape())
                    .all(|(e, &actual)| e.is_none_or(|e| e == actual));
            if !fits {
                let received: Shape = tensor.shape().iter().map(|&d| Some(d)).collect();
                return Err(Error::shape(
                    "model input",
                    format!(
                        "input {position} of the model expects shape {}, received an input of \
                         shape {}",
                        format_shape(expected),
                        format_shape(&received)
                    ),
                ));
            }
            if tensor.dtype() != self.dtype {
                return Err(Error::DTypeMismatch {
                    op: "model input",
                    expected: self.dtype,
                    received: tensor.dtype(),
                });
            }
        }
        Ok(())
    }

    /// Every weight once (a layer used twice shares its weights), named "{layer}/{weight}", in
    /// layer order.
    pub fn weights(&self) -> Vec<(String, Weight)> {
        let mut seen = HashSet::new();
        let mut named = Vec::new();
        for layer in &self.layers {
            for weight in layer.weights() {
                if seen.insert(weight.tensor.id()) {
                    named.push((format!("{}/{}", layer.name, weight.name), weight));
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

    /// The sum of the layers' weight penalties, once per layer.
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
        Ok(total)
    }
}

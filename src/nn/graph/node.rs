//! The nodes of a graph and the values they exchange.

use std::sync::Arc;

use super::Graph;
use super::primitive_op::PrimitiveOp;
use crate::nn::{Mask, Regularizer, Shape};
use crate::tensor::Tensor;

/// One value of a graph: output `output` of node `node` (a layer's outputs are its result,
/// then any others such as a recurrent layer's final states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValueRef {
    pub node: usize,
    pub output: usize,
}

impl ValueRef {
    pub fn new(node: usize, output: usize) -> ValueRef {
        ValueRef { node, output }
    }
}

/// A plain node index means its first output.
impl From<usize> for ValueRef {
    fn from(node: usize) -> ValueRef {
        ValueRef { node, output: 0 }
    }
}

#[derive(Clone)]
pub enum GraphNode {
    /// A model input of the given shape (batch dimension first, `None`).
    Input { shape: Shape },
    /// `layers[layer]` applied to values of earlier nodes. The same layer may be applied by
    /// several nodes; they share its weights. `training` is Keras's `layer(x, training=...)`:
    /// `Some` fixes the mode of this call whatever the mode of the pass (`None` follows it).
    Apply {
        layer: usize,
        inputs: Vec<ValueRef>,
        training: Option<bool>,
    },
    /// A whole model applied to values of earlier nodes, its outputs the node's outputs. Its
    /// weights are the outer model's too, named "{name}/{layer}/{weight}". `training` as for
    /// `Apply`: `base(x, training=False)` keeps a base model in inference mode while the
    /// outer model trains (its dropout off, its batch normalisation on moving statistics).
    Model {
        name: String,
        model: Arc<Graph>,
        inputs: Vec<ValueRef>,
        training: Option<bool>,
    },
    /// A tensor op traced from Python code (a layer or model written in Python, a `Lambda`):
    /// `op` applied to values of earlier nodes (none for an op that makes a tensor), giving a
    /// value of `shape` (`None` where it follows the batch).
    Op {
        op: PrimitiveOp,
        inputs: Vec<ValueRef>,
        shape: Shape,
    },
    /// A tensor that traced code made from constants (an array, `ops.arange(n)`).
    Constant { tensor: Tensor },
    /// A weight that Python code created (`add_weight` of a layer written in Python), named
    /// "{layer}/{weight}" among the model's weights.
    Variable {
        name: String,
        tensor: Tensor,
        trainable: bool,
        regularizer: Option<Regularizer>,
    },
}

impl GraphNode {
    /// The mode the node fixes for its call, if any (Keras's `training=` argument).
    pub fn training(&self) -> Option<bool> {
        match self {
            GraphNode::Apply { training, .. } | GraphNode::Model { training, .. } => *training,
            _ => None,
        }
    }

    /// The values the node reads (none for an input).
    pub fn inputs(&self) -> &[ValueRef] {
        match self {
            GraphNode::Apply { inputs, .. }
            | GraphNode::Model { inputs, .. }
            | GraphNode::Op { inputs, .. } => inputs,
            GraphNode::Input { .. } | GraphNode::Constant { .. } | GraphNode::Variable { .. } => {
                &[]
            }
        }
    }
}

impl std::fmt::Debug for GraphNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphNode::Input { shape } => f.debug_struct("Input").field("shape", shape).finish(),
            GraphNode::Apply {
                layer,
                inputs,
                training,
            } => f
                .debug_struct("Apply")
                .field("layer", layer)
                .field("inputs", inputs)
                .field("training", training)
                .finish(),
            GraphNode::Model {
                name,
                inputs,
                training,
                ..
            } => f
                .debug_struct("Model")
                .field("name", name)
                .field("inputs", inputs)
                .field("training", training)
                .finish(),
            GraphNode::Op { op, inputs, shape } => f
                .debug_struct("Op")
                .field("op", op)
                .field("inputs", inputs)
                .field("shape", shape)
                .finish(),
            GraphNode::Constant { tensor } => f
                .debug_struct("Constant")
                .field("shape", &tensor.shape())
                .finish(),
            GraphNode::Variable { name, .. } => {
                f.debug_struct("Variable").field("name", name).finish()
            }
        }
    }
}

/// A computed value: a tensor and the (batch, time) mask that rides along with it.
#[derive(Clone)]
pub struct Value {
    pub tensor: Tensor,
    pub mask: Option<Mask>,
}

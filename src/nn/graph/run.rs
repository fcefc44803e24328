//! The forward pass of a graph: every node in order, each value a tensor and its mask.

use super::{Graph, GraphNode, OpEnv, Value, ValueRef};
use crate::error::{Error, Result};
use crate::nn::{Context, Mask, Shape, first_mask, format_shape};
use crate::tensor::Tensor;

impl Graph {
    /// The model's one output; a model with several refuses (see `forward_all`).
    pub fn forward(&self, inputs: &[Tensor], ctx: &mut Context<'_>) -> Result<Tensor> {
        self.single_output(inputs, ctx, false)
    }

    /// The forward pass with the output layer's final activation left out, for a loss fused
    /// with it (`output_activation()` says which).
    pub fn forward_without_output_activation(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.single_output(inputs, ctx, true)
    }

    /// Every output of the model, in order.
    pub fn forward_all(&self, inputs: &[Tensor], ctx: &mut Context<'_>) -> Result<Vec<Tensor>> {
        self.check_inputs(inputs)?;
        let values = self.run(unmasked(inputs), ctx, false, &mut Vec::new())?;
        Ok(values.into_iter().map(|v| v.tensor).collect())
    }

    /// The model's outputs (with the one output's activation left out when
    /// `leave_out_activation`), and the sum of the losses the traced code added (`add_loss`),
    /// if any: what training computes the loss from.
    pub fn forward_with_added_losses(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context<'_>,
        leave_out_activation: bool,
    ) -> Result<(Vec<Tensor>, Option<Tensor>)> {
        self.check_inputs(inputs)?;
        let leave_out = leave_out_activation && self.outputs().len() == 1;
        let mut losses = Vec::new();
        let values = self.run(unmasked(inputs), ctx, leave_out, &mut losses)?;
        let outputs: Vec<Tensor> = values.into_iter().map(|v| v.tensor).collect();
        let mut added: Option<Tensor> = None;
        for loss in losses {
            let term = loss.sum(None, false)?;
            added = Some(match added {
                Some(total) => total.add(&term)?,
                None => term,
            });
        }
        Ok((outputs, added))
    }

    fn single_output(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context<'_>,
        leave_out_activation: bool,
    ) -> Result<Tensor> {
        if self.outputs().len() != 1 {
            return Err(Error::value(format!(
                "the model has {} outputs; use forward_all to compute them all",
                self.outputs().len()
            )));
        }
        self.check_inputs(inputs)?;
        let values = self.run(unmasked(inputs), ctx, leave_out_activation, &mut Vec::new())?;
        values
            .into_iter()
            .next()
            .map(|v| v.tensor)
            .ok_or_else(|| Error::value("the model output was not computed"))
    }

    /// Runs every node on `inputs` (with their masks: a nested model receives those of the
    /// values it reads) and returns the outputs. With `leave_out_activation` (one output only)
    /// the output layer's final activation is left out. The losses the traced code added
    /// (`add_loss`), this graph's and its nested models', go to `added`.
    pub(crate) fn run(
        &self,
        inputs: Vec<Value>,
        ctx: &mut Context<'_>,
        leave_out_activation: bool,
        added: &mut Vec<Tensor>,
    ) -> Result<Vec<Value>> {
        let graph = self.for_mode(ctx.training);
        if !std::ptr::eq(graph, self) {
            return graph.run(inputs, ctx, leave_out_activation, added);
        }
        let mut values: Vec<Vec<Value>> = vec![Vec::new(); self.nodes.len()];
        for (&node, value) in self.inputs.iter().zip(inputs) {
            values[node] = vec![value];
        }
        let leave_out_node = leave_out_activation.then(|| self.outputs[0].node);
        // Traced ops that make a tensor of the batch's size read it from the first input.
        let batch = self
            .inputs
            .first()
            .and_then(|&node| values[node].first())
            .and_then(|value| value.tensor.shape().first().copied());
        for (index, node) in self.nodes.iter().enumerate() {
            if matches!(node, GraphNode::Input { .. }) {
                continue;
            }
            // A call made with `training=` keeps its mode whatever the pass's; the pass's mode
            // comes back afterwards even when the node fails.
            let pass_training = ctx.training;
            if let Some(mode) = node.training() {
                ctx.training = mode;
            }
            if let GraphNode::Apply { layer, .. } = node {
                ctx.training = self.layers[*layer].training_mode(ctx.training, self.trainable());
            }
            let pass = Pass {
                leave_out_node,
                batch,
            };
            let outputs = self.run_node(index, node, &values, ctx, pass, added);
            ctx.training = pass_training;
            values[index] = outputs?;
        }
        let visible = self.outputs().len();
        for &value in &self.outputs[visible..] {
            added.push(read(&values, value)?.tensor.clone());
        }
        self.outputs()
            .iter()
            .map(|&value| read(&values, value).cloned())
            .collect()
    }

    /// The outputs of one node, from the values of the nodes before it.
    fn run_node(
        &self,
        index: usize,
        node: &GraphNode,
        values: &[Vec<Value>],
        ctx: &mut Context<'_>,
        pass: Pass,
        added: &mut Vec<Tensor>,
    ) -> Result<Vec<Value>> {
        let Pass {
            leave_out_node,
            batch,
        } = pass;
        match node {
            GraphNode::Op { op, inputs, .. } => {
                let (tensors, _) = gather(values, inputs)?;
                let mut env = OpEnv {
                    rng: Some(&mut *ctx.rng),
                    batch,
                };
                let tensor = op.apply(&tensors, &mut env).map_err(|error| {
                    Error::value(format!("graph node {index} ({}): {error}", op.name()))
                })?;
                Ok(vec![Value { tensor, mask: None }])
            }
            GraphNode::Constant { tensor } | GraphNode::Variable { tensor, .. } => {
                Ok(vec![Value {
                    tensor: tensor.clone(),
                    mask: None,
                }])
            }
            GraphNode::Input { .. } => Ok(Vec::new()),
            GraphNode::Apply { layer, inputs, .. } => {
                let (tensors, masks) = gather(values, inputs)?;
                let layer = &self.layers[*layer].layer;
                let mask = first_mask(&masks);
                let count = self.shapes[index].len();
                let computed = if count > 1 {
                    let outputs = layer.forward_outputs_masked(&tensors, &masks, ctx)?;
                    if outputs.len() != count {
                        return Err(Error::value(format!(
                            "graph node {index}: a {} layer gave {} outputs, {count} expected",
                            layer.kind(),
                            outputs.len()
                        )));
                    }
                    outputs
                } else if leave_out_node == Some(index) {
                    vec![layer.forward_without_activation(&tensors, mask, ctx)?]
                } else {
                    vec![layer.forward_masked(&tensors, &masks, ctx)?]
                };
                let mut output_masks = layer.output_masks(&tensors, &masks)?;
                output_masks.resize(count, None);
                Ok(computed
                    .into_iter()
                    .zip(output_masks)
                    .map(|(tensor, mask)| Value { tensor, mask })
                    .collect())
            }
            GraphNode::Model { model, inputs, .. } => {
                let read = inputs
                    .iter()
                    .map(|&value| read(values, value).cloned())
                    .collect::<Result<Vec<_>>>()?;
                let leave_out = leave_out_node == Some(index) && model.outputs().len() == 1;
                model.run(read, ctx, leave_out, added)
            }
        }
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
            let expected = &self.shapes[node][0];
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
}

/// What every node of one pass shares: the node whose output activation is left out (for a
/// fused loss), and the batch size (for traced ops that make batch-sized tensors).
#[derive(Clone, Copy)]
struct Pass {
    leave_out_node: Option<usize>,
    batch: Option<usize>,
}

fn unmasked(inputs: &[Tensor]) -> Vec<Value> {
    inputs
        .iter()
        .map(|tensor| Value {
            tensor: tensor.clone(),
            mask: None,
        })
        .collect()
}

fn read(values: &[Vec<Value>], value: ValueRef) -> Result<&Value> {
    values[value.node].get(value.output).ok_or_else(|| {
        Error::value(format!(
            "graph node {} has no value for output {}",
            value.node, value.output
        ))
    })
}

/// The tensors and masks of the values a node reads.
fn gather(values: &[Vec<Value>], inputs: &[ValueRef]) -> Result<(Vec<Tensor>, Vec<Option<Mask>>)> {
    let mut tensors = Vec::with_capacity(inputs.len());
    let mut masks = Vec::with_capacity(inputs.len());
    for &value in inputs {
        let value = read(values, value)?;
        tensors.push(value.tensor.clone());
        masks.push(value.mask.clone());
    }
    Ok((tensors, masks))
}

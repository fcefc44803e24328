//! `Layer`: the behaviour of one kind of layer, once built for the shapes of its inputs.

use super::{Context, Mask, Shape, Weight};
use crate::error::Result;
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

/// The mask a single-mask layer sees: the first of its inputs' masks that is present.
pub fn first_mask(masks: &[Option<Mask>]) -> Option<&Mask> {
    masks.iter().flatten().next()
}

/// The behaviour of one kind of layer, once built for an input shape.
///
/// A layer takes one or more input tensors and gives one or more outputs: `forward` is the
/// single output, `forward_outputs` every output (a recurrent layer with `return_state=True`
/// adds its final states). Masks over (batch, time) ride along with the values: `forward` sees
/// the first input mask present, and `output_masks` gives the mask of every output from all
/// the input masks.
pub trait Layer: Send + Sync {
    fn kind(&self) -> &'static str;

    /// The settings it was built from, as stored in a model file.
    fn config(&self) -> serde_json::Value;

    /// The shape of the (first) output for inputs of `input`'s shapes.
    fn output_shape(&self, input: &[Shape]) -> Result<Shape>;

    /// The shapes of every output, `forward_outputs`'s order; by default the one `output_shape`.
    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![self.output_shape(input)?])
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor>;

    /// Every output of a call on tensors: `forward`'s, then any others (the final states of a
    /// recurrent layer with `return_state=True`), as many as `output_shapes` gives.
    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        Ok(vec![self.forward(inputs, mask, ctx)?])
    }

    /// `forward` for a layer that reads the mask of each input (attention: the query's and the
    /// value's, `None` where an input has none); by default `forward` with the first mask present.
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.forward(inputs, first_mask(masks), ctx)
    }

    /// `forward_outputs` with the mask of each input, as `forward_masked`.
    fn forward_outputs_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        self.forward_outputs(inputs, first_mask(masks), ctx)
    }

    /// The mask of the output; by default the input's mask passes through unchanged.
    fn compute_mask(&self, _inputs: &[Tensor], mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(mask.cloned())
    }

    /// Whether the layer runs in inference mode while it is frozen (`trainable=False`), even in
    /// a training pass: Keras's rule for `BatchNormalization`, whose moving statistics would
    /// otherwise keep changing in a frozen base model. `BuiltLayer::training_mode` applies it.
    fn infers_when_frozen(&self) -> bool {
        false
    }

    /// The masks of the outputs from the masks of every input (`None` where an input has
    /// none). By default the first output's mask is `compute_mask` of the first input mask
    /// present, and any further output (a final state) has none. Merge layers combine masks.
    fn output_masks(&self, inputs: &[Tensor], masks: &[Option<Mask>]) -> Result<Vec<Option<Mask>>> {
        Ok(vec![self.compute_mask(inputs, first_mask(masks))?])
    }

    fn weights(&self) -> Vec<Weight> {
        Vec::new()
    }

    /// The penalty of the layer's weight regularizers (added to the training loss).
    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// The activation this layer applies last, which a loss may fuse with.
    fn output_activation(&self) -> Activation {
        Activation::Linear
    }

    /// The forward pass without `output_activation()`.
    fn forward_without_activation(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.forward(inputs, mask, ctx)
    }
}

//! Layers and the graph that connects them into a model.
//!
//! A layer is built from its kind, its settings (the same JSON a model file stores, checked
//! against a fixed list of kinds and fields) and the shape of its input; building creates its
//! weights. The Python `Layer` classes hold their settings until the input shape is known, then
//! build the Rust layer and delegate every call to it.

mod bidirectional;
mod core;
mod embedding;
mod graph;
mod normalization;
mod pooling;
mod recurrent;
mod regularizer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;

pub use graph::{Graph, GraphNode};
pub use regularizer::Regularizer;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::gemm::MatRef;
use crate::kernels::packed::Panels;
use crate::ops::activation::Activation;
use crate::ops::recurrent::CellKind;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// A shape with unknown dimensions as `None` (the batch dimension, first, always is).
pub type Shape = Vec<Option<usize>>;

/// Which time steps of a (batch, time) input are real (true) rather than padding.
pub type Mask = Arc<Array2<bool>>;

/// What a forward pass needs besides the inputs.
pub struct Context<'a> {
    /// Training mode: dropout drops, batch normalisation uses batch statistics.
    pub training: bool,
    pub rng: &'a mut ChaCha8Rng,
    /// Kernels packed for the GEMM, kept across the batches of one `predict` call; `None` where
    /// the weights change between forward passes.
    pub packed_kernels: Option<&'a mut PackedKernels>,
}

/// Dense kernels packed once for many batches. An entry keeps the kernel's data `Arc` it was
/// packed from; because the entry shares that `Arc`, any write to the kernel makes a new one
/// (copy on write, or a new value), so an entry is current exactly while its `Arc` is still
/// the kernel's.
#[derive(Clone, Default)]
pub struct PackedKernels {
    entries: HashMap<u64, (Arc<Storage>, Option<Arc<Panels>>)>,
}

impl PackedKernels {
    /// The packing of `kernel`'s current value (packed now if it changed or is new), or `None`
    /// where no packed kernel runs for its dtype.
    pub fn get(&mut self, kernel: &Tensor) -> Option<Arc<Panels>> {
        let data = kernel.data();
        if let Some((source, panels)) = self.entries.get(&kernel.id())
            && Arc::ptr_eq(source, &data)
        {
            return panels.clone();
        }
        let panels = match (&*data, kernel.shape()) {
            (Storage::F32(array), &[rows, cols]) => array
                .as_slice()
                .and_then(|values| Panels::pack(MatRef::row_major(values, rows, cols)))
                .map(Arc::new),
            _ => None,
        };
        self.entries.insert(kernel.id(), (data, panels.clone()));
        panels
    }
}

/// A weight of a layer, under its stable name within the layer ("kernel", "bias", ...).
#[derive(Clone)]
pub struct Weight {
    pub name: &'static str,
    pub tensor: Tensor,
    pub trainable: bool,
}

/// The behaviour of one kind of layer, once built for an input shape.
pub trait Layer: Send + Sync {
    fn kind(&self) -> &'static str;

    /// The settings it was built from, as stored in a model file.
    fn config(&self) -> serde_json::Value;

    fn output_shape(&self, input: &[Shape]) -> Result<Shape>;

    fn forward(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor>;

    /// Every output of a call on tensors: `forward`'s, then any others (the final states of a
    /// recurrent layer with `return_state=True`). Inside a model a layer has one output, so the
    /// graph uses `forward`, which such layers refuse.
    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        Ok(vec![self.forward(inputs, mask, ctx)?])
    }

    /// The mask of the output; by default the input's mask passes through unchanged.
    fn compute_mask(&self, _inputs: &[Tensor], mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(mask.cloned())
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

/// A built layer with its name and whether its weights train.
pub struct BuiltLayer {
    pub name: String,
    trainable: AtomicBool,
    pub layer: Box<dyn Layer>,
}

impl BuiltLayer {
    pub fn new(name: String, layer: Box<dyn Layer>) -> BuiltLayer {
        BuiltLayer {
            name,
            trainable: AtomicBool::new(true),
            layer,
        }
    }

    pub fn trainable(&self) -> bool {
        self.trainable.load(Ordering::Relaxed)
    }

    /// Freezes or unfreezes every weight of the layer (Keras's `layer.trainable = False`).
    pub fn set_trainable(&self, trainable: bool) {
        self.trainable.store(trainable, Ordering::Relaxed);
    }

    /// The weights, trainable only if both the weight and the layer are.
    pub fn weights(&self) -> Vec<Weight> {
        let layer_trainable = self.trainable();
        self.layer
            .weights()
            .into_iter()
            .map(|w| Weight {
                trainable: w.trainable && layer_trainable,
                ..w
            })
            .collect()
    }

    pub fn regularization_loss(&self) -> Result<Option<Tensor>> {
        self.layer.regularization_loss()
    }
}

/// The layer kinds a model may hold; nothing else can be built or loaded.
pub const LAYER_KINDS: &[&str] = &[
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GlobalAveragePooling1D",
    "LSTM",
    "SimpleRNN",
];

/// Builds a layer of `kind` from its settings for inputs of `input_shapes`.
pub fn build_layer(
    kind: &str,
    config: &serde_json::Value,
    input_shapes: &[Shape],
    dtype: DType,
) -> Result<Box<dyn Layer>> {
    match kind {
        "Dense" => Ok(Box::new(core::Dense::build(
            parse_config(kind, config)?,
            input_shapes,
            dtype,
        )?)),
        "Activation" => Ok(Box::new(core::ActivationLayer::build(parse_config(
            kind, config,
        )?)?)),
        "Dropout" => Ok(Box::new(core::Dropout::build(parse_config(kind, config)?)?)),
        "Flatten" => Ok(Box::new(core::Flatten::build(parse_config(kind, config)?)?)),
        "BatchNormalization" => Ok(Box::new(normalization::BatchNormalization::build(
            parse_config(kind, config)?,
            input_shapes,
            dtype,
        )?)),
        "Embedding" => Ok(Box::new(embedding::Embedding::build(
            parse_config(kind, config)?,
            input_shapes,
            dtype,
        )?)),
        "SimpleRNN" | "LSTM" | "GRU" => {
            let cell = match kind {
                "SimpleRNN" => CellKind::SimpleRnn,
                "LSTM" => CellKind::Lstm,
                _ => CellKind::Gru,
            };
            Ok(Box::new(recurrent::Recurrent::build(
                cell,
                parse_config(kind, config)?,
                input_shapes,
                dtype,
            )?))
        }
        "Bidirectional" => Ok(Box::new(bidirectional::Bidirectional::build(
            parse_config(kind, config)?,
            input_shapes,
            dtype,
        )?)),
        "GlobalAveragePooling1D" => Ok(Box::new(pooling::GlobalAveragePooling1D::build(
            parse_config(kind, config)?,
        )?)),
        other => Err(Error::value(format!(
            "unknown layer kind {other:?}; known kinds: {}",
            LAYER_KINDS.join(", ")
        ))),
    }
}

/// Reads a layer's settings, rejecting unknown fields with a message that names them.
fn parse_config<C: DeserializeOwned>(kind: &str, config: &serde_json::Value) -> Result<C> {
    serde_json::from_value(config.clone())
        .map_err(|e| Error::value(format!("invalid settings for a {kind} layer: {e}")))
}

/// The one input of a single-input layer.
fn single_input<'a>(kind: &str, inputs: &'a [Tensor]) -> Result<&'a Tensor> {
    match inputs {
        [x] => Ok(x),
        _ => Err(Error::value(format!(
            "a {kind} layer takes exactly one input, received {}",
            inputs.len()
        ))),
    }
}

fn single_shape<'a>(kind: &str, shapes: &'a [Shape]) -> Result<&'a Shape> {
    match shapes {
        [s] => Ok(s),
        _ => Err(Error::value(format!(
            "a {kind} layer takes exactly one input, received {}",
            shapes.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm::MatMut;
    use crate::kernels::packed::gemm_with_panels;

    fn product_with(panels: Option<&Panels>, kernel: &Tensor) -> Vec<f32> {
        let x = [1.0f32, 2.0, -1.0];
        let data = kernel.data();
        let w = data.typed::<f32>().unwrap().as_slice().unwrap().to_vec();
        let mut out = vec![0.0f32; 2];
        gemm_with_panels(
            MatRef::row_major(&x, 1, 3),
            MatRef::row_major(&w, 3, 2),
            panels,
            0.0,
            MatMut::row_major(&mut out, 1, 2),
        );
        out
    }

    #[test]
    fn packed_kernels_follow_every_write_to_the_kernel() {
        let kernel = Tensor::new(
            Storage::F32(
                ndarray::ArrayD::from_shape_vec(vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
                    .unwrap()
                    .into(),
            ),
            true,
        );
        let mut cache = PackedKernels::default();
        let first = cache.get(&kernel);
        let again = cache.get(&kernel);
        // Where no packed kernel runs (not x86-64 with AVX and FMA) both are None.
        assert_eq!(first.is_some(), again.is_some());
        if let (Some(first), Some(again)) = (&first, &again) {
            assert!(
                Arc::ptr_eq(first, again),
                "an unchanged kernel is packed once"
            );
        }
        assert_eq!(product_with(again.as_deref(), &kernel), vec![2.0, 4.0]);

        // In place (as an optimizer writes), then a new value (as set_weights does).
        kernel.with_data_mut(|data| data.fill(1.0));
        let after_fill = cache.get(&kernel);
        assert_eq!(product_with(after_fill.as_deref(), &kernel), vec![2.0, 2.0]);
        kernel
            .set_data(Storage::full(DType::F32, &[3, 2], 0.5).unwrap())
            .unwrap();
        let after_set = cache.get(&kernel);
        assert_eq!(product_with(after_set.as_deref(), &kernel), vec![1.0, 1.0]);
    }
}

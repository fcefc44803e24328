//! `Weight` and `BuiltLayer`: a layer's weights, and a built layer with its name and whether
//! its weights train.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Layer;
use crate::error::Result;
use crate::tensor::Tensor;

/// A weight of a layer, under its stable name within the layer ("kernel", "bias", ...).
#[derive(Clone)]
pub struct Weight {
    pub name: Cow<'static, str>,
    pub tensor: Tensor,
    pub trainable: bool,
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

    /// The mode a call runs in, given the pass's: training, unless the layer is frozen (here or
    /// by `model_trainable`, its model's flag) and runs frozen layers in inference mode
    /// (`Layer::infers_when_frozen`).
    pub fn training_mode(&self, training: bool, model_trainable: bool) -> bool {
        training && ((self.trainable() && model_trainable) || !self.layer.infers_when_frozen())
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

//! `Embedding`: token ids to dense vectors, with Keras's settings; `mask_zero` marks id 0 as
//! padding for the layers downstream.

use std::sync::Arc;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{Initializer, RandomUniform};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, parse_config,
    single_input, single_shape, total_penalty,
};
use crate::ops::embedding::embedding;
use crate::tensor::Tensor;

/// Keras's "uniform" for embeddings: `RandomUniform(-0.05, 0.05)`.
fn uniform() -> Initializer {
    RandomUniform {
        minval: -0.05,
        maxval: 0.05,
    }
    .into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    pub input_dim: usize,
    pub output_dim: usize,
    #[serde(default = "uniform")]
    pub embeddings_initializer: Initializer,
    #[serde(default)]
    pub embeddings_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub mask_zero: bool,
}

pub struct Embedding {
    config: EmbeddingConfig,
    embeddings: Tensor,
}

impl Embedding {
    pub fn build(
        config: EmbeddingConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Embedding> {
        if config.input_dim == 0 || config.output_dim == 0 {
            return Err(Error::value(format!(
                "Embedding: input_dim and output_dim must be positive integers, received \
                 input_dim={}, output_dim={}",
                config.input_dim, config.output_dim
            )));
        }
        let input = single_shape("Embedding", input_shapes)?;
        if input.is_empty() {
            return Err(Error::shape(
                "Embedding",
                "expected token ids with a batch axis, e.g. (batch, time), received a scalar",
            ));
        }
        let embeddings = config
            .embeddings_initializer
            .tensor(&[config.input_dim, config.output_dim], dtype)?;
        embeddings.set_requires_grad(true)?;
        Ok(Embedding { config, embeddings })
    }
}

impl Layer for Embedding {
    fn kind(&self) -> &'static str {
        "Embedding"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let mut shape = single_shape("Embedding", input)?.clone();
        shape.push(Some(self.config.output_dim));
        Ok(shape)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        embedding(single_input("Embedding", inputs)?, &self.embeddings)
    }

    /// With `mask_zero`, the steps whose id is 0 are padding.
    fn compute_mask(&self, inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        if !self.config.mask_zero {
            return Ok(None);
        }
        let ids = single_input("Embedding", inputs)?;
        let &[batch, steps] = ids.shape() else {
            return Err(Error::shape(
                "Embedding",
                format!(
                    "mask_zero=True needs token ids of shape (batch, time), received {:?}",
                    ids.shape()
                ),
            ));
        };
        let kept: Vec<bool> = ids.to_f64_vec().iter().map(|&id| id != 0.0).collect();
        let mask = Array2::from_shape_vec((batch, steps), kept)
            .map_err(|e| Error::value(format!("Embedding: {e}")))?;
        Ok(Some(Arc::new(mask)))
    }

    fn weights(&self) -> Vec<Weight> {
        vec![Weight {
            name: "embeddings".into(),
            tensor: self.embeddings.clone(),
            trainable: true,
        }]
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        total_penalty(&[(self.config.embeddings_regularizer, Some(&self.embeddings))])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Embedding",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Embedding::build(
                parse_config("Embedding", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

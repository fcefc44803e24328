//! `AdditiveAttention`: Keras's Bahdanau-style attention, scores `sum(scale * tanh(q + k))`.
//!
//! Inputs, masks and outputs as `Attention` (`super::attention`); the trainable `scale` is a
//! (dim,) vector (glorot-uniform), present with `use_scale` (the default).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::attention::{
    additive_scores, attention_output_shapes, check_attention_inputs, query_mask, score_mask,
};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{GlorotUniform, Initializer};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, Weight, parse_config};
use crate::ops::attention::{AttentionSettings, FullyMaskedRows, attention_from_scores};
use crate::tensor::Tensor;

const KIND: &str = "AdditiveAttention";

fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditiveAttentionConfig {
    #[serde(default = "default_true")]
    pub use_scale: bool,
    #[serde(default)]
    pub dropout: f64,
    /// A call argument in Keras; here fixed per layer for its calls in a model.
    #[serde(default)]
    pub use_causal_mask: bool,
    /// Whether a call in a model has a second output, the attention probabilities.
    #[serde(default)]
    pub return_attention_scores: bool,
}

/// Additive attention with Keras's `scale` weight and masks.
pub struct AdditiveAttention {
    config: AdditiveAttentionConfig,
    scale: Option<Tensor>,
}

impl AdditiveAttention {
    pub fn build(
        config: AdditiveAttentionConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<AdditiveAttention> {
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(Error::value(format!(
                "{KIND}: dropout must be in [0, 1), received dropout={}",
                config.dropout
            )));
        }
        let [query, _, _] = check_attention_inputs(KIND, input_shapes)?;
        let scale = if config.use_scale {
            let Some(dim) = query[2] else {
                return Err(Error::shape(
                    "attention",
                    format!("{KIND}: the query's last dimension must be known"),
                ));
            };
            let w = Initializer::from(GlorotUniform {}).tensor(&[dim], dtype)?;
            w.set_requires_grad(true)?;
            Some(w)
        } else {
            None
        };
        Ok(AdditiveAttention { config, scale })
    }

    fn attend(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<(Tensor, Tensor)> {
        let shapes: Vec<Shape> = inputs
            .iter()
            .map(|t| t.shape().iter().map(|&d| Some(d)).collect())
            .collect();
        check_attention_inputs(KIND, &shapes)?;
        let (query, value) = (&inputs[0], &inputs[1]);
        let key = inputs.get(2).unwrap_or(value);
        let (b, t, s) = (query.shape()[0], query.shape()[1], key.shape()[1]);
        let mask_of = |i: usize| masks.get(i).and_then(|m| m.as_ref());
        let mut settings = AttentionSettings::new(1.0);
        settings.mask = score_mask(mask_of(1), self.config.use_causal_mask, (b, t, s))?;
        settings.query_mask = query_mask(mask_of(0), b, t)?;
        settings.fully_masked_rows = FullyMaskedRows::Uniform;
        if ctx.training && self.config.dropout > 0.0 {
            settings.dropout = self.config.dropout;
            settings.seed = ctx.rng.next_u64();
        }
        let scores = additive_scores(query, key, None, self.scale.as_ref())?;
        attention_from_scores(&scores, value, &settings)
    }
}

impl Layer for AdditiveAttention {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(attention_output_shapes(KIND, input, false)?.remove(0))
    }

    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        attention_output_shapes(KIND, input, self.config.return_attention_scores)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        Ok(self.attend(inputs, &[], ctx)?.0)
    }

    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        let (output, probabilities) = self.attend(inputs, &[], ctx)?;
        Ok(vec![output, probabilities])
    }

    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        Ok(self.attend(inputs, masks, ctx)?.0)
    }

    fn forward_outputs_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        let (output, probabilities) = self.attend(inputs, masks, ctx)?;
        Ok(vec![output, probabilities])
    }

    /// The output keeps the query's mask; the probabilities have none.
    fn output_masks(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![masks.first().cloned().flatten(), None])
    }

    fn weights(&self) -> Vec<Weight> {
        self.scale
            .iter()
            .map(|w| Weight {
                name: "scale".into(),
                tensor: w.clone(),
                trainable: true,
            })
            .collect()
    }
}

inventory::submit! {
    LayerRegistration {
        kind: KIND,
        build: |config, input_shapes, dtype| {
            Ok(Box::new(AdditiveAttention::build(parse_config(KIND, config)?, input_shapes, dtype)?))
        },
    }
}

//! `Attention`: Keras's dot-product (Luong) attention, or its "concat" scores.
//!
//! Inputs [query (batch, T, dim), value (batch, S, dv)] or [query, value, key (batch, S, dim)].
//! Scores are `q @ kᵀ` (times the trainable `scale` with `use_scale`), or with
//! `score_mode="concat"` `concat_score_weight * sum(tanh(scale * (q + k)))`. Masks are Keras's:
//! the value's mask removes keys, `use_causal_mask` later keys; a query row with every key
//! masked attends to all equally (Keras subtracts 1e9 from masked scores); the query's mask
//! zeroes the output rows and is the output's mask.

use std::sync::Arc;

use ndarray::{Array2, Array3};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{Initializer, Ones};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, format_shape, parse_config,
};
use crate::ops::attention::{AttentionSettings, FullyMaskedRows, attention, attention_from_scores};
use crate::tensor::Tensor;

const KIND: &str = "Attention";

fn dot() -> String {
    "dot".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionConfig {
    #[serde(default)]
    pub use_scale: bool,
    #[serde(default = "dot")]
    pub score_mode: String,
    #[serde(default)]
    pub dropout: f64,
    /// A call argument in Keras; here fixed per layer for its calls in a model.
    #[serde(default)]
    pub use_causal_mask: bool,
    /// Whether a call in a model has a second output, the attention probabilities.
    #[serde(default)]
    pub return_attention_scores: bool,
}

/// Luong-style attention with Keras's weights (`scale`, `concat_score_weight`) and masks.
pub struct Attention {
    config: AttentionConfig,
    scale: Option<Tensor>,
    concat_score_weight: Option<Tensor>,
}

/// The query, value and key shapes of a call, checked: rank 3, key and value of one length,
/// query and key of one feature size. `kind` names the layer in errors.
pub fn check_attention_inputs(kind: &str, inputs: &[Shape]) -> Result<[Shape; 3]> {
    let (query, value, key) = match inputs {
        [q, v] => (q, v, v),
        [q, v, k] => (q, v, k),
        _ => {
            return Err(Error::value(format!(
                "{kind}: expected the inputs [query, value] or [query, value, key], received {} \
                 inputs",
                inputs.len()
            )));
        }
    };
    for (name, shape) in [("query", query), ("value", value), ("key", key)] {
        if shape.len() != 3 {
            return Err(Error::shape(
                "attention",
                format!(
                    "{kind}: the {name} must be 3-D (batch, time, features), received {name} \
                     shape {}",
                    format_shape(shape)
                ),
            ));
        }
    }
    let agree = |a: Option<usize>, b: Option<usize>| a.zip(b).is_none_or(|(a, b)| a == b);
    if !agree(key[1], value[1]) {
        return Err(Error::shape(
            "attention",
            format!(
                "{kind}: key and value must have the same length, received key shape {} and \
                 value shape {}",
                format_shape(key),
                format_shape(value)
            ),
        ));
    }
    if !agree(query[2], key[2]) {
        return Err(Error::shape(
            "attention",
            format!(
                "{kind}: query and key must have the same last dimension, received query shape \
                 {} and key shape {}",
                format_shape(query),
                format_shape(key)
            ),
        ));
    }
    Ok([query.clone(), value.clone(), key.clone()])
}

/// The mask of which keys each query may attend to, from the value's mask and the causal
/// rule; `None` when neither applies.
pub fn score_mask(
    value_mask: Option<&Mask>,
    causal: bool,
    (batch, queries, keys): (usize, usize, usize),
) -> Result<Option<Arc<Array3<bool>>>> {
    if value_mask.is_none() && !causal {
        return Ok(None);
    }
    if let Some(m) = value_mask
        && m.dim() != (batch, keys)
    {
        return Err(Error::shape(
            "attention",
            format!(
                "the value's mask has shape {:?}, expected (batch, S) = {:?}",
                m.dim(),
                (batch, keys)
            ),
        ));
    }
    Ok(Some(Arc::new(Array3::from_shape_fn(
        (batch, queries, keys),
        |(b, t, s)| value_mask.is_none_or(|m| m[[b, s]]) && (!causal || s <= t),
    ))))
}

/// The query's mask, checked against (batch, T).
pub fn query_mask(
    mask: Option<&Mask>,
    batch: usize,
    queries: usize,
) -> Result<Option<Arc<Array2<bool>>>> {
    match mask {
        Some(m) if m.dim() != (batch, queries) => Err(Error::shape(
            "attention",
            format!(
                "the query's mask has shape {:?}, expected (batch, T) = {:?}",
                m.dim(),
                (batch, queries)
            ),
        )),
        other => Ok(other.cloned()),
    }
}

/// `sum(outer * tanh(inner * (q + k)), -1)` over every (query, key) pair: (batch, T, S).
/// `inner` is `Attention`'s scalar `scale` (concat scores), `outer` its `concat_score_weight`
/// or `AdditiveAttention`'s (dim,) `scale`; either may be absent.
pub fn additive_scores(
    query: &Tensor,
    key: &Tensor,
    inner: Option<&Tensor>,
    outer: Option<&Tensor>,
) -> Result<Tensor> {
    let (b, t, d) = (query.shape()[0], query.shape()[1], query.shape()[2]);
    let s = key.shape()[1];
    let q = query.reshape(&[b as isize, t as isize, 1, d as isize])?;
    let k = key.reshape(&[b as isize, 1, s as isize, d as isize])?;
    let mut terms = q.add(&k)?;
    if let Some(inner) = inner {
        terms = terms.mul(inner)?;
    }
    terms = terms.tanh()?;
    if let Some(outer) = outer {
        terms = terms.mul(outer)?;
    }
    terms.sum(Some(&[-1]), false)
}

impl Attention {
    pub fn build(
        config: AttentionConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Attention> {
        if !matches!(config.score_mode.as_str(), "dot" | "concat") {
            return Err(Error::value(format!(
                "{KIND}: score_mode must be \"dot\" or \"concat\", received score_mode={:?}",
                config.score_mode
            )));
        }
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(Error::value(format!(
                "{KIND}: dropout must be in [0, 1), received dropout={}",
                config.dropout
            )));
        }
        check_attention_inputs(KIND, input_shapes)?;
        let scalar = |make: bool| -> Result<Option<Tensor>> {
            if !make {
                return Ok(None);
            }
            let w = Initializer::from(Ones {}).tensor(&[], dtype)?;
            w.set_requires_grad(true)?;
            Ok(Some(w))
        };
        Ok(Attention {
            scale: scalar(config.use_scale)?,
            concat_score_weight: scalar(config.score_mode == "concat")?,
            config,
        })
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
        let dv = value.shape()[2];
        if self.config.score_mode == "concat" {
            let scores = additive_scores(
                query,
                key,
                self.scale.as_ref(),
                self.concat_score_weight.as_ref(),
            )?;
            return attention_from_scores(&scores, value, &settings);
        }
        let d = query.shape()[2] as isize;
        let q = match &self.scale {
            Some(scale) => query.mul(scale)?,
            None => query.clone(),
        };
        let (out, probs) = attention(
            &q.reshape(&[b as isize, t as isize, 1, d])?,
            &key.reshape(&[b as isize, s as isize, 1, d])?,
            &value.reshape(&[b as isize, s as isize, 1, dv as isize])?,
            &settings,
        )?;
        Ok((
            out.reshape(&[b as isize, t as isize, dv as isize])?,
            probs.reshape(&[b as isize, t as isize, s as isize])?,
        ))
    }
}

/// The output shapes of `Attention` and `AdditiveAttention`: (batch, T, dv), then with
/// `scores` the probabilities (batch, T, S).
pub fn attention_output_shapes(kind: &str, input: &[Shape], scores: bool) -> Result<Vec<Shape>> {
    let [query, value, key] = check_attention_inputs(kind, input)?;
    let output = vec![query[0], query[1], value[2]];
    if !scores {
        return Ok(vec![output]);
    }
    Ok(vec![output, vec![query[0], query[1], key[1]]])
}

impl Layer for Attention {
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
        let mut weights = Vec::new();
        for (name, weight) in [
            ("scale", &self.scale),
            ("concat_score_weight", &self.concat_score_weight),
        ] {
            if let Some(w) = weight {
                weights.push(Weight {
                    name: name.into(),
                    tensor: w.clone(),
                    trainable: true,
                });
            }
        }
        weights
    }
}

inventory::submit! {
    LayerRegistration {
        kind: KIND,
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Attention::build(parse_config(KIND, config)?, input_shapes, dtype)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Attention, inputs: &[Tensor], masks: &[Option<Mask>]) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward_masked(inputs, masks, &mut ctx).unwrap()
    }

    #[test]
    fn gradients_of_both_score_modes_with_masks() {
        let shapes = vec![
            vec![None, Some(3), Some(2)],
            vec![None, Some(4), Some(3)],
            vec![None, Some(4), Some(2)],
        ];
        let query_mask: Mask = Arc::new(ndarray::arr2(&[[true, false, true], [true, true, true]]));
        let value_mask: Mask = Arc::new(ndarray::arr2(&[
            [true, true, false, true],
            [false, true, true, true],
        ]));
        let masks = [Some(query_mask), Some(value_mask)];
        for mode in ["dot", "concat"] {
            let config: AttentionConfig = parse_config(
                KIND,
                &serde_json::json!({"use_scale": true, "score_mode": mode, "use_causal_mask": true}),
            )
            .unwrap();
            let layer = Attention::build(config, &shapes, DType::F64).unwrap();
            let mut inputs = vec![
                randn(&[2, 3, 2], 1),
                randn(&[2, 4, 3], 2),
                randn(&[2, 4, 2], 3),
            ];
            inputs.push(randn(&[], 4));
            if mode == "concat" {
                inputs.push(randn(&[], 5));
            }
            check_gradients(&inputs, |t| {
                let probed = Attention {
                    config: layer.config.clone(),
                    scale: Some(t[3].clone()),
                    concat_score_weight: t.get(4).cloned(),
                };
                run(&probed, &t[..3], &masks)
            });
        }
    }
}

//! `MultiHeadAttention`: Keras's multi-head attention over the sequence axis.
//!
//! Inputs: query (batch, T, dq), value (batch, S, dv), key (batch, S, dk) (the Python layer
//! passes the value again when no key is given) and, optionally, an attention mask (batch, T, S)
//! of 0/1 values. The three projections are Keras's `EinsumDense` kernels, kept in Keras's layout
//! ((d, heads, key_dim) and (heads, key_dim) for the bias; the output kernel (heads, value_dim,
//! out)), so that Keras weight files load as they are. The projections are GEMMs over the
//! flattened kernels and the attention itself is the fused op of `ops::attention`.
//!
//! Masks, as Keras's `_compute_attention_mask`: the query's mask (from the graph) removes query
//! rows, the value's and the key's remove keys, `use_causal_mask` removes later keys, and the
//! explicit attention mask removes what it says; all are combined with AND. A query row left
//! with no key attends to all of them equally, as Keras's usual path does (its path with dropout
//! or returned scores gives zeros there). The output carries the query's mask.

use std::sync::Arc;

use ndarray::Array3;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{GlorotUniform, Initializer, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape, parse_config,
};
use crate::ops::activation::Activation;
use crate::ops::attention::{AttentionSettings, FullyMaskedRows, attention};
use crate::ops::linear::linear;
use crate::tensor::Tensor;

const KIND: &str = "MultiHeadAttention";

fn default_true() -> bool {
    true
}

fn glorot_uniform() -> Initializer {
    GlorotUniform {}.into()
}

fn zeros() -> Initializer {
    Zeros {}.into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiHeadAttentionConfig {
    pub num_heads: usize,
    pub key_dim: usize,
    #[serde(default)]
    pub value_dim: Option<usize>,
    #[serde(default)]
    pub dropout: f64,
    #[serde(default = "default_true")]
    pub use_bias: bool,
    /// The size of the output's last axis; `None`: the query's.
    #[serde(default)]
    pub output_shape: Option<usize>,
    #[serde(default = "glorot_uniform")]
    pub kernel_initializer: Initializer,
    #[serde(default = "zeros")]
    pub bias_initializer: Initializer,
    #[serde(default)]
    pub kernel_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
    /// A call argument in Keras; here fixed per layer for its calls in a model.
    #[serde(default)]
    pub use_causal_mask: bool,
    /// Whether a call in a model has a second output, the attention probabilities.
    #[serde(default)]
    pub return_attention_scores: bool,
}

/// One projection: a kernel in Keras's layout and its bias.
struct Projection {
    name: &'static str,
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl Projection {
    fn new(
        name: &'static str,
        config: &MultiHeadAttentionConfig,
        kernel_shape: &[usize],
        bias_shape: &[usize],
        dtype: DType,
    ) -> Result<Projection> {
        let kernel = config.kernel_initializer.tensor(kernel_shape, dtype)?;
        kernel.set_requires_grad(true)?;
        let bias = if config.use_bias {
            let bias = config.bias_initializer.tensor(bias_shape, dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(Projection { name, kernel, bias })
    }

    /// `x @ kernel + bias` with the kernel flattened to (inputs, outputs).
    fn apply(&self, x: &Tensor, inputs: usize) -> Result<Tensor> {
        let outputs = self.kernel.numel() / inputs;
        let kernel = self.kernel.reshape(&[inputs as isize, outputs as isize])?;
        let bias = match &self.bias {
            Some(b) => Some(b.reshape(&[outputs as isize])?),
            None => None,
        };
        linear(x, &kernel, bias.as_ref(), Activation::Linear)
    }
}

/// Multi-head attention with Keras's weights and masks.
pub struct MultiHeadAttention {
    config: MultiHeadAttentionConfig,
    query: Projection,
    key: Projection,
    value: Projection,
    output: Projection,
    /// The query's, key's and value's last dimensions.
    features: [usize; 3],
}

/// The last dimension of a rank-3 input, or an error naming the input.
fn features_of(name: &str, shape: &Shape) -> Result<usize> {
    match shape.as_slice() {
        [_, _, Some(n)] => Ok(*n),
        _ => Err(Error::shape(
            KIND,
            format!(
                "the {name} must be 3-D (batch, time, features) with known features (only \
                 attention over the sequence axis is supported), received {name} shape {}",
                format_shape(shape)
            ),
        )),
    }
}

fn positive(name: &str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::value(format!(
            "{KIND}: {name} must be a positive integer, received {name}=0"
        )));
    }
    Ok(())
}

impl MultiHeadAttention {
    pub fn build(
        config: MultiHeadAttentionConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<MultiHeadAttention> {
        positive("num_heads", config.num_heads)?;
        positive("key_dim", config.key_dim)?;
        if let Some(v) = config.value_dim {
            positive("value_dim", v)?;
        }
        if let Some(v) = config.output_shape {
            positive("output_shape", v)?;
        }
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(Error::value(format!(
                "{KIND}: dropout must be in [0, 1), received dropout={}",
                config.dropout
            )));
        }
        let features = check_shapes(input_shapes)?;
        let [dq, dk, dv] = features;
        let (heads, key_dim) = (config.num_heads, config.key_dim);
        let value_dim = config.value_dim.unwrap_or(key_dim);
        let out = config.output_shape.unwrap_or(dq);
        let query = Projection::new(
            "query",
            &config,
            &[dq, heads, key_dim],
            &[heads, key_dim],
            dtype,
        )?;
        let key = Projection::new(
            "key",
            &config,
            &[dk, heads, key_dim],
            &[heads, key_dim],
            dtype,
        )?;
        let value = Projection::new(
            "value",
            &config,
            &[dv, heads, value_dim],
            &[heads, value_dim],
            dtype,
        )?;
        let output = Projection::new(
            "attention_output",
            &config,
            &[heads, value_dim, out],
            &[out],
            dtype,
        )?;
        Ok(MultiHeadAttention {
            config,
            query,
            key,
            value,
            output,
            features,
        })
    }

    fn projections(&self) -> [&Projection; 4] {
        [&self.query, &self.key, &self.value, &self.output]
    }

    /// The output and the attention probabilities (batch, heads, T, S).
    fn attend(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Mask>],
        ctx: &mut Context<'_>,
    ) -> Result<(Tensor, Tensor)> {
        let (query, value, key, explicit) = match inputs {
            [q, v, k] => (q, v, k, None),
            [q, v, k, m] => (q, v, k, Some(m)),
            _ => {
                return Err(Error::value(format!(
                    "{KIND}: expected the inputs [query, value, key] and an optional attention \
                     mask, received {} inputs",
                    inputs.len()
                )));
            }
        };
        let shapes: Vec<Shape> = inputs[..3]
            .iter()
            .map(|t| t.shape().iter().map(|&d| Some(d)).collect())
            .collect();
        let features = check_shapes(&shapes)?;
        if features != self.features {
            return Err(Error::shape(
                KIND,
                format!(
                    "the layer was built for query, value and key features {:?}, received \
                     inputs of shapes {}",
                    self.features,
                    shapes
                        .iter()
                        .map(|s| format_shape(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let (batch, queries, keys) = (query.shape()[0], query.shape()[1], key.shape()[1]);
        let (heads, key_dim) = (self.config.num_heads, self.config.key_dim);
        let value_dim = self.config.value_dim.unwrap_or(key_dim);
        let [dq, dv, dk] = [self.features[0], self.features[2], self.features[1]];
        let split = |x: Tensor, time: usize, size: usize| {
            x.reshape(&[batch as isize, time as isize, heads as isize, size as isize])
        };
        let q = split(self.query.apply(query, dq)?, queries, key_dim)?;
        let k = split(self.key.apply(key, dk)?, keys, key_dim)?;
        let v = split(self.value.apply(value, dv)?, keys, value_dim)?;
        let mut settings = AttentionSettings::new(1.0 / (key_dim as f64).sqrt());
        settings.mask = self.combined_mask(batch, queries, keys, masks, explicit)?;
        // Keras's usual path (`ops.dot_product_attention`, on every backend) gives a row with
        // nothing to attend to the mean of all values.
        settings.fully_masked_rows = FullyMaskedRows::Uniform;
        if ctx.training && self.config.dropout > 0.0 {
            settings.dropout = self.config.dropout;
            settings.seed = ctx.rng.next_u64();
        }
        let (context, probabilities) = attention(&q, &k, &v, &settings)?;
        let context = context.reshape(&[
            batch as isize,
            queries as isize,
            (heads * value_dim) as isize,
        ])?;
        let output = self.output.apply(&context, heads * value_dim)?;
        Ok((output, probabilities))
    }

    /// The AND of every mask that applies, (batch, T, S); `None` when none does.
    fn combined_mask(
        &self,
        batch: usize,
        queries: usize,
        keys: usize,
        masks: &[Option<Mask>],
        explicit: Option<&Tensor>,
    ) -> Result<Option<Arc<Array3<bool>>>> {
        let mask_of = |i: usize| masks.get(i).cloned().flatten();
        let (query_mask, value_mask, key_mask) = (mask_of(0), mask_of(1), mask_of(2));
        if query_mask.is_none()
            && value_mask.is_none()
            && key_mask.is_none()
            && explicit.is_none()
            && !self.config.use_causal_mask
        {
            return Ok(None);
        }
        for (name, mask, steps) in [
            ("query", &query_mask, queries),
            ("value", &value_mask, keys),
            ("key", &key_mask, keys),
        ] {
            if let Some(m) = mask
                && m.dim() != (batch, steps)
            {
                return Err(Error::shape(
                    KIND,
                    format!(
                        "the {name}'s mask has shape {:?}, expected (batch, time) = {:?}",
                        m.dim(),
                        (batch, steps)
                    ),
                ));
            }
        }
        let explicit = match explicit {
            Some(m) if m.shape() == [batch, queries, keys] => Some(m.to_f64_vec()),
            Some(m) => {
                return Err(Error::shape(
                    KIND,
                    format!(
                        "attention_mask must have shape (batch, T, S) = {:?}, received {:?}",
                        (batch, queries, keys),
                        m.shape()
                    ),
                ));
            }
            None => None,
        };
        let causal = self.config.use_causal_mask;
        Ok(Some(Arc::new(Array3::from_shape_fn(
            (batch, queries, keys),
            |(b, t, s)| {
                query_mask.as_ref().is_none_or(|m| m[[b, t]])
                    && value_mask.as_ref().is_none_or(|m| m[[b, s]])
                    && key_mask.as_ref().is_none_or(|m| m[[b, s]])
                    && (!causal || s <= t)
                    && explicit
                        .as_ref()
                        .is_none_or(|m| m[(b * queries + t) * keys + s] > 0.5)
            },
        ))))
    }
}

/// The features of query, key and value, checking ranks and that key and value have the same
/// length.
fn check_shapes(input_shapes: &[Shape]) -> Result<[usize; 3]> {
    let (query, value, key) = match input_shapes {
        [q, v, k] | [q, v, k, _] => (q, v, k),
        _ => {
            return Err(Error::value(format!(
                "{KIND}: expected the inputs [query, value, key] and an optional attention mask, \
                 received {} inputs",
                input_shapes.len()
            )));
        }
    };
    let dq = features_of("query", query)?;
    let dv = features_of("value", value)?;
    let dk = features_of("key", key)?;
    if let (Some(a), Some(b)) = (key[1], value[1])
        && a != b
    {
        return Err(Error::shape(
            KIND,
            format!(
                "key and value must have the same length, received key shape {} and value \
                 shape {}",
                format_shape(key),
                format_shape(value)
            ),
        ));
    }
    if let [_, _, _, mask] = input_shapes
        && mask.len() != 3
    {
        return Err(Error::shape(
            KIND,
            format!(
                "attention_mask must be 3-D (batch, T, S), received shape {}",
                format_shape(mask)
            ),
        ));
    }
    Ok([dq, dk, dv])
}

impl Layer for MultiHeadAttention {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        check_shapes(input)?;
        let query = &input[0];
        let out = self.config.output_shape.unwrap_or(self.features[0]);
        Ok(vec![query[0], query[1], Some(out)])
    }

    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        let output = self.output_shape(input)?;
        if !self.config.return_attention_scores {
            return Ok(vec![output]);
        }
        let scores = vec![
            input[0][0],
            Some(self.config.num_heads),
            input[0][1],
            input[2][1],
        ];
        Ok(vec![output, scores])
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        Ok(self.attend(inputs, &[], ctx)?.0)
    }

    /// The output and then the attention probabilities, whatever `return_attention_scores`.
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
        for projection in self.projections() {
            weights.push(Weight {
                name: format!("{}/kernel", projection.name).into(),
                tensor: projection.kernel.clone(),
                trainable: true,
            });
            if let Some(bias) = &projection.bias {
                weights.push(Weight {
                    name: format!("{}/bias", projection.name).into(),
                    tensor: bias.clone(),
                    trainable: true,
                });
            }
        }
        weights
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for projection in self.projections() {
            let terms = [
                (self.config.kernel_regularizer, Some(&projection.kernel)),
                (self.config.bias_regularizer, projection.bias.as_ref()),
            ];
            for (regularizer, weight) in terms {
                if let (Some(r), Some(w)) = (regularizer, weight) {
                    let penalty = r.penalty(w)?;
                    total = Some(match total {
                        Some(t) => t.add(&penalty)?,
                        None => penalty,
                    });
                }
            }
        }
        Ok(total)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: KIND,
        build: |config, input_shapes, dtype| {
            Ok(Box::new(MultiHeadAttention::build(parse_config(KIND, config)?, input_shapes, dtype)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn config(heads: usize, key_dim: usize) -> MultiHeadAttentionConfig {
        parse_config(
            KIND,
            &serde_json::json!({"num_heads": heads, "key_dim": key_dim}),
        )
        .unwrap()
    }

    fn shapes(t: usize, s: usize, d: usize) -> Vec<Shape> {
        vec![
            vec![None, Some(t), Some(d)],
            vec![None, Some(s), Some(d)],
            vec![None, Some(s), Some(d)],
        ]
    }

    fn run(layer: &MultiHeadAttention, inputs: &[Tensor], masks: &[Option<Mask>]) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward_masked(inputs, masks, &mut ctx).unwrap()
    }

    #[test]
    fn weights_have_keras_names_and_shapes() {
        let layer = MultiHeadAttention::build(config(2, 3), &shapes(4, 5, 6), DType::F32).unwrap();
        let described: Vec<(String, Vec<usize>)> = layer
            .weights()
            .iter()
            .map(|w| (w.name.to_string(), w.tensor.shape().to_vec()))
            .collect();
        assert_eq!(
            described,
            vec![
                ("query/kernel".into(), vec![6, 2, 3]),
                ("query/bias".into(), vec![2, 3]),
                ("key/kernel".into(), vec![6, 2, 3]),
                ("key/bias".into(), vec![2, 3]),
                ("value/kernel".into(), vec![6, 2, 3]),
                ("value/bias".into(), vec![2, 3]),
                ("attention_output/kernel".into(), vec![2, 3, 6]),
                ("attention_output/bias".into(), vec![6]),
            ]
        );
        assert_eq!(
            layer.output_shapes(&shapes(4, 5, 6)).unwrap(),
            vec![vec![None, Some(4), Some(6)]]
        );
    }

    #[test]
    fn gradients_match_finite_differences_with_masks() {
        let mut cfg = config(2, 2);
        cfg.use_causal_mask = true;
        let layer = MultiHeadAttention::build(cfg, &shapes(3, 3, 4), DType::F64).unwrap();
        let query_mask: Mask = Arc::new(ndarray::arr2(&[[true, true, false], [true, true, true]]));
        let value_mask: Mask = Arc::new(ndarray::arr2(&[[true, false, true], [true, true, false]]));
        let masks = [Some(query_mask), Some(value_mask.clone()), Some(value_mask)];
        let weights: Vec<Tensor> = layer.weights().iter().map(|w| w.tensor.clone()).collect();
        let x = randn(&[2, 3, 4], 1);
        let y = randn(&[2, 3, 4], 2);
        let mut all = vec![x, y];
        all.extend(weights.iter().cloned());
        check_gradients(&all, |t| {
            let with = |p: &Projection, i: usize| Projection {
                name: p.name,
                kernel: t[i].clone(),
                bias: Some(t[i + 1].clone()),
            };
            let probed = MultiHeadAttention {
                config: layer.config.clone(),
                query: with(&layer.query, 2),
                key: with(&layer.key, 4),
                value: with(&layer.value, 6),
                output: with(&layer.output, 8),
                features: layer.features,
            };
            run(&probed, &[t[0].clone(), t[1].clone(), t[1].clone()], &masks)
        });
    }

    #[test]
    fn bad_shapes_and_sizes_are_refused() {
        let err = MultiHeadAttention::build(config(2, 0), &shapes(4, 5, 6), DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("key_dim must be a positive integer"), "{err}");
        let mut bad = shapes(4, 5, 6);
        bad[2][1] = Some(7);
        let err = MultiHeadAttention::build(config(2, 3), &bad, DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("same length"), "{err}");
        let err = MultiHeadAttention::build(
            config(2, 3),
            &[
                vec![None, Some(3)],
                vec![None, Some(3)],
                vec![None, Some(3)],
            ],
            DType::F32,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("must be 3-D"), "{err}");
    }
}

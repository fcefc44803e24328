//! `BatchNormalization` over one feature axis (the last by default; `axis=1` for channels-first
//! images), with Keras's defaults.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{Initializer, Ones, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, parse_config, single_input,
    single_shape,
};
use crate::ops::batch_norm::batch_norm_train;
use crate::storage::Storage;
use crate::tensor::Tensor;

fn last_axis() -> isize {
    -1
}
fn default_momentum() -> f64 {
    0.99
}
fn default_epsilon() -> f64 {
    1e-3
}
fn default_true() -> bool {
    true
}
fn ones() -> Initializer {
    Ones {}.into()
}
fn zeros() -> Initializer {
    Zeros {}.into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormalizationConfig {
    /// The feature axis (negative counts from the end); every other axis is normalised over.
    #[serde(default = "last_axis")]
    pub axis: isize,
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default = "default_true")]
    pub center: bool,
    #[serde(default = "default_true")]
    pub scale: bool,
    #[serde(default = "zeros")]
    pub beta_initializer: Initializer,
    #[serde(default = "ones")]
    pub gamma_initializer: Initializer,
    #[serde(default = "zeros")]
    pub moving_mean_initializer: Initializer,
    #[serde(default = "ones")]
    pub moving_variance_initializer: Initializer,
}

/// Normalises each feature (the entries along `axis`) with the batch's statistics over every
/// other axis in training and with moving averages of them at inference:
/// `gamma * (x - mean) / sqrt(var + epsilon) + beta`. The moving averages follow Keras:
/// `moving = moving * momentum + batch * (1 - momentum)`, with the biased batch variance.
pub struct BatchNormalization {
    config: BatchNormalizationConfig,
    /// The feature axis, resolved against the input's rank.
    axis: usize,
    gamma: Option<Tensor>,
    beta: Option<Tensor>,
    moving_mean: Tensor,
    moving_variance: Tensor,
}

impl BatchNormalization {
    pub fn build(
        config: BatchNormalizationConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<BatchNormalization> {
        if !(0.0..=1.0).contains(&config.momentum)
            || config.epsilon.is_nan()
            || config.epsilon <= 0.0
        {
            return Err(Error::value(format!(
                "BatchNormalization: momentum must be in [0, 1] and epsilon positive, received \
                 momentum={}, epsilon={}",
                config.momentum, config.epsilon
            )));
        }
        let input = single_shape("BatchNormalization", input_shapes)?;
        let rank = input.len() as isize;
        let resolved = if config.axis < 0 {
            config.axis + rank
        } else {
            config.axis
        };
        if !(1..rank).contains(&resolved) {
            return Err(Error::value(format!(
                "BatchNormalization: axis {} is out of range for inputs of shape {} (the batch \
                 axis 0 cannot be the feature axis)",
                config.axis,
                crate::nn::format_shape(input)
            )));
        }
        let axis = resolved as usize;
        let features = match input[axis] {
            Some(n) => n,
            None => {
                return Err(Error::shape(
                    "BatchNormalization",
                    format!("the feature axis {axis} must be known, received {input:?}"),
                ));
            }
        };
        let trainable = |init: &Initializer| -> Result<Tensor> {
            let t = init.tensor(&[features], dtype)?;
            t.set_requires_grad(true)?;
            Ok(t)
        };
        Ok(BatchNormalization {
            axis,
            gamma: config
                .scale
                .then(|| trainable(&config.gamma_initializer))
                .transpose()?,
            beta: config
                .center
                .then(|| trainable(&config.beta_initializer))
                .transpose()?,
            moving_mean: config.moving_mean_initializer.tensor(&[features], dtype)?,
            moving_variance: config
                .moving_variance_initializer
                .tensor(&[features], dtype)?,
            config,
        })
    }

    /// `moving = moving * momentum + batch * (1 - momentum)`.
    fn update_moving(&self, moving: &Tensor, batch: &Storage) -> Result<()> {
        let momentum = self.config.momentum;
        moving.with_data_mut(|m| match (m, batch) {
            (Storage::F32(m), Storage::F32(b)) => {
                m.zip_mut_with(b, |m, &b| {
                    *m = *m * momentum as f32 + b * (1.0 - momentum) as f32
                });
                Ok(())
            }
            (Storage::F64(m), Storage::F64(b)) => {
                m.zip_mut_with(b, |m, &b| *m = *m * momentum + b * (1.0 - momentum));
                Ok(())
            }
            _ => Err(Error::value(
                "BatchNormalization: dtype mismatch in moving statistics",
            )),
        })
    }
}

impl Layer for BatchNormalization {
    /// Keras 3: a frozen batch normalisation normalises with its moving statistics and leaves
    /// them alone, so that fine-tuning a base model does not wreck what it learned.
    fn infers_when_frozen(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("BatchNormalization", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("BatchNormalization", inputs)?;
        let last = x.ndim().saturating_sub(1);
        if self.axis != last {
            // The feature axis moved last (where the kernel works), and back afterwards.
            if self.axis >= x.ndim() {
                return Err(Error::shape(
                    "BatchNormalization",
                    format!(
                        "axis {} is out of range for an input of shape {:?}",
                        self.axis,
                        x.shape()
                    ),
                ));
            }
            let mut order: Vec<isize> = (0..x.ndim() as isize).collect();
            order.swap(self.axis, last);
            let y = self.normalise(&x.transpose(Some(&order))?, ctx)?;
            return y.transpose(Some(&order));
        }
        self.normalise(x, ctx)
    }

    fn weights(&self) -> Vec<Weight> {
        self.weight_list()
    }
}

impl BatchNormalization {
    /// The normalisation of `x` whose features are on its last axis.
    fn normalise(&self, x: &Tensor, ctx: &mut Context<'_>) -> Result<Tensor> {
        if ctx.training {
            let stats = batch_norm_train(
                x,
                self.gamma.as_ref(),
                self.beta.as_ref(),
                self.config.epsilon,
            )?;
            self.update_moving(&self.moving_mean, &stats.mean)?;
            self.update_moving(&self.moving_variance, &stats.variance)?;
            return Ok(stats.output);
        }
        // Inference: an affine map per feature, written with broadcasting ops so that gamma and
        // beta still get gradients when a frozen-statistics model is fine-tuned.
        let epsilon = Tensor::scalar(self.config.epsilon, x.dtype());
        let inv_std = self.moving_variance.add(&epsilon)?.sqrt()?.powf(-1.0)?;
        let mut y = x.sub(&self.moving_mean)?.mul(&inv_std)?;
        if let Some(gamma) = &self.gamma {
            y = y.mul(gamma)?;
        }
        if let Some(beta) = &self.beta {
            y = y.add(beta)?;
        }
        Ok(y)
    }

    fn weight_list(&self) -> Vec<Weight> {
        let mut weights = Vec::new();
        if let Some(gamma) = &self.gamma {
            weights.push(Weight {
                name: "gamma".into(),
                tensor: gamma.clone(),
                trainable: true,
            });
        }
        if let Some(beta) = &self.beta {
            weights.push(Weight {
                name: "beta".into(),
                tensor: beta.clone(),
                trainable: true,
            });
        }
        weights.push(Weight {
            name: "moving_mean".into(),
            tensor: self.moving_mean.clone(),
            trainable: false,
        });
        weights.push(Weight {
            name: "moving_variance".into(),
            tensor: self.moving_variance.clone(),
            trainable: false,
        });
        weights
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "BatchNormalization",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(BatchNormalization::build(
                parse_config("BatchNormalization", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

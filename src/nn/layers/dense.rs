//! `Dense`: `activation(x @ kernel + bias)` on the last axis.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{GlorotUniform, Initializer, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::ops::linear::linear_with_panels;
use crate::tensor::Tensor;

fn default_true() -> bool {
    true
}

fn linear_name() -> String {
    "linear".into()
}

fn glorot_uniform() -> Initializer {
    GlorotUniform {}.into()
}

fn zeros() -> Initializer {
    Zeros {}.into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    pub units: usize,
    #[serde(default = "linear_name")]
    pub activation: String,
    #[serde(default = "default_true")]
    pub use_bias: bool,
    #[serde(default = "glorot_uniform")]
    pub kernel_initializer: Initializer,
    #[serde(default = "zeros")]
    pub bias_initializer: Initializer,
    #[serde(default)]
    pub kernel_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
}

/// `activation(x @ kernel + bias)` on the last axis; the kernel is (in_features, units).
pub struct Dense {
    config: DenseConfig,
    activation: Activation,
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl Dense {
    pub fn build(config: DenseConfig, input_shapes: &[Shape], dtype: DType) -> Result<Dense> {
        if config.units == 0 {
            return Err(Error::value(
                "Dense: units must be a positive integer, received units=0",
            ));
        }
        let input = single_shape("Dense", input_shapes)?;
        let in_features = match input.last() {
            Some(Some(n)) if input.len() >= 2 => *n,
            _ => {
                return Err(Error::shape(
                    "Dense",
                    format!(
                        "the input's last dimension must be known and the input must have a batch \
                         dimension, received input shape {}",
                        format_shape(input)
                    ),
                ));
            }
        };
        let activation = Activation::parse(&config.activation)?;
        let kernel = config
            .kernel_initializer
            .tensor(&[in_features, config.units], dtype)?;
        kernel.set_requires_grad(true)?;
        let bias = if config.use_bias {
            let bias = config.bias_initializer.tensor(&[config.units], dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(Dense {
            config,
            activation,
            kernel,
            bias,
        })
    }
}

impl Layer for Dense {
    fn kind(&self) -> &'static str {
        "Dense"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let mut shape = single_shape("Dense", input)?.clone();
        if let Some(last) = shape.last_mut() {
            *last = Some(self.config.units);
        }
        Ok(shape)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Dense", inputs)?;
        let panels = ctx
            .packed_kernels
            .as_deref_mut()
            .and_then(|packed| packed.get(&self.kernel));
        linear_with_panels(
            x,
            &self.kernel,
            self.bias.as_ref(),
            self.activation,
            panels.as_deref(),
        )
    }

    fn forward_without_activation(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Dense", inputs)?;
        let panels = ctx
            .packed_kernels
            .as_deref_mut()
            .and_then(|packed| packed.get(&self.kernel));
        linear_with_panels(
            x,
            &self.kernel,
            self.bias.as_ref(),
            Activation::Linear,
            panels.as_deref(),
        )
    }

    fn output_activation(&self) -> Activation {
        self.activation
    }

    fn weights(&self) -> Vec<Weight> {
        let mut weights = vec![Weight {
            name: "kernel".into(),
            tensor: self.kernel.clone(),
            trainable: true,
        }];
        if let Some(bias) = &self.bias {
            weights.push(Weight {
                name: "bias".into(),
                tensor: bias.clone(),
                trainable: true,
            });
        }
        weights
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        let terms = [
            (self.config.kernel_regularizer, Some(&self.kernel)),
            (self.config.bias_regularizer, self.bias.as_ref()),
        ];
        let mut total: Option<Tensor> = None;
        for (regularizer, weight) in terms {
            if let (Some(r), Some(w)) = (regularizer, weight) {
                let penalty = r.penalty(w)?;
                total = Some(match total {
                    Some(t) => t.add(&penalty)?,
                    None => penalty,
                });
            }
        }
        Ok(total)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Dense",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Dense::build(parse_config("Dense", config)?, input_shapes, dtype)?))
        },
    }
}

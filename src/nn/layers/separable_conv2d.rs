//! `SeparableConv2D`: a depthwise convolution (each input channel on its own, with
//! `depth_multiplier` filters) followed by a 1x1 convolution mixing the channels, Keras's
//! arguments and defaults.
//!
//! Weights as Keras stores them: `depthwise_kernel` `(kh, kw, in_channels, depth_multiplier)`,
//! `pointwise_kernel` `(1, 1, in_channels * depth_multiplier, filters)` and `bias`
//! `(filters,)`. The bias is added once, after the pointwise step.

use serde::{Deserialize, Serialize};

use super::conv2d::{
    channels_last, check_sizes, default_true, glorot_uniform, linear_name, move_channels,
    move_shape, one, penalties, valid, zeros,
};
use super::depthwise_conv2d::DepthwiseGeometry;
use crate::dtype::DType;
use crate::error::Result;
use crate::initializers::Initializer;
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, parse_config,
    single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::ops::conv::{Conv2dOptions, conv2d};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeparableConv2DConfig {
    pub filters: usize,
    /// Two entries, as are `strides` and `dilation_rate` (empty: ones).
    pub kernel_size: Vec<usize>,
    #[serde(default)]
    pub strides: Vec<usize>,
    #[serde(default = "valid")]
    pub padding: String,
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default)]
    pub dilation_rate: Vec<usize>,
    #[serde(default = "one")]
    pub depth_multiplier: usize,
    #[serde(default = "linear_name")]
    pub activation: String,
    #[serde(default = "default_true")]
    pub use_bias: bool,
    #[serde(default = "glorot_uniform")]
    pub depthwise_initializer: Initializer,
    #[serde(default = "glorot_uniform")]
    pub pointwise_initializer: Initializer,
    #[serde(default = "zeros")]
    pub bias_initializer: Initializer,
    #[serde(default)]
    pub depthwise_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub pointwise_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
}

/// `activation(conv2d(depthwise_conv2d(x, depthwise_kernel), pointwise_kernel) + bias)`.
pub struct SeparableConv2D {
    config: SeparableConv2DConfig,
    geometry: DepthwiseGeometry,
    activation: Activation,
    depthwise_kernel: Tensor,
    pointwise_kernel: Tensor,
    bias: Option<Tensor>,
}

impl SeparableConv2D {
    pub fn build(
        mut config: SeparableConv2DConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<SeparableConv2D> {
        let kind = "SeparableConv2D";
        check_sizes(kind, "filters", &[config.filters])?;
        let geometry = DepthwiseGeometry::new(
            kind,
            &config.kernel_size,
            &mut config.strides,
            &mut config.dilation_rate,
            &config.padding,
            config.depth_multiplier,
            &config.data_format,
        )?;
        let activation = Activation::parse(&config.activation)?;
        let (channels, _) = geometry.output_last(single_shape(kind, input_shapes)?, None)?;
        let m = config.depth_multiplier;
        let depthwise_shape = [config.kernel_size[0], config.kernel_size[1], channels, m];
        let depthwise_kernel = config
            .depthwise_initializer
            .tensor(&depthwise_shape, dtype)?;
        depthwise_kernel.set_requires_grad(true)?;
        let pointwise_kernel = config
            .pointwise_initializer
            .tensor(&[1, 1, channels * m, config.filters], dtype)?;
        pointwise_kernel.set_requires_grad(true)?;
        let bias = if config.use_bias {
            let bias = config.bias_initializer.tensor(&[config.filters], dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(SeparableConv2D {
            config,
            geometry,
            activation,
            depthwise_kernel,
            pointwise_kernel,
            bias,
        })
    }

    fn output_last(&self, input: &Shape) -> Result<Shape> {
        let built = Some(self.depthwise_kernel.shape()[2]);
        let (_, mut out) = self.geometry.output_last(input, built)?;
        out[3] = Some(self.config.filters);
        Ok(out)
    }

    fn compute(
        &self,
        x: &Tensor,
        depthwise: &Tensor,
        pointwise: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.output_last(&shape)?;
        let mixed = self.geometry.apply(x, depthwise, None)?;
        let y = conv2d(&mixed, pointwise, bias, &Conv2dOptions::default())?;
        let y = self.activation.apply(&y)?;
        if self.geometry.channels_first {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }
}

impl Layer for SeparableConv2D {
    fn kind(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let out = self.output_last(single_shape("SeparableConv2D", input)?)?;
        Ok(move_shape(&out, self.geometry.channels_first, false))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("SeparableConv2D", inputs)?;
        self.compute(
            x,
            &self.depthwise_kernel,
            &self.pointwise_kernel,
            self.bias.as_ref(),
        )
    }

    fn weights(&self) -> Vec<Weight> {
        let mut weights = vec![
            Weight {
                name: "depthwise_kernel".into(),
                tensor: self.depthwise_kernel.clone(),
                trainable: true,
            },
            Weight {
                name: "pointwise_kernel".into(),
                tensor: self.pointwise_kernel.clone(),
                trainable: true,
            },
        ];
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
        penalties(&[
            (
                self.config.depthwise_regularizer,
                Some(&self.depthwise_kernel),
            ),
            (
                self.config.pointwise_regularizer,
                Some(&self.pointwise_kernel),
            ),
            (self.config.bias_regularizer, self.bias.as_ref()),
        ])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "SeparableConv2D",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(SeparableConv2D::build(
                parse_config("SeparableConv2D", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::check_gradients;
    use crate::storage::Storage;

    fn tensor(shape: &[usize], seed: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let values = (0..n)
            .map(|i| (((i + seed) * 37) % 23) as f64 / 11.0 - 1.0)
            .collect();
        Tensor::new(
            Storage::from_f64_vec(DType::F64, shape, values).unwrap(),
            false,
        )
    }

    fn built(config: serde_json::Value, shape: &[usize]) -> Result<SeparableConv2D> {
        let shape: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        SeparableConv2D::build(
            parse_config("SeparableConv2D", &config)?,
            &[shape],
            DType::F64,
        )
    }

    #[test]
    fn shapes_and_parameter_counts_follow_keras() {
        let l = built(
            serde_json::json!({"filters": 8, "kernel_size": [3, 3], "depth_multiplier": 2}),
            &[1, 6, 6, 3],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(6), Some(6), Some(3)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(4), Some(4), Some(8)]);
        // Keras: 3*3*3*2 depthwise + 1*1*6*8 pointwise + 8 bias.
        let params: usize = l.weights().iter().map(|w| w.tensor.numel()).sum();
        assert_eq!(params, 54 + 48 + 8);
    }

    #[test]
    fn gradients_through_the_layer_match_finite_differences() {
        for (config, shape) in [
            (
                serde_json::json!({"filters": 3, "kernel_size": [2, 3], "depth_multiplier": 2,
                    "padding": "same", "strides": [2, 1], "activation": "tanh"}),
                [2, 5, 4, 2],
            ),
            (
                serde_json::json!({"filters": 2, "kernel_size": [2, 2], "dilation_rate": [1, 2],
                    "data_format": "channels_first"}),
                [1, 3, 4, 5],
            ),
        ] {
            let l = built(config, &shape).unwrap();
            let x = tensor(&shape, 3);
            let dk = tensor(l.depthwise_kernel.shape(), 5);
            let pk = tensor(l.pointwise_kernel.shape(), 6);
            let bias = tensor(&[l.config.filters], 7);
            for t in [&x, &dk, &pk, &bias] {
                t.set_requires_grad(true).unwrap();
            }
            check_gradients(&[x, dk, pk, bias], |ts| {
                l.compute(&ts[0], &ts[1], &ts[2], Some(&ts[3])).unwrap()
            });
        }
    }
}

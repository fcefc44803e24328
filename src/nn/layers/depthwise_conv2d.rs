//! `DepthwiseConv2D`: every input channel convolved on its own with `depth_multiplier`
//! filters, Keras's arguments and defaults.
//!
//! The kernel is stored as Keras stores it, `(kernel_h, kernel_w, in_channels,
//! depth_multiplier)`, output channel `c * depth_multiplier + m` coming from input channel `c`
//! (PyTorch's grouped `Conv2d(groups=in_channels).weight` is `kernel.reshape(kh, kw, 1,
//! in_channels * depth_multiplier).transpose(3, 2, 0, 1)`, see `docs/weight_layout.md`).

use serde::{Deserialize, Serialize};

use super::conv2d::{
    axis_output, channels_last, check_sizes, default_true, glorot_uniform, in_layer,
    is_channels_first, linear_name, move_channels, move_shape, one, penalties, valid, zeros,
};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::Initializer;
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::ops::conv::{DepthwiseConv2dOptions, Padding, depthwise_conv2d};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthwiseConv2DConfig {
    /// Two entries, as are `strides` and `dilation_rate` (empty: ones).
    pub kernel_size: Vec<usize>,
    #[serde(default)]
    pub strides: Vec<usize>,
    #[serde(default = "valid")]
    pub padding: String,
    #[serde(default = "one")]
    pub depth_multiplier: usize,
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default)]
    pub dilation_rate: Vec<usize>,
    #[serde(default = "linear_name")]
    pub activation: String,
    #[serde(default = "default_true")]
    pub use_bias: bool,
    #[serde(default = "glorot_uniform")]
    pub depthwise_initializer: Initializer,
    #[serde(default = "zeros")]
    pub bias_initializer: Initializer,
    #[serde(default)]
    pub depthwise_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
}

/// The spatial arguments of a depthwise convolution, checked once: shared by
/// `DepthwiseConv2D` and `SeparableConv2D`.
#[derive(Clone, Debug)]
pub(crate) struct DepthwiseGeometry {
    pub kind: &'static str,
    pub options: DepthwiseConv2dOptions,
    pub kernel_size: [usize; 2],
    pub depth_multiplier: usize,
    pub channels_first: bool,
    pub data_format: String,
}

impl DepthwiseGeometry {
    /// Checks Keras's arguments, filling empty `strides` and `dilation_rate` with ones.
    pub fn new(
        kind: &'static str,
        kernel_size: &[usize],
        strides: &mut Vec<usize>,
        dilation_rate: &mut Vec<usize>,
        padding: &str,
        depth_multiplier: usize,
        data_format: &str,
    ) -> Result<DepthwiseGeometry> {
        for values in [&mut *strides, &mut *dilation_rate] {
            if values.is_empty() {
                *values = vec![1, 1];
            }
        }
        for (name, values) in [
            ("kernel_size", kernel_size),
            ("strides", &strides[..]),
            ("dilation_rate", &dilation_rate[..]),
        ] {
            if values.len() != 2 {
                return Err(Error::value(format!(
                    "{kind}: {name} must have 2 entries, received {name}={values:?}"
                )));
            }
            check_sizes(kind, name, values)?;
        }
        check_sizes(kind, "depth_multiplier", &[depth_multiplier])?;
        if strides.iter().any(|&s| s > 1) && dilation_rate.iter().any(|&d| d > 1) {
            return Err(Error::value(format!(
                "{kind}: strides > 1 is not compatible with dilation_rate > 1, received \
                 strides={strides:?} and dilation_rate={dilation_rate:?}"
            )));
        }
        let padding = match padding.to_ascii_lowercase().as_str() {
            "valid" => Padding::Valid,
            "same" => Padding::Same,
            other => {
                return Err(Error::value(format!(
                    "{kind}: padding must be 'valid' or 'same', received padding={other:?}"
                )));
            }
        };
        Ok(DepthwiseGeometry {
            kind,
            options: DepthwiseConv2dOptions {
                strides: [strides[0], strides[1]],
                padding,
                dilation_rate: [dilation_rate[0], dilation_rate[1]],
            },
            kernel_size: [kernel_size[0], kernel_size[1]],
            depth_multiplier,
            channels_first: is_channels_first(kind, data_format)?,
            data_format: data_format.to_string(),
        })
    }

    /// Checks an input shape against the arguments and the channels the layer was built for
    /// (`built`, once built); gives the input channels and the channels-last output shape
    /// of the depthwise step (`in_channels * depth_multiplier` channels).
    pub fn output_last(&self, input: &Shape, built: Option<usize>) -> Result<(usize, Shape)> {
        let kind = self.kind;
        if input.len() != 4 {
            return Err(Error::value(format!(
                "{kind}: expects inputs of rank 4 for data_format={:?}, received input shape {}",
                self.data_format,
                format_shape(input)
            )));
        }
        let last = move_shape(input, self.channels_first, true);
        let channels = match last[3] {
            Some(c) if c > 0 => c,
            _ => {
                return Err(Error::value(format!(
                    "{kind}: the channel dimension of the inputs must be known and positive, \
                     received input shape {}",
                    format_shape(input)
                )));
            }
        };
        if let Some(built) = built
            && built != channels
        {
            return Err(Error::value(format!(
                "{kind}: the layer was built for {built} input channels, received input shape \
                 {}",
                format_shape(input)
            )));
        }
        let mut out = vec![last[0]];
        for axis in 0..2 {
            out.push(axis_output(
                kind,
                "kernel_size",
                input,
                last[axis + 1],
                self.kernel_size[axis],
                self.options.strides[axis],
                self.options.dilation_rate[axis],
                self.options.padding,
            )?);
        }
        out.push(Some(channels * self.depth_multiplier));
        Ok((channels, out))
    }

    /// The depthwise convolution of `x` (in the layer's data format), channels last out.
    pub fn apply(&self, x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let xl = if self.channels_first {
            move_channels(x, true)?
        } else {
            x.clone()
        };
        depthwise_conv2d(&xl, kernel, bias, &self.options).map_err(in_layer(self.kind, x))
    }
}

/// `activation(depthwise_conv2d(x, kernel) + bias)`.
pub struct DepthwiseConv2D {
    config: DepthwiseConv2DConfig,
    geometry: DepthwiseGeometry,
    activation: Activation,
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl DepthwiseConv2D {
    pub fn build(
        mut config: DepthwiseConv2DConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<DepthwiseConv2D> {
        let kind = "DepthwiseConv2D";
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
        let kernel_shape = [config.kernel_size[0], config.kernel_size[1], channels, m];
        let kernel = config.depthwise_initializer.tensor(&kernel_shape, dtype)?;
        kernel.set_requires_grad(true)?;
        let bias = if config.use_bias {
            let bias = config.bias_initializer.tensor(&[channels * m], dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(DepthwiseConv2D {
            config,
            geometry,
            activation,
            kernel,
            bias,
        })
    }

    fn compute(&self, x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.geometry
            .output_last(&shape, Some(self.kernel.shape()[2]))?;
        let y = self
            .activation
            .apply(&self.geometry.apply(x, kernel, bias)?)?;
        if self.geometry.channels_first {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }
}

impl Layer for DepthwiseConv2D {
    fn kind(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("DepthwiseConv2D", input)?;
        let (_, out) = self
            .geometry
            .output_last(input, Some(self.kernel.shape()[2]))?;
        Ok(move_shape(&out, self.geometry.channels_first, false))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("DepthwiseConv2D", inputs)?;
        self.compute(x, &self.kernel, self.bias.as_ref())
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
        penalties(&[
            (self.config.depthwise_regularizer, Some(&self.kernel)),
            (self.config.bias_regularizer, self.bias.as_ref()),
        ])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "DepthwiseConv2D",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(DepthwiseConv2D::build(
                parse_config("DepthwiseConv2D", config)?,
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

    fn built(config: serde_json::Value, shape: &[usize]) -> Result<DepthwiseConv2D> {
        let shape: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        DepthwiseConv2D::build(
            parse_config("DepthwiseConv2D", &config)?,
            &[shape],
            DType::F64,
        )
    }

    #[test]
    fn shapes_parameters_and_errors_follow_keras() {
        let l = built(
            serde_json::json!({"kernel_size": [3, 3], "depth_multiplier": 2, "strides": [2, 2],
                "padding": "same"}),
            &[1, 7, 7, 3],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(7), Some(7), Some(3)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(4), Some(4), Some(6)]);
        let params: usize = l.weights().iter().map(|w| w.tensor.numel()).sum();
        assert_eq!(params, 3 * 3 * 3 * 2 + 6);
        let e = built(serde_json::json!({"kernel_size": [5, 5]}), &[1, 4, 4, 2])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("DepthwiseConv2D") && e.contains("(None, 4, 4, 2)"),
            "{e}"
        );
        let e = l
            .output_shape(&[vec![None, Some(7), Some(7), Some(4)]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("built for 3 input channels"), "{e}");
    }

    #[test]
    fn gradients_through_the_layer_match_finite_differences() {
        for (config, shape) in [
            (
                serde_json::json!({"kernel_size": [2, 3], "depth_multiplier": 2,
                    "padding": "same", "strides": [2, 1], "activation": "tanh"}),
                [2, 5, 4, 3],
            ),
            (
                serde_json::json!({"kernel_size": [2, 2], "dilation_rate": [2, 1],
                    "data_format": "channels_first"}),
                [1, 2, 5, 5],
            ),
        ] {
            let l = built(config, &shape).unwrap();
            let x = tensor(&shape, 3);
            let kernel = tensor(l.kernel.shape(), 5);
            let bias = tensor(l.bias.as_ref().unwrap().shape(), 7);
            for t in [&x, &kernel, &bias] {
                t.set_requires_grad(true).unwrap();
            }
            check_gradients(&[x, kernel, bias], |ts| {
                l.compute(&ts[0], &ts[1], Some(&ts[2])).unwrap()
            });
        }
    }
}

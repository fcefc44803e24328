//! `Conv2DTranspose`: a transposed 2-D convolution (the input gradient of a convolution, used
//! to enlarge feature maps), Keras's arguments and defaults, `output_padding` included.
//!
//! The kernel is stored as Keras stores it, `(kernel_h, kernel_w, filters, in_channels)`
//! (PyTorch's `ConvTranspose2d.weight` is the permutation `(in_channels, filters, kh, kw)`, see
//! `docs/weight_layout.md`). The computation is `ops::conv::conv_transpose2d` on channels-last
//! inputs. Shares `ConvTranspose` with `Conv1DTranspose`.

use serde::{Deserialize, Serialize};

use super::conv2d::{
    channels_last, check_sizes, default_true, glorot_uniform, in_layer, is_channels_first,
    linear_name, move_channels, move_shape, penalties, valid, zeros,
};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::Initializer;
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::ops::conv::{
    ConvTranspose1dOptions, ConvTranspose2dOptions, Padding, conv_transpose1d, conv_transpose2d,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvTransposeConfig {
    pub filters: usize,
    /// One entry per spatial axis, as are `strides`, `dilation_rate` and `output_padding`
    /// (`strides` and `dilation_rate` empty: all ones).
    pub kernel_size: Vec<usize>,
    #[serde(default)]
    pub strides: Vec<usize>,
    #[serde(default = "valid")]
    pub padding: String,
    /// `None`: Keras's default sizes (`in * stride` with `"same"`).
    #[serde(default)]
    pub output_padding: Option<Vec<usize>>,
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default)]
    pub dilation_rate: Vec<usize>,
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

/// The output length of a transposed convolution along one axis, Keras's
/// `deconv_output_length` (`None` when the input's is unknown); an error naming the layer
/// when it would be empty.
#[allow(clippy::too_many_arguments)]
fn transposed_length(
    layer: &str,
    input_shape: &Shape,
    input: Option<usize>,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Result<Option<usize>> {
    let Some(input) = input else {
        return Ok(None);
    };
    let effective = dilation * (kernel - 1) + 1;
    let length = match (output_padding, padding) {
        (None, Padding::Same) => input * stride,
        (None, _) => input * stride + effective.saturating_sub(stride),
        (Some(extra), Padding::Same) => {
            (input.max(1) - 1) * stride + effective - 2 * (effective / 2) + extra
        }
        (Some(extra), _) => (input.max(1) - 1) * stride + effective + extra,
    };
    if length == 0 || input == 0 {
        return Err(Error::value(format!(
            "{layer}: the output would be empty for input shape {} (kernel_size {kernel}, \
             strides {stride}, output_padding {output_padding:?}, padding='{}')",
            format_shape(input_shape),
            padding.name()
        )));
    }
    Ok(Some(length))
}

/// `activation(conv_transpose(x, kernel) + bias)` over 1 (`Conv1DTranspose`) or 2
/// (`Conv2DTranspose`) spatial axes; the kernel is `(*kernel_size, filters, in_channels)`.
pub struct ConvTranspose {
    kind: &'static str,
    rank: usize,
    config: ConvTransposeConfig,
    padding: Padding,
    channels_first: bool,
    activation: Activation,
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl ConvTranspose {
    /// A transposed convolution layer of kind `kind` over `rank` spatial axes.
    pub fn build(
        kind: &'static str,
        rank: usize,
        mut config: ConvTransposeConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<ConvTranspose> {
        for (name, values) in [
            ("kernel_size", &mut config.kernel_size),
            ("strides", &mut config.strides),
            ("dilation_rate", &mut config.dilation_rate),
        ] {
            if values.is_empty() && name != "kernel_size" {
                *values = vec![1; rank];
            }
            if values.len() != rank {
                return Err(Error::value(format!(
                    "{kind}: {name} must have {rank} entries, received {name}={values:?}"
                )));
            }
        }
        check_sizes(kind, "filters", &[config.filters])?;
        check_sizes(kind, "kernel_size", &config.kernel_size)?;
        check_sizes(kind, "strides", &config.strides)?;
        check_sizes(kind, "dilation_rate", &config.dilation_rate)?;
        if let Some(extra) = &config.output_padding {
            if extra.len() != rank {
                return Err(Error::value(format!(
                    "{kind}: output_padding must have {rank} entries, received \
                     output_padding={extra:?}"
                )));
            }
            if extra.iter().zip(&config.strides).any(|(p, s)| p >= s) {
                return Err(Error::value(format!(
                    "{kind}: output_padding must be smaller than strides, received \
                     output_padding={extra:?} and strides={:?}",
                    config.strides
                )));
            }
        }
        if config.strides.iter().any(|&s| s > 1) && config.dilation_rate.iter().any(|&d| d > 1) {
            return Err(Error::value(format!(
                "{kind}: strides > 1 is not compatible with dilation_rate > 1, received \
                 strides={:?} and dilation_rate={:?}",
                config.strides, config.dilation_rate
            )));
        }
        let padding = match config.padding.to_ascii_lowercase().as_str() {
            "valid" => Padding::Valid,
            "same" => Padding::Same,
            other => {
                return Err(Error::value(format!(
                    "{kind}: padding must be 'valid' or 'same', received padding={other:?}"
                )));
            }
        };
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let activation = Activation::parse(&config.activation)?;
        let layer = ConvTranspose {
            kind,
            rank,
            kernel: Tensor::scalar(0.0, dtype),
            bias: None,
            config,
            padding,
            channels_first,
            activation,
        };
        let (in_channels, _) = layer.output_last(single_shape(kind, input_shapes)?)?;
        let c = &layer.config;
        let mut kernel_shape = c.kernel_size.clone();
        kernel_shape.extend([c.filters, in_channels]);
        let kernel = c.kernel_initializer.tensor(&kernel_shape, dtype)?;
        kernel.set_requires_grad(true)?;
        let bias = if c.use_bias {
            let bias = c.bias_initializer.tensor(&[c.filters], dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(ConvTranspose {
            kernel,
            bias,
            ..layer
        })
    }

    /// Checks an input shape and gives its channels and channels-last output shape.
    fn output_last(&self, input: &Shape) -> Result<(usize, Shape)> {
        let (kind, rank) = (self.kind, self.rank);
        if input.len() != rank + 2 {
            return Err(Error::value(format!(
                "{kind}: expects inputs of rank {} for data_format={:?}, received input shape {}",
                rank + 2,
                self.config.data_format,
                format_shape(input)
            )));
        }
        let last = move_shape(input, self.channels_first, true);
        let channels = match last[rank + 1] {
            Some(c) if c > 0 => c,
            _ => {
                return Err(Error::value(format!(
                    "{kind}: the channel dimension of the inputs must be known and positive, \
                     received input shape {}",
                    format_shape(input)
                )));
            }
        };
        if let Some(&built) = self.kernel.shape().get(rank + 1)
            && built != channels
        {
            return Err(Error::value(format!(
                "{kind}: the layer was built for {built} input channels (kernel shape {:?}), \
                 received input shape {}",
                self.kernel.shape(),
                format_shape(input)
            )));
        }
        let c = &self.config;
        let mut out = vec![last[0]];
        for axis in 0..rank {
            out.push(transposed_length(
                kind,
                input,
                last[axis + 1],
                c.kernel_size[axis],
                c.strides[axis],
                c.dilation_rate[axis],
                self.padding,
                c.output_padding.as_ref().map(|p| p[axis]),
            )?);
        }
        out.push(Some(c.filters));
        Ok((channels, out))
    }

    /// The forward pass with the given weights (the layer's own in `forward`).
    fn compute(&self, x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.output_last(&shape)?;
        let xl = if self.channels_first {
            move_channels(x, true)?
        } else {
            x.clone()
        };
        let c = &self.config;
        let extra = c.output_padding.as_deref();
        let y = if self.rank == 1 {
            let options = ConvTranspose1dOptions {
                strides: c.strides[0],
                padding: self.padding,
                dilation_rate: c.dilation_rate[0],
                output_padding: extra.map(|p| p[0]),
            };
            conv_transpose1d(&xl, kernel, bias, &options)
        } else {
            let options = ConvTranspose2dOptions {
                strides: [c.strides[0], c.strides[1]],
                padding: self.padding,
                dilation_rate: [c.dilation_rate[0], c.dilation_rate[1]],
                output_padding: extra.map(|p| [p[0], p[1]]),
            };
            conv_transpose2d(&xl, kernel, bias, &options)
        }
        .map_err(in_layer(self.kind, x))?;
        let y = self.activation.apply(&y)?;
        if self.channels_first {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }
}

impl Layer for ConvTranspose {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let (_, out) = self.output_last(single_shape(self.kind, input)?)?;
        Ok(move_shape(&out, self.channels_first, false))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input(self.kind, inputs)?;
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
            (self.config.kernel_regularizer, Some(&self.kernel)),
            (self.config.bias_regularizer, self.bias.as_ref()),
        ])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Conv2DTranspose",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(ConvTranspose::build(
                "Conv2DTranspose",
                2,
                parse_config("Conv2DTranspose", config)?,
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

    fn built(
        kind: &'static str,
        config: serde_json::Value,
        shape: &[usize],
    ) -> Result<ConvTranspose> {
        let shape: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        let rank = shape.len() - 2;
        ConvTranspose::build(
            kind,
            rank,
            parse_config(kind, &config)?,
            &[shape],
            DType::F64,
        )
    }

    #[test]
    fn output_shapes_and_parameter_counts_follow_keras() {
        // keras.io's DCGAN generator: Conv2DTranspose(128, 4, strides=2, padding="same").
        let l = built(
            "Conv2DTranspose",
            serde_json::json!({"filters": 128, "kernel_size": [4, 4], "strides": [2, 2],
                "padding": "same"}),
            &[1, 8, 8, 128],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(8), Some(8), Some(128)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(16), Some(16), Some(128)]);
        let params: usize = l.weights().iter().map(|w| w.tensor.numel()).sum();
        assert_eq!(params, 4 * 4 * 128 * 128 + 128);
        // Valid, output_padding (1, 0), channels first: (5 - 1) * 2 + 3 + 1 = 12, 4 * 1 + 2.
        let l = built(
            "Conv2DTranspose",
            serde_json::json!({"filters": 3, "kernel_size": [3, 3], "strides": [2, 1],
                "output_padding": [1, 0], "data_format": "channels_first"}),
            &[1, 2, 5, 4],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(2), Some(5), Some(4)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(3), Some(12), Some(6)]);
        assert_eq!(l.kernel.shape(), &[3, 3, 3, 2]);
    }

    #[test]
    fn bad_arguments_name_the_layer() {
        let err = |config: serde_json::Value| {
            built("Conv2DTranspose", config, &[1, 4, 4, 2])
                .err()
                .unwrap()
                .to_string()
        };
        let e = err(serde_json::json!({"filters": 2, "kernel_size": [3, 3],
            "output_padding": [2, 2], "strides": [2, 2]}));
        assert!(
            e.contains("Conv2DTranspose") && e.contains("output_padding"),
            "{e}"
        );
        let e = err(serde_json::json!({"filters": 2, "kernel_size": [3, 3], "padding": "causal"}));
        assert!(e.contains("padding"), "{e}");
        let l = built(
            "Conv2DTranspose",
            serde_json::json!({"filters": 2, "kernel_size": [3, 3]}),
            &[1, 4, 4, 2],
        )
        .unwrap();
        let e = l
            .output_shape(&[vec![None, Some(4), Some(4), Some(3)]])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("built for 2 input channels") && e.contains("(None, 4, 4, 3)"),
            "{e}"
        );
    }

    #[test]
    fn gradients_through_the_layer_match_finite_differences() {
        for (kind, config, shape) in [
            (
                "Conv2DTranspose",
                serde_json::json!({"filters": 2, "kernel_size": [3, 2], "padding": "same",
                    "strides": [2, 1], "output_padding": [1, 0], "activation": "tanh"}),
                vec![2, 3, 4, 3],
            ),
            (
                "Conv2DTranspose",
                serde_json::json!({"filters": 3, "kernel_size": [2, 2], "dilation_rate": [2, 1],
                    "data_format": "channels_first"}),
                vec![1, 2, 3, 3],
            ),
            (
                "Conv1DTranspose",
                serde_json::json!({"filters": 2, "kernel_size": [3], "strides": [3],
                    "output_padding": [2], "padding": "same"}),
                vec![2, 4, 2],
            ),
        ] {
            let l = built(kind, config, &shape).unwrap();
            let x = tensor(&shape, 3);
            let kernel = tensor(l.kernel.shape(), 5);
            let bias = tensor(&[l.config.filters], 7);
            for t in [&x, &kernel, &bias] {
                t.set_requires_grad(true).unwrap();
            }
            check_gradients(&[x, kernel, bias], |ts| {
                l.compute(&ts[0], &ts[1], Some(&ts[2])).unwrap()
            });
        }
    }
}

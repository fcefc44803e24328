//! `Conv2D`: a 2-D convolution over images, Keras's arguments and defaults.
//!
//! The kernel is stored as Keras stores it, `(kernel_h, kernel_w, in_channels / groups,
//! filters)` (PyTorch's `Conv2d.weight` is the permutation `(filters, in / groups, kh, kw)`,
//! see `docs/weight_layout.md`). The computation is `ops::conv::conv2d` on channels-last
//! inputs; with `data_format="channels_first"` the input is transposed to channels last and
//! the output back.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{GlorotUniform, Initializer, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::ops::conv::{Conv1dOptions, Conv2dOptions, Padding, conv1d_activated, conv2d_activated};
use crate::tensor::Tensor;

pub(crate) fn default_true() -> bool {
    true
}

pub(crate) fn linear_name() -> String {
    "linear".into()
}

pub(crate) fn glorot_uniform() -> Initializer {
    GlorotUniform {}.into()
}

pub(crate) fn zeros() -> Initializer {
    Zeros {}.into()
}

pub(crate) fn one() -> usize {
    1
}

pub(crate) fn valid() -> String {
    "valid".into()
}

pub(crate) fn channels_last() -> String {
    "channels_last".into()
}

/// Whether `data_format` is channels first, or an error naming the layer.
pub(crate) fn is_channels_first(layer: &str, data_format: &str) -> Result<bool> {
    match data_format {
        "channels_last" => Ok(false),
        "channels_first" => Ok(true),
        other => Err(Error::value(format!(
            "{layer}: data_format must be 'channels_last' or 'channels_first', received \
             data_format={other:?}"
        ))),
    }
}

/// `x` from channels first to channels last (`forward`) or back, for a tensor of any rank >= 3.
pub(crate) fn move_channels(x: &Tensor, to_last: bool) -> Result<Tensor> {
    let rank = x.ndim() as isize;
    let axes: Vec<isize> = if to_last {
        std::iter::once(0)
            .chain(2..rank)
            .chain(std::iter::once(1))
            .collect()
    } else {
        std::iter::once(0)
            .chain(std::iter::once(rank - 1))
            .chain(1..rank - 1)
            .collect()
    };
    x.transpose(Some(&axes))
}

/// A shape reordered from channels first to channels last (`to_last`) or back, when
/// `channels_first`; unchanged otherwise.
pub(crate) fn move_shape(shape: &Shape, channels_first: bool, to_last: bool) -> Shape {
    let mut s = shape.clone();
    if channels_first && s.len() >= 3 {
        if to_last {
            let c = s.remove(1);
            s.push(c);
        } else {
            let c = s.pop().flatten();
            s.insert(1, c);
        }
    }
    s
}

/// The output length along one axis with TensorFlow's rules (`None` when the input's is
/// unknown), or an error naming the layer when a valid-padded kernel does not fit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn axis_output(
    layer: &str,
    what: &str,
    input_shape: &Shape,
    input: Option<usize>,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Result<Option<usize>> {
    let Some(input) = input else {
        return Ok(None);
    };
    let effective = dilation * (kernel - 1) + 1;
    match padding {
        Padding::Valid => {
            if input < effective {
                return Err(Error::value(format!(
                    "{layer}: the {what} {kernel} (dilated to {effective}) is larger than the \
                     input's spatial size {input} with padding='valid'; received input shape {}",
                    format_shape(input_shape)
                )));
            }
            Ok(Some((input - effective) / stride + 1))
        }
        Padding::Same | Padding::Causal => Ok(Some(input.div_ceil(stride))),
    }
}

/// Checks that every entry of a size argument is at least 1.
pub(crate) fn check_sizes(layer: &str, name: &str, values: &[usize]) -> Result<()> {
    if values.is_empty() || values.contains(&0) {
        return Err(Error::value(format!(
            "{layer}: {name} must be positive integers, received {name}={values:?}"
        )));
    }
    Ok(())
}

/// The sum of the penalties of `(regularizer, weight)` pairs present.
pub(crate) fn penalties(
    terms: &[(Option<Regularizer>, Option<&Tensor>)],
) -> Result<Option<Tensor>> {
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

/// Re-labels an op's error with the layer's name and the input shape.
pub(crate) fn in_layer(layer: &'static str, x: &Tensor) -> impl FnOnce(Error) -> Error + use<> {
    let shape = x.shape().to_vec();
    move |e| Error::shape(layer, format!("{e} (input shape {shape:?})"))
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvConfig {
    pub filters: usize,
    /// One entry per spatial axis, as are `strides` and `dilation_rate` (empty: all ones).
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
    pub groups: usize,
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

/// The settings of a `Conv2D` layer.
pub type Conv2DConfig = ConvConfig;

/// A `Conv2D` layer.
pub type Conv2D = Conv;

/// `activation(conv(x, kernel) + bias)` over 1 (`Conv1D`) or 2 (`Conv2D`) spatial axes; the
/// kernel is `(*kernel_size, in_channels / groups, filters)`.
pub struct Conv {
    kind: &'static str,
    rank: usize,
    config: ConvConfig,
    padding: Padding,
    channels_first: bool,
    activation: Activation,
    kernel: Tensor,
    bias: Option<Tensor>,
}

impl Conv {
    /// A `Conv2D` layer.
    pub fn build(config: ConvConfig, input_shapes: &[Shape], dtype: DType) -> Result<Conv> {
        Conv::build_rank("Conv2D", 2, config, input_shapes, dtype)
    }

    /// A convolution layer of kind `kind` over `rank` spatial axes.
    pub fn build_rank(
        kind: &'static str,
        rank: usize,
        mut config: ConvConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Conv> {
        let l = kind;
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
        check_sizes(l, "filters", &[config.filters])?;
        check_sizes(l, "kernel_size", &config.kernel_size)?;
        check_sizes(l, "strides", &config.strides)?;
        check_sizes(l, "dilation_rate", &config.dilation_rate)?;
        check_sizes(l, "groups", &[config.groups])?;
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
            "causal" if rank == 1 => Padding::Causal,
            other => {
                let allowed = if rank == 1 {
                    "'valid', 'same' or 'causal'"
                } else {
                    "'valid' or 'same'"
                };
                return Err(Error::value(format!(
                    "{kind}: padding must be {allowed}, received padding={other:?}"
                )));
            }
        };
        let channels_first = is_channels_first(l, &config.data_format)?;
        let activation = Activation::parse(&config.activation)?;
        let layer = Conv {
            kind,
            rank,
            kernel: Tensor::scalar(0.0, dtype),
            bias: None,
            config,
            padding,
            channels_first,
            activation,
        };
        let in_channels = layer.check_input(single_shape(l, input_shapes)?)?;
        let c = &layer.config;
        let mut kernel_shape = c.kernel_size.clone();
        kernel_shape.extend([in_channels / c.groups, c.filters]);
        let kernel = c.kernel_initializer.tensor(&kernel_shape, dtype)?;
        kernel.set_requires_grad(true)?;
        let bias = if c.use_bias {
            let bias = c.bias_initializer.tensor(&[c.filters], dtype)?;
            bias.set_requires_grad(true)?;
            Some(bias)
        } else {
            None
        };
        Ok(Conv {
            kernel,
            bias,
            ..layer
        })
    }

    /// Checks an input shape and gives its channels and channels-last output shape.
    fn output_last(&self, input: &Shape) -> Result<(usize, Shape)> {
        let (kind, rank) = (self.kind, self.rank);
        if input.len() != rank + 2 {
            let layout = if rank == 1 {
                "(batch, steps, channels)"
            } else {
                "(batch, height, width, channels)"
            };
            return Err(Error::value(format!(
                "{kind}: expects inputs of rank {} {layout} for data_format={:?}, received                  input shape {}",
                rank + 2,
                self.config.data_format,
                format_shape(input)
            )));
        }
        let last = move_shape(input, self.channels_first, true);
        let Some(channels) = last[rank + 1] else {
            return Err(Error::value(format!(
                "{kind}: the channel dimension of the inputs must be known, received input \
                 shape {}",
                format_shape(input)
            )));
        };
        let c = &self.config;
        if channels == 0
            || !channels.is_multiple_of(c.groups)
            || !c.filters.is_multiple_of(c.groups)
        {
            return Err(Error::value(format!(
                "{kind}: groups={} must divide the input channels ({channels}) and \
                 filters={}, received input shape {}",
                c.groups,
                c.filters,
                format_shape(input)
            )));
        }
        if let Some(expected) = self.kernel.shape().get(rank)
            && expected * c.groups != channels
        {
            return Err(Error::value(format!(
                "{kind}: the layer was built for {} input channels, received input shape {}",
                expected * c.groups,
                format_shape(input)
            )));
        }
        let mut out = vec![last[0]];
        for axis in 0..rank {
            out.push(axis_output(
                kind,
                "kernel_size",
                input,
                last[axis + 1],
                c.kernel_size[axis],
                c.strides[axis],
                c.dilation_rate[axis],
                self.padding,
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
        let y = if self.rank == 1 {
            let options = Conv1dOptions {
                strides: c.strides[0],
                padding: self.padding,
                dilation_rate: c.dilation_rate[0],
                groups: c.groups,
            };
            conv1d_activated(&xl, kernel, bias, &options, self.activation)
        } else {
            let options = Conv2dOptions {
                strides: [c.strides[0], c.strides[1]],
                padding: self.padding,
                dilation_rate: [c.dilation_rate[0], c.dilation_rate[1]],
                groups: c.groups,
            };
            conv2d_activated(&xl, kernel, bias, &options, self.activation)
        }
        .map_err(in_layer(self.kind, x))?;
        if self.channels_first {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }

    fn check_input(&self, input: &Shape) -> Result<usize> {
        Ok(self.output_last(input)?.0)
    }
}

impl Layer for Conv {
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
        kind: "Conv2D",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Conv2D::build(parse_config("Conv2D", config)?, input_shapes, dtype)?))
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

    fn layer(config: serde_json::Value, shape: &[usize]) -> Result<Box<dyn Layer>> {
        Ok(Box::new(built(config, shape)?))
    }

    fn built(config: serde_json::Value, shape: &[usize]) -> Result<Conv2D> {
        let shape: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        Conv2D::build(parse_config("Conv2D", &config)?, &[shape], DType::F64)
    }

    #[test]
    fn output_shapes_and_parameter_counts_follow_keras() {
        let l = layer(
            serde_json::json!({"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
            &[1, 28, 28, 1],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(28), Some(28), Some(1)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(26), Some(26), Some(32)]);
        let params: usize = l.weights().iter().map(|w| w.tensor.numel()).sum();
        assert_eq!(params, 320);
        let l = layer(
            serde_json::json!({"filters": 4, "kernel_size": [3, 2], "strides": [2, 2],
                "padding": "same", "data_format": "channels_first", "groups": 2}),
            &[1, 6, 7, 5],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(6), Some(7), Some(5)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(4), Some(4), Some(3)]);
        assert_eq!(l.weights()[0].tensor.shape(), &[3, 2, 3, 4]);
    }

    #[test]
    fn bad_arguments_name_the_layer_and_shapes() {
        let err = |config: serde_json::Value, shape: &[usize]| {
            layer(config, shape).err().unwrap().to_string()
        };
        let e = err(
            serde_json::json!({"filters": 2, "kernel_size": [5, 5]}),
            &[1, 4, 4, 1],
        );
        assert!(e.contains("Conv2D") && e.contains("(None, 4, 4, 1)"), "{e}");
        let e = err(
            serde_json::json!({"filters": 2, "kernel_size": [1, 1], "groups": 2}),
            &[1, 4, 4, 3],
        );
        assert!(e.contains("Conv2D") && e.contains("groups=2"), "{e}");
        let e = err(
            serde_json::json!({"filters": 2, "kernel_size": [3, 3], "strides": [2, 2],
                "dilation_rate": [2, 2]}),
            &[1, 9, 9, 1],
        );
        assert!(e.contains("dilation_rate"), "{e}");
        let e = err(
            serde_json::json!({"filters": 0, "kernel_size": [1, 1]}),
            &[1, 4, 4, 1],
        );
        assert!(e.contains("filters"), "{e}");
    }

    #[test]
    fn gradients_through_the_layer_match_finite_differences() {
        for (config, shape) in [
            (
                serde_json::json!({"filters": 2, "kernel_size": [2, 3], "padding": "same",
                    "strides": [2, 1], "activation": "tanh"}),
                [2, 5, 4, 3],
            ),
            (
                serde_json::json!({"filters": 4, "kernel_size": [2, 2], "dilation_rate": [2, 1],
                    "groups": 2, "data_format": "channels_first"}),
                [1, 4, 5, 5],
            ),
        ] {
            let l = built(config, &shape).unwrap();
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

    #[test]
    fn causal_conv1d_gradients_match_finite_differences() {
        let config = serde_json::json!({"filters": 3, "kernel_size": [3], "padding": "causal",
            "dilation_rate": [2], "activation": "sigmoid"});
        let l = Conv::build_rank(
            "Conv1D",
            1,
            parse_config("Conv1D", &config).unwrap(),
            &[vec![None, Some(7), Some(2)]],
            DType::F64,
        )
        .unwrap();
        let x = tensor(&[2, 7, 2], 1);
        let kernel = tensor(&[3, 2, 3], 2);
        let bias = tensor(&[3], 4);
        for t in [&x, &kernel, &bias] {
            t.set_requires_grad(true).unwrap();
        }
        // Causal: output t does not depend on inputs after t.
        let y = l.compute(&x, &kernel, Some(&bias)).unwrap();
        assert_eq!(y.shape(), &[2, 7, 3]);
        check_gradients(&[x, kernel, bias], |ts| {
            l.compute(&ts[0], &ts[1], Some(&ts[2])).unwrap()
        });
    }
}

//! Convolutional ops on channels-last tensors (Keras's default layout), with TensorFlow's
//! padding rules: convolutions (`convolution`), transposed convolutions (`transpose`), depthwise
//! convolutions (`depthwise`), pooling (`pool`, `global_pool`) and upsampling (`upsampling`).
//!
//! Spatial sizes follow TensorFlow. With an effective kernel `e = dilation * (k - 1) + 1`:
//! - `"valid"`: no padding, `out = floor((in - e) / stride) + 1` (an error when `in < e`);
//! - `"same"`: `out = ceil(in / stride)`, padded by `max((out - 1) * stride + e - in, 0)` split
//!   with the odd element at the end (bottom/right);
//! - `"causal"` (1-D convolutions only): `e - 1` zeros before the sequence, so that output `t`
//!   sees inputs up to `t`; `out = ceil(in / stride)`.
//!
//! A separable convolution is a depthwise one followed by a 1x1 convolution: no op of its own.

pub mod convolution;
pub mod depthwise;
pub mod global_pool;
pub mod pool;
#[cfg(test)]
mod reference;
pub mod transpose;
pub mod upsampling;

pub use convolution::{
    Conv1dOptions, Conv2dOptions, conv1d, conv1d_activated, conv2d, conv2d_activated,
    fusable_activation,
};
pub use depthwise::{
    DepthwiseConv1dOptions, DepthwiseConv2dOptions, depthwise_conv1d, depthwise_conv2d,
};
pub use global_pool::{global_avg_pool, global_max_pool};
pub use pool::{Pool1dOptions, Pool2dOptions, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d};
pub use transpose::{
    ConvTranspose1dOptions, ConvTranspose2dOptions, conv_transpose1d, conv_transpose2d,
};
pub use upsampling::{Interpolation, upsampling1d, upsampling2d};

use std::mem::MaybeUninit;

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::im2col::ConvGeometry;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// How a convolution or pooling window treats the borders (TensorFlow's rules, see the module
/// documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    #[default]
    Valid,
    Same,
    /// Only for 1-D convolutions.
    Causal,
}

impl Padding {
    /// Parses Keras's names: `"valid"`, `"same"`, `"causal"` (any case).
    ///
    /// ```
    /// use ferrograd::ops::conv::Padding;
    /// assert_eq!(Padding::parse("SAME").unwrap(), Padding::Same);
    /// ```
    pub fn parse(name: &str) -> Result<Padding> {
        match name.to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            "causal" => Ok(Padding::Causal),
            _ => Err(Error::value(format!(
                "padding must be 'valid', 'same' or 'causal', received {name:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }
}

/// The names of the spatial axes of a rank-`rank` op, for messages.
fn axis_name(rank: usize, axis: usize) -> &'static str {
    match (rank, axis) {
        (1, _) => "length",
        (_, 0) => "height",
        _ => "width",
    }
}

/// `(output length, padding before)` along one spatial axis.
#[allow(clippy::too_many_arguments)]
fn spatial_output(
    op: &'static str,
    what: &str,
    axis: &str,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Result<(usize, usize)> {
    let effective = dilation
        .checked_mul(kernel - 1)
        .and_then(|e| e.checked_add(1))
        .ok_or_else(|| Error::shape(op, format!("the dilated {what} {axis} overflows")))?;
    match padding {
        Padding::Valid => {
            if input < effective {
                return Err(Error::shape(
                    op,
                    format!(
                        "the {what} {axis} {kernel} (dilated to {effective}) is larger than the \
                         input {axis} {input} with 'valid' padding; use padding='same' or a \
                         smaller {what}"
                    ),
                ));
            }
            Ok(((input - effective) / stride + 1, 0))
        }
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + effective).saturating_sub(input);
            Ok((out, total / 2))
        }
        Padding::Causal => Ok((input.div_ceil(stride), effective - 1)),
    }
}

/// Checks that every entry of a size argument is at least 1.
fn check_positive(op: &'static str, name: &str, values: &[usize]) -> Result<()> {
    if values.contains(&0) {
        return Err(Error::value(format!(
            "{op}: {name} must be positive integers, received {values:?}"
        )));
    }
    Ok(())
}

/// Checks that `input` is `(batch, *spatial, channels)` with `rank` spatial axes, none of them
/// (nor the channels) empty.
fn check_input(op: &'static str, input: &[usize], rank: usize) -> Result<()> {
    let layout = if rank == 1 {
        "(batch, length, channels)"
    } else {
        "(batch, height, width, channels)"
    };
    if input.len() != rank + 2 {
        return Err(Error::shape(
            op,
            format!("expects an input of shape {layout}, received shape {input:?}"),
        ));
    }
    if input[1..].contains(&0) {
        return Err(Error::shape(
            op,
            format!(
                "the input {layout} must have non-empty spatial axes and channels, received \
                 shape {input:?}"
            ),
        ));
    }
    Ok(())
}

/// Lifts rank-1 spatial arguments to 2-D ones of height 1.
fn lift(values: &[usize], fill: usize) -> [usize; 2] {
    match values {
        [v] => [fill, *v],
        [a, b] => [*a, *b],
        _ => [fill, fill],
    }
}

/// The geometry of a convolution whose kernel is `(*spatial, in_channels / groups,
/// out_channels)`, after checking every argument. `depthwise` names the kernel's last two axes
/// as `(in_channels, depth_multiplier)` instead, for the messages.
fn conv_geometry(
    op: &'static str,
    input: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilation: &[usize],
    padding: Padding,
    groups: usize,
) -> Result<ConvGeometry> {
    let rank = strides.len();
    check_input(op, input, rank)?;
    check_positive(op, "strides", strides)?;
    check_positive(op, "dilation_rate", dilation)?;
    check_positive(op, "groups", &[groups])?;
    if kernel.len() != rank + 2 || kernel.contains(&0) {
        return Err(Error::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: kernel.to_vec(),
            reason: "do not fit: the kernel must be (*kernel_size, in_channels / groups, \
                     out_channels) with every size positive",
        });
    }
    if padding == Padding::Causal && rank != 1 {
        return Err(Error::value(format!(
            "{op}: padding 'causal' is only for 1-D convolutions"
        )));
    }
    let in_channels = input[rank + 1];
    let (kernel_in, out_channels) = (kernel[rank], kernel[rank + 1]);
    if !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        return Err(Error::value(format!(
            "{op}: groups ({groups}) must divide the input channels ({in_channels}) and the \
             output channels ({out_channels})"
        )));
    }
    if kernel_in * groups != in_channels {
        return Err(Error::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: kernel.to_vec(),
            reason: "do not fit: the kernel's second-to-last axis times groups must equal the \
                     input's channels",
        });
    }
    let mut output = Vec::with_capacity(rank);
    let mut pads = Vec::with_capacity(rank);
    for axis in 0..rank {
        let (out, pad) = spatial_output(
            op,
            "kernel",
            axis_name(rank, axis),
            input[axis + 1],
            kernel[axis],
            strides[axis],
            dilation[axis],
            padding,
        )?;
        output.push(out);
        pads.push(pad);
    }
    let geometry = ConvGeometry {
        batch: input[0],
        input: lift(&input[1..=rank], 1),
        in_channels,
        output: lift(&output, 1),
        out_channels,
        kernel: lift(&kernel[..rank], 1),
        strides: lift(strides, 1),
        dilation: lift(dilation, 1),
        pad_before: lift(&pads, 0),
        groups,
    };
    let mut out_shape = vec![input[0]];
    out_shape.extend(&output);
    out_shape.push(out_channels);
    crate::storage::checked_numel(&out_shape, DType::F64)?;
    Ok(geometry)
}

/// The output shape of a geometry at spatial rank `rank`.
fn output_shape(geo: &ConvGeometry, rank: usize) -> Vec<usize> {
    let mut shape = vec![geo.batch];
    shape.extend(&geo.output[2 - rank..]);
    shape.push(geo.out_channels);
    shape
}

/// The input shape of a geometry at spatial rank `rank`.
fn input_shape(geo: &ConvGeometry, rank: usize) -> Vec<usize> {
    let mut shape = vec![geo.batch];
    shape.extend(&geo.input[2 - rank..]);
    shape.push(geo.in_channels);
    shape
}

/// Checks that the kernel and the bias (one value per output channel) share the input's dtype
/// and that the bias fits.
fn check_operands(
    op: &'static str,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    channels: usize,
) -> Result<()> {
    if let Some(b) = bias
        && b.shape() != [channels]
    {
        return Err(Error::ShapeMismatch {
            op,
            lhs: kernel.shape().to_vec(),
            rhs: b.shape().to_vec(),
            reason: "do not fit: the bias must have one value per output channel",
        });
    }
    for t in [Some(kernel), bias].into_iter().flatten() {
        if t.dtype() != input.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                expected: input.dtype(),
                received: t.dtype(),
            });
        }
    }
    Ok(())
}

/// The contiguous values of a storage of element type `T`.
fn values<T: Element>(storage: &Storage) -> Result<&[T]> {
    storage
        .typed::<T>()?
        .as_slice()
        .ok_or_else(|| Error::Autograd("internal error: a tensor is not contiguous".into()))
}

/// A zero-filled storage of `shape` and `T`, and a function writing into its values.
fn new_storage<T: Element>(
    shape: &[usize],
    fill: impl FnOnce(&mut [T]) -> Result<()>,
) -> Result<Storage> {
    let mut array = crate::storage::try_zeros::<T>(shape)?;
    let slice = array
        .as_slice_mut()
        .ok_or_else(|| Error::Autograd("internal error: a new array is not contiguous".into()))?;
    fill(slice)?;
    Ok(T::into_storage(array))
}

/// A storage of `shape` and `T` whose values `fill` initialises, given them uninitialised: for
/// kernels that zero each chunk of their output in the chunk's own thread before writing it
/// (`for_each_sample_chunk_zeroed`), where `new_storage` would zero the whole of it first.
/// `fill` must initialise every value when it returns `Ok`.
fn new_storage_in_chunks<T: Element>(
    shape: &[usize],
    fill: impl FnOnce(&mut [MaybeUninit<T>]) -> Result<()>,
) -> Result<Storage> {
    let numel = crate::storage::checked_numel(shape, T::DTYPE)?;
    let mut data: Vec<T> = Vec::new();
    data.try_reserve_exact(numel).map_err(|_| {
        Error::OutOfMemory(format!(
            "cannot allocate {} bytes for a tensor of shape {shape:?}",
            numel * T::DTYPE.size_of()
        ))
    })?;
    fill(&mut data.spare_capacity_mut()[..numel])?;
    // SAFETY: `fill` initialised the `numel` values it was given (its contract).
    unsafe { data.set_len(numel) };
    Ok(T::into_storage(crate::storage::array_from_vec(
        shape, data,
    )?))
}

/// Adds `bias` to every row of `out` (rows of `bias.len()` values).
fn add_bias<T: Element>(out: &mut [T], bias: &[T]) {
    if bias.is_empty() {
        return;
    }
    for row in out.chunks_exact_mut(bias.len()) {
        for (v, &b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// The sum of the rows of `grad` (the gradient of a per-channel bias), in row order.
fn bias_grad<T: Element>(grad: &[T], channels: usize) -> Result<Storage> {
    new_storage::<T>(&[channels], |dest| {
        crate::kernels::elementwise::column_sums(grad, dest, false);
        Ok(())
    })
}

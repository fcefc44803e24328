//! Depthwise convolutions, 1-D and 2-D, channels last, as Keras's `DepthwiseConv1D` and
//! `DepthwiseConv2D` compute them: every input channel `c` is convolved on its own with
//! `depth_multiplier` filters, giving output channels `c * depth_multiplier + m`:
//!
//! `y[n, o, c * M + m] = bias[c * M + m] + sum_k x[n, o * stride + k * dilation - pad, c]
//!                                               * kernel[k, c, m]`
//!
//! The kernel `(*k, C_in, M)` has the memory layout of a grouped convolution's kernel
//! `(*k, 1, C_in * M)` with `groups = C_in`, which is how it is computed.

use super::convolution::convolve;
use super::{Padding, check_input, conv_geometry};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The arguments of `depthwise_conv2d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepthwiseConv2dOptions {
    pub strides: [usize; 2],
    /// `Valid` or `Same`.
    pub padding: Padding,
    pub dilation_rate: [usize; 2],
}

impl Default for DepthwiseConv2dOptions {
    fn default() -> Self {
        DepthwiseConv2dOptions {
            strides: [1, 1],
            padding: Padding::Valid,
            dilation_rate: [1, 1],
        }
    }
}

/// The arguments of `depthwise_conv1d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepthwiseConv1dOptions {
    pub strides: usize,
    /// `Valid`, `Same` or `Causal`.
    pub padding: Padding,
    pub dilation_rate: usize,
}

impl Default for DepthwiseConv1dOptions {
    fn default() -> Self {
        DepthwiseConv1dOptions {
            strides: 1,
            padding: Padding::Valid,
            dilation_rate: 1,
        }
    }
}

/// 2-D depthwise convolution (Keras `DepthwiseConv2D`, channels last).
///
/// Args:
/// - `input`: `(N, H, W, C_in)`.
/// - `kernel`: `(kh, kw, C_in, depth_multiplier)`.
/// - `bias`: `(C_in * depth_multiplier,)` or `None`.
/// - `options`: strides, padding and dilation.
///
/// Returns `(N, H_out, W_out, C_in * depth_multiplier)`.
///
/// ```
/// use ferrograd::ops::conv::{DepthwiseConv2dOptions, depthwise_conv2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 3, 3, 2], 1.0, DType::F32).unwrap();
/// let k = Tensor::full(&[3, 3, 2, 1], 1.0, DType::F32).unwrap();
/// let y = depthwise_conv2d(&x, &k, None, &DepthwiseConv2dOptions::default()).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![9.0, 9.0]);
/// ```
pub fn depthwise_conv2d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &DepthwiseConv2dOptions,
) -> Result<Tensor> {
    let op = "depthwise_conv2d";
    let grouped = grouped_kernel_shape(op, input.shape(), kernel.shape(), 2)?;
    let geo = conv_geometry(
        op,
        input.shape(),
        &grouped,
        &options.strides,
        &options.dilation_rate,
        options.padding,
        input.shape()[3],
    )?;
    convolve(op, input, kernel, bias, geo, 2)
}

/// 1-D depthwise convolution (Keras `DepthwiseConv1D`, channels last).
///
/// Args:
/// - `input`: `(N, L, C_in)`.
/// - `kernel`: `(k, C_in, depth_multiplier)`.
/// - `bias`: `(C_in * depth_multiplier,)` or `None`.
/// - `options`: stride, padding (`Valid`, `Same` or `Causal`) and dilation.
///
/// Returns `(N, L_out, C_in * depth_multiplier)`.
///
/// ```
/// use ferrograd::ops::conv::{DepthwiseConv1dOptions, depthwise_conv1d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 2, 1], 1.0, DType::F64).unwrap();
/// let k = Tensor::full(&[2, 1, 2], 0.5, DType::F64).unwrap();
/// let y = depthwise_conv1d(&x, &k, None, &DepthwiseConv1dOptions::default()).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![1.0, 1.0]);
/// ```
pub fn depthwise_conv1d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &DepthwiseConv1dOptions,
) -> Result<Tensor> {
    let op = "depthwise_conv1d";
    let grouped = grouped_kernel_shape(op, input.shape(), kernel.shape(), 1)?;
    let geo = conv_geometry(
        op,
        input.shape(),
        &grouped,
        &[options.strides],
        &[options.dilation_rate],
        options.padding,
        input.shape()[2],
    )?;
    convolve(op, input, kernel, bias, geo, 1)
}

/// The grouped-convolution kernel shape `(*k, 1, C_in * M)` of a depthwise kernel
/// `(*k, C_in, M)`, after checking it against the input.
fn grouped_kernel_shape(
    op: &'static str,
    input: &[usize],
    kernel: &[usize],
    rank: usize,
) -> Result<Vec<usize>> {
    check_input(op, input, rank)?;
    if kernel.len() != rank + 2 || kernel.contains(&0) || kernel[rank] != input[rank + 1] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: kernel.to_vec(),
            reason: "do not fit: the kernel must be (*kernel_size, in_channels, \
                     depth_multiplier) with every size positive and in_channels the input's \
                     last axis",
        });
    }
    let channels = kernel[rank]
        .checked_mul(kernel[rank + 1])
        .ok_or_else(|| Error::shape(op, "the output channels overflow"))?;
    let mut grouped = kernel[..rank].to_vec();
    grouped.extend([1, channels]);
    Ok(grouped)
}

impl Tensor {
    /// `depthwise_conv2d(self, kernel, bias, options)`; see [`depthwise_conv2d`].
    pub fn depthwise_conv2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &DepthwiseConv2dOptions,
    ) -> Result<Tensor> {
        depthwise_conv2d(self, kernel, bias, options)
    }

    /// `depthwise_conv1d(self, kernel, bias, options)`; see [`depthwise_conv1d`].
    pub fn depthwise_conv1d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &DepthwiseConv1dOptions,
    ) -> Result<Tensor> {
        depthwise_conv1d(self, kernel, bias, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::ops::conv::reference::{
        Case, assert_close, assert_same_bits_on_any_thread_count, bits, conv, tensor, tf_axis,
        values,
    };
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_channels_stay_apart() {
        // Channel 0 is summed with weights 1 and 2 (two multipliers), channel 1 with 3 and 4.
        let x = tensor(&[1, 1, 2, 2], vec![1.0, 10.0, 2.0, 20.0]);
        let k = tensor(&[1, 2, 2, 2], vec![1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]);
        let y = depthwise_conv2d(&x, &k, None, &DepthwiseConv2dOptions::default()).unwrap();
        assert_eq!(y.shape(), &[1, 1, 1, 4]);
        assert_eq!(y.to_f64_vec(), vec![3.0, 6.0, 90.0, 120.0]);
    }

    #[test]
    fn matches_the_direct_grouped_convolution_and_finite_differences() {
        for strides in [1, 2] {
            for padding in [Padding::Valid, Padding::Same] {
                for dilation in [1, 2] {
                    // One filter per channel takes the direct loops, two the grouped GEMMs.
                    for (with_bias, m) in [(false, 1), (true, 1), (false, 2), (true, 2)] {
                        let options = DepthwiseConv2dOptions {
                            strides: [strides, 1],
                            padding,
                            dilation_rate: [1, dilation],
                        };
                        let (xv, kv) = (values(2 * 5 * 5 * 3, 1), values(2 * 3 * 3 * m, 2));
                        let x = tensor(&[2, 5, 5, 3], xv.clone());
                        let k = tensor(&[2, 3, 3, m], kv.clone());
                        let b = tensor(&[3 * m], values(3 * m, 3));
                        let y = depthwise_conv2d(&x, &k, None, &options).unwrap();
                        let ((oh, ph), (ow, pw)) = (
                            tf_axis(5, 2, strides, 1, padding),
                            tf_axis(5, 3, 1, dilation, padding),
                        );
                        let case = Case {
                            batch: 2,
                            input: [5, 5],
                            in_channels: 3,
                            out_channels: 3 * m,
                            kernel: [2, 3],
                            strides: [strides, 1],
                            dilation: [1, dilation],
                            groups: 3,
                            pad_before: [ph, pw],
                            output: [oh, ow],
                        };
                        assert_close(
                            &y.to_f64_vec(),
                            &conv(&case, &xv, &kv),
                            &format!("{options:?}"),
                        );
                        if with_bias {
                            check_gradients(&[x, k, b], |t| {
                                depthwise_conv2d(&t[0], &t[1], Some(&t[2]), &options).unwrap()
                            });
                        } else {
                            check_gradients(&[x, k], |t| {
                                depthwise_conv2d(&t[0], &t[1], None, &options).unwrap()
                            });
                        }
                    }
                }
            }
        }
        for padding in [Padding::Valid, Padding::Same, Padding::Causal] {
            let options = DepthwiseConv1dOptions {
                padding,
                ..Default::default()
            };
            let x = tensor(&[2, 5, 2], values(20, 1));
            let k = tensor(&[3, 2, 2], values(12, 2));
            check_gradients(&[x, k], |t| {
                depthwise_conv1d(&t[0], &t[1], None, &options).unwrap()
            });
        }
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        let run = || {
            let x = tensor(&[16, 10, 10, 16], values(16 * 100 * 16, 1))
                .astype(DType::F32)
                .unwrap()
                .detach();
            let k = tensor(&[3, 3, 16, 2], values(288, 2))
                .astype(DType::F32)
                .unwrap()
                .detach();
            x.set_requires_grad(true).unwrap();
            k.set_requires_grad(true).unwrap();
            let y = depthwise_conv2d(&x, &k, None, &DepthwiseConv2dOptions::default()).unwrap();
            y.square()
                .unwrap()
                .sum(None, false)
                .unwrap()
                .backward(None, false)
                .unwrap();
            vec![bits(&y), bits(&x.grad().unwrap()), bits(&k.grad().unwrap())]
        };
        assert_same_bits_on_any_thread_count("depthwise_conv2d", run);
    }

    #[test]
    fn a_kernel_for_other_channels_is_an_error() {
        let x = tensor(&[1, 4, 4, 3], values(48, 1));
        let m = depthwise_conv2d(
            &x,
            &tensor(&[3, 3, 2, 1], values(18, 1)),
            None,
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            m.contains("depthwise_conv2d")
                && m.contains("[1, 4, 4, 3]")
                && m.contains("[3, 3, 2, 1]"),
            "{m}"
        );
    }
}

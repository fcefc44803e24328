//! Transposed convolutions, 1-D and 2-D, channels last, as Keras's `Conv1DTranspose` and
//! `Conv2DTranspose` compute them.
//!
//! A transposed convolution is the input gradient of a convolution: each input position
//! scatters `x[n, i, ci] * kernel[k, co, ci]` to output position `i * stride + k * dilation -
//! pad`. Output sizes: `in * stride + max(e - stride, 0)` with `"valid"` padding and
//! `in * stride` with `"same"`, where `e = dilation * (k - 1) + 1`; `"same"` crops
//! `max(e - stride, 0)` positions, the odd one at the end, as TensorFlow does.
//!
//! With an `output_padding` `p` (Keras's `deconv_output_length`): `(in - 1) * stride + e + p`
//! with `"valid"` padding, and `(in - 1) * stride + e % 2 + p` with `"same"`, which then crops
//! `max(e - e % 2 - p, 0) / 2` positions at the start (TensorFlow's `"SAME"` padding of the
//! convolution whose input gradient this is). Positions no input reaches hold the bias.

use std::sync::Arc;

use super::{
    Padding, add_bias, bias_grad, check_input, check_operands, check_positive, input_shape, lift,
    new_storage, new_storage_in_chunks, values,
};
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::im2col::{ConvGeometry, conv_forward, conv_input_grad, conv_kernel_grad};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The arguments of `conv_transpose2d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dOptions {
    pub strides: [usize; 2],
    /// `Valid` or `Same`.
    pub padding: Padding,
    pub dilation_rate: [usize; 2],
    /// Extra output positions at the end of each axis (Keras's `output_padding`); `None`
    /// gives the sizes of the module documentation.
    pub output_padding: Option<[usize; 2]>,
}

impl Default for ConvTranspose2dOptions {
    fn default() -> Self {
        ConvTranspose2dOptions {
            strides: [1, 1],
            padding: Padding::Valid,
            dilation_rate: [1, 1],
            output_padding: None,
        }
    }
}

/// The arguments of `conv_transpose1d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTranspose1dOptions {
    pub strides: usize,
    /// `Valid` or `Same`.
    pub padding: Padding,
    pub dilation_rate: usize,
    /// Extra output positions at the end (Keras's `output_padding`); `None` gives the sizes of
    /// the module documentation.
    pub output_padding: Option<usize>,
}

impl Default for ConvTranspose1dOptions {
    fn default() -> Self {
        ConvTranspose1dOptions {
            strides: 1,
            padding: Padding::Valid,
            dilation_rate: 1,
            output_padding: None,
        }
    }
}

/// 2-D transposed convolution (Keras `Conv2DTranspose`, channels last).
///
/// Args:
/// - `input`: `(N, H, W, C_in)`.
/// - `kernel`: `(kh, kw, C_out, C_in)` (Keras's layout).
/// - `bias`: `(C_out,)` or `None`.
/// - `options`: strides, padding (`Valid` or `Same`) and dilation.
///
/// Returns `(N, H_out, W_out, C_out)`, sizes as in the module documentation.
///
/// ```
/// use ferrograd::ops::conv::{ConvTranspose2dOptions, conv_transpose2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 2, 2, 1], 1.0, DType::F32).unwrap();
/// let k = Tensor::full(&[2, 2, 1, 1], 1.0, DType::F32).unwrap();
/// let options = ConvTranspose2dOptions { strides: [2, 2], ..Default::default() };
/// let y = conv_transpose2d(&x, &k, None, &options).unwrap();
/// assert_eq!(y.shape(), &[1, 4, 4, 1]);
/// assert_eq!(y.to_f64_vec(), vec![1.0; 16]);
/// ```
pub fn conv_transpose2d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTranspose2dOptions,
) -> Result<Tensor> {
    let geo = transpose_geometry(
        "conv_transpose2d",
        input.shape(),
        kernel.shape(),
        &options.strides,
        &options.dilation_rate,
        options.padding,
        options.output_padding.as_ref().map(|p| &p[..]),
    )?;
    transpose("conv_transpose2d", input, kernel, bias, geo, 2)
}

/// 1-D transposed convolution (Keras `Conv1DTranspose`, channels last).
///
/// Args:
/// - `input`: `(N, L, C_in)`.
/// - `kernel`: `(k, C_out, C_in)`.
/// - `bias`: `(C_out,)` or `None`.
/// - `options`: stride, padding (`Valid` or `Same`) and dilation.
///
/// Returns `(N, L_out, C_out)`.
///
/// ```
/// use ferrograd::ops::conv::{ConvTranspose1dOptions, conv_transpose1d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 2, 1], 1.0, DType::F64).unwrap();
/// let k = Tensor::full(&[3, 1, 1], 1.0, DType::F64).unwrap();
/// let y = conv_transpose1d(&x, &k, None, &ConvTranspose1dOptions::default()).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![1.0, 2.0, 2.0, 1.0]);
/// ```
pub fn conv_transpose1d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTranspose1dOptions,
) -> Result<Tensor> {
    let geo = transpose_geometry(
        "conv_transpose1d",
        input.shape(),
        kernel.shape(),
        &[options.strides],
        &[options.dilation_rate],
        options.padding,
        options.output_padding.as_ref().map(std::slice::from_ref),
    )?;
    transpose("conv_transpose1d", input, kernel, bias, geo, 1)
}

/// The geometry of the convolution whose input gradient this transposed convolution is: its
/// input is the transposed convolution's output and its output the transposed convolution's
/// input.
fn transpose_geometry(
    op: &'static str,
    input: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilation: &[usize],
    padding: Padding,
    output_padding: Option<&[usize]>,
) -> Result<ConvGeometry> {
    let rank = strides.len();
    check_input(op, input, rank)?;
    if output_padding.is_some_and(|p| p.len() != rank) {
        return Err(Error::value(format!(
            "{op}: output_padding must have {rank} entries, received {output_padding:?}"
        )));
    }
    check_positive(op, "strides", strides)?;
    check_positive(op, "dilation_rate", dilation)?;
    if padding == Padding::Causal {
        return Err(Error::value(format!(
            "{op}: padding must be 'valid' or 'same', received 'causal'"
        )));
    }
    let in_channels = input[rank + 1];
    if kernel.len() != rank + 2 || kernel.contains(&0) || kernel[rank + 1] != in_channels {
        return Err(Error::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: kernel.to_vec(),
            reason: "do not fit: the kernel must be (*kernel_size, out_channels, in_channels) \
                     with every size positive and in_channels the input's last axis",
        });
    }
    let out_channels = kernel[rank];
    let mut output = Vec::with_capacity(rank);
    let mut pads = Vec::with_capacity(rank);
    for axis in 0..rank {
        let effective = dilation[axis]
            .checked_mul(kernel[axis] - 1)
            .and_then(|e| e.checked_add(1))
            .ok_or_else(|| Error::shape(op, "the dilated kernel size overflows"))?;
        let overflow = || Error::shape(op, "the output size overflows");
        let (length, crop) = match output_padding.map(|p| p[axis]) {
            None => {
                let overlap = effective.saturating_sub(strides[axis]);
                let base = input[axis + 1]
                    .checked_mul(strides[axis])
                    .ok_or_else(overflow)?;
                match padding {
                    Padding::Same => (base, overlap / 2),
                    _ => (base.checked_add(overlap).ok_or_else(overflow)?, 0),
                }
            }
            Some(extra) => {
                let base = (input[axis + 1] - 1)
                    .checked_mul(strides[axis])
                    .and_then(|b| b.checked_add(extra))
                    .ok_or_else(overflow)?;
                match padding {
                    Padding::Same => {
                        let odd = effective % 2;
                        (base + odd, (effective - odd).saturating_sub(extra) / 2)
                    }
                    _ => (base.checked_add(effective).ok_or_else(overflow)?, 0),
                }
            }
        };
        if length == 0 {
            return Err(Error::shape(
                op,
                format!(
                    "the output {} would be empty: input {input:?}, kernel {kernel:?}, \
                     output_padding {output_padding:?} with 'same' padding",
                    super::axis_name(rank, axis)
                ),
            ));
        }
        output.push(length);
        pads.push(crop);
    }
    let mut out_shape = vec![input[0]];
    out_shape.extend(&output);
    out_shape.push(out_channels);
    crate::storage::checked_numel(&out_shape, DType::F64)?;
    Ok(ConvGeometry {
        batch: input[0],
        input: lift(&output, 1),
        in_channels: out_channels,
        output: lift(&input[1..=rank], 1),
        out_channels: in_channels,
        kernel: lift(&kernel[..rank], 1),
        strides: lift(strides, 1),
        dilation: lift(dilation, 1),
        pad_before: lift(&pads, 0),
        groups: 1,
    })
}

fn transpose(
    op: &'static str,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    geo: ConvGeometry,
    rank: usize,
) -> Result<Tensor> {
    check_operands(op, input, kernel, bias, geo.in_channels)?;
    let shape = input_shape(&geo, rank);
    let (x, k) = (input.data(), kernel.data());
    let b = bias.map(Tensor::data);
    let out = match input.dtype() {
        DType::F32 => forward::<f32>(&geo, &shape, &x, &k, b.as_deref())?,
        DType::F64 => forward::<f64>(&geo, &shape, &x, &k, b.as_deref())?,
    };
    let inputs: Vec<&Tensor> = [Some(input), Some(kernel), bias]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(out, &inputs, |_| TransposeBackward {
        op,
        geo,
        input: x,
        kernel: k,
        has_bias: bias.is_some(),
    }))
}

fn forward<T: Element>(
    geo: &ConvGeometry,
    shape: &[usize],
    x: &Storage,
    kernel: &Storage,
    bias: Option<&Storage>,
) -> Result<Storage> {
    let bias = bias.map(values::<T>).transpose()?;
    new_storage_in_chunks::<T>(shape, |out| {
        conv_input_grad(geo, values::<T>(x)?, values::<T>(kernel)?, out, |samples| {
            if let Some(b) = bias {
                add_bias(samples, b);
            }
        })
    })
}

struct TransposeBackward {
    op: &'static str,
    geo: ConvGeometry,
    input: Arc<Storage>,
    kernel: Arc<Storage>,
    has_bias: bool,
}

impl Backward for TransposeBackward {
    fn name(&self) -> &'static str {
        self.op
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        match grad.dtype() {
            DType::F32 => self.backward_typed::<f32>(grad, grads),
            DType::F64 => self.backward_typed::<f64>(grad, grads),
        }
    }
}

impl TransposeBackward {
    fn backward_typed<T: Element>(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let dy = values::<T>(grad)?;
        if grads.wants(0) {
            // The adjoint of the convolution's input gradient is the convolution itself.
            let dx = new_storage_in_chunks::<T>(self.input.shape(), |dx| {
                conv_forward(&self.geo, dy, values::<T>(&self.kernel)?, dx, |_| {})
            })?;
            grads.add(0, dx)?;
        }
        if grads.wants(1) {
            let dk = new_storage::<T>(self.kernel.shape(), |dk| {
                conv_kernel_grad(&self.geo, dy, values::<T>(&self.input)?, dk)
            })?;
            grads.add(1, dk)?;
        }
        if self.has_bias && grads.wants(2) {
            grads.add(2, bias_grad(dy, self.geo.in_channels)?)?;
        }
        Ok(())
    }
}

impl Tensor {
    /// `conv_transpose2d(self, kernel, bias, options)`; see [`conv_transpose2d`].
    pub fn conv_transpose2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvTranspose2dOptions,
    ) -> Result<Tensor> {
        conv_transpose2d(self, kernel, bias, options)
    }

    /// `conv_transpose1d(self, kernel, bias, options)`; see [`conv_transpose1d`].
    pub fn conv_transpose1d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvTranspose1dOptions,
    ) -> Result<Tensor> {
        conv_transpose1d(self, kernel, bias, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::convolution::{Conv2dOptions, conv2d};
    use crate::ops::conv::reference::{
        Case, assert_close, assert_same_bits_on_any_thread_count, bits, conv_transpose, tensor,
        values,
    };
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_1d_valid_and_same() {
        // Input [1, 2], kernel [1, 1, 1], stride 2: input i covers outputs 2i..2i+3.
        let x = tensor(&[1, 2, 1], vec![1.0, 2.0]);
        let k = tensor(&[3, 1, 1], vec![1.0, 1.0, 1.0]);
        let mut options = ConvTranspose1dOptions {
            strides: 2,
            ..Default::default()
        };
        let y = conv_transpose1d(&x, &k, None, &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![1.0, 1.0, 3.0, 2.0, 2.0]);
        // Same: length 2 * 2 = 4, cropping the one extra position at the end.
        options.padding = Padding::Same;
        let y = conv_transpose1d(&x, &k, Some(&tensor(&[1], vec![10.0])), &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![11.0, 11.0, 13.0, 12.0]);
        // output_padding=1, valid: (2 - 1) * 2 + 3 + 1 = 6, the last position only the bias.
        options.padding = Padding::Valid;
        options.output_padding = Some(1);
        let y = conv_transpose1d(&x, &k, Some(&tensor(&[1], vec![10.0])), &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![11.0, 11.0, 13.0, 12.0, 12.0, 10.0]);
        // Same with output_padding=1: (2 - 1) * 2 + 1 + 1 = 4, cropping (3 - 1 - 1) / 2 = 0.
        options.padding = Padding::Same;
        let y = conv_transpose1d(&x, &k, None, &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![1.0, 1.0, 3.0, 2.0]);
        // A kernel of 2, stride 1, "same", output_padding=0 on one step gives nothing: refused.
        let options = ConvTranspose1dOptions {
            padding: Padding::Same,
            output_padding: Some(0),
            ..Default::default()
        };
        let k2 = tensor(&[2, 1, 1], vec![1.0, 1.0]);
        let x1 = tensor(&[1, 1, 1], vec![1.0]);
        let m = conv_transpose1d(&x1, &k2, None, &options)
            .unwrap_err()
            .to_string();
        assert!(m.contains("empty"), "{m}");
    }

    /// The transposed convolution's sizes, from Keras's `deconv_output_length` and TF's
    /// padding.
    fn case(x: &[usize], k: &[usize], options: &ConvTranspose2dOptions) -> Case {
        let axis = |a: usize| {
            let effective = (k[a] - 1) * options.dilation_rate[a] + 1;
            let overlap = effective.saturating_sub(options.strides[a]);
            let Some(extra) = options.output_padding.map(|p| p[a]) else {
                return match options.padding {
                    Padding::Same => (x[a + 1] * options.strides[a], overlap / 2),
                    _ => (x[a + 1] * options.strides[a] + overlap, 0),
                };
            };
            // Keras: `(in - 1) * stride + e - 2 * pad + output_padding`, pad = e // 2 for
            // "same"; TF then pads the convolution's input by the half of what it lacks.
            let full = (x[a + 1] - 1) * options.strides[a] + effective;
            match options.padding {
                Padding::Same => {
                    let length = full - 2 * (effective / 2) + extra;
                    (length, full.saturating_sub(length) / 2)
                }
                _ => (full + extra, 0),
            }
        };
        let ((oh, ph), (ow, pw)) = (axis(0), axis(1));
        Case {
            batch: x[0],
            input: [x[1], x[2]],
            in_channels: x[3],
            out_channels: k[2],
            kernel: [k[0], k[1]],
            strides: options.strides,
            dilation: options.dilation_rate,
            groups: 1,
            pad_before: [ph, pw],
            output: [oh, ow],
        }
    }

    fn every_combination() -> Vec<(ConvTranspose2dOptions, bool)> {
        let mut cases = Vec::new();
        for strides in [1, 2] {
            for padding in [Padding::Valid, Padding::Same] {
                for dilation in [1, 2] {
                    for bias in [false, true] {
                        for output_padding in [None, Some([strides - 1, 2 - strides])] {
                            let options = ConvTranspose2dOptions {
                                strides: [strides, 3 - strides],
                                padding,
                                dilation_rate: [dilation, 1],
                                output_padding,
                            };
                            cases.push((options, bias));
                        }
                    }
                }
            }
        }
        cases
    }

    #[test]
    fn matches_the_direct_scatter_for_every_argument_combination() {
        let x_shape = [2, 4, 3, 3];
        // 5 output channels take the direct loops (a 3x2x5 receptive field), 7 im2col + GEMM.
        for (i, (options, with_bias, c)) in [5, 7]
            .into_iter()
            .flat_map(|c| every_combination().into_iter().map(move |(o, b)| (o, b, c)))
            .enumerate()
        {
            let k_shape = [3, 2, c, 3];
            let (xv, kv, bv) = (
                values(72, i as u64),
                values(18 * c, 20 + i as u64),
                values(c, 3),
            );
            let (x, k, b) = (
                tensor(&x_shape, xv.clone()),
                tensor(&k_shape, kv.clone()),
                tensor(&[c], bv.clone()),
            );
            let y = conv_transpose2d(&x, &k, with_bias.then_some(&b), &options).unwrap();
            let case = case(&x_shape, &k_shape, &options);
            let mut expected = conv_transpose(&case, &xv, &kv);
            if with_bias {
                for (e, b) in expected.iter_mut().zip(bv.iter().cycle()) {
                    *e += b;
                }
            }
            assert_eq!(
                y.shape(),
                &[2, case.output[0], case.output[1], c],
                "{options:?}"
            );
            assert_close(&y.to_f64_vec(), &expected, &format!("{options:?}"));
        }
    }

    #[test]
    fn gradients_match_finite_differences_for_every_argument_combination() {
        // 2 output channels take the direct loops, 6 im2col + GEMM.
        for (i, (options, with_bias, c)) in [2, 6]
            .into_iter()
            .flat_map(|c| every_combination().into_iter().map(move |(o, b)| (o, b, c)))
            .enumerate()
        {
            let x = tensor(&[2, 3, 2, 2], values(24, i as u64));
            let k = tensor(&[2, 3, c, 2], values(12 * c, 40 + i as u64));
            let b = tensor(&[c], values(c, 1));
            if with_bias {
                check_gradients(&[x, k, b], |t| {
                    conv_transpose2d(&t[0], &t[1], Some(&t[2]), &options).unwrap()
                });
            } else {
                check_gradients(&[x, k], |t| {
                    conv_transpose2d(&t[0], &t[1], None, &options).unwrap()
                });
            }
        }
        for padding in [Padding::Valid, Padding::Same] {
            let options = ConvTranspose1dOptions {
                strides: 2,
                padding,
                dilation_rate: 1,
                output_padding: Some(1),
            };
            let x = tensor(&[2, 3, 2], values(12, 1));
            let k = tensor(&[3, 2, 2], values(12, 2));
            check_gradients(&[x, k], |t| {
                conv_transpose1d(&t[0], &t[1], None, &options).unwrap()
            });
        }
    }

    #[test]
    fn is_the_adjoint_of_the_convolution() {
        // <conv(x, k), y> = <x, conv_transpose(y, k)> for the convolution that maps the
        // transposed one's output size back to its input size.
        let k = tensor(&[3, 3, 2, 4], values(72, 1));
        let x = tensor(&[2, 6, 6, 2], values(144, 2));
        let y = tensor(&[2, 3, 3, 4], values(72, 3));
        let conv_options = Conv2dOptions {
            strides: [2, 2],
            padding: Padding::Same,
            ..Default::default()
        };
        let options = ConvTranspose2dOptions {
            strides: [2, 2],
            padding: Padding::Same,
            ..Default::default()
        };
        let lhs: f64 = conv2d(&x, &k, None, &conv_options)
            .unwrap()
            .to_f64_vec()
            .iter()
            .zip(y.to_f64_vec())
            .map(|(a, b)| a * b)
            .sum();
        let t = conv_transpose2d(&y, &k, None, &options).unwrap();
        assert_eq!(t.shape(), x.shape());
        let rhs: f64 = t
            .to_f64_vec()
            .iter()
            .zip(x.to_f64_vec())
            .map(|(a, b)| a * b)
            .sum();
        assert!((lhs - rhs).abs() < 1e-10, "{lhs} vs {rhs}");
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        for dtype in [DType::F32, DType::F64] {
            let run = || {
                let x = tensor(&[16, 8, 8, 16], values(16 * 64 * 16, 1))
                    .astype(dtype)
                    .unwrap()
                    .detach();
                let k = tensor(&[3, 3, 8, 16], values(9 * 128, 2))
                    .astype(dtype)
                    .unwrap()
                    .detach();
                let b = tensor(&[8], values(8, 3)).astype(dtype).unwrap().detach();
                for t in [&x, &k, &b] {
                    t.set_requires_grad(true).unwrap();
                }
                let options = ConvTranspose2dOptions {
                    strides: [2, 2],
                    padding: Padding::Same,
                    ..Default::default()
                };
                let y = conv_transpose2d(&x, &k, Some(&b), &options).unwrap();
                let weights = tensor(y.shape(), values(y.numel(), 4))
                    .astype(dtype)
                    .unwrap()
                    .detach();
                y.mul(&weights)
                    .unwrap()
                    .sum(None, false)
                    .unwrap()
                    .backward(None, false)
                    .unwrap();
                vec![
                    bits(&y),
                    bits(&x.grad().unwrap()),
                    bits(&k.grad().unwrap()),
                    bits(&b.grad().unwrap()),
                ]
            };
            assert_same_bits_on_any_thread_count(&format!("conv_transpose2d {dtype:?}"), run);
        }
    }

    #[test]
    fn bad_arguments_and_empty_batches() {
        let x = tensor(&[1, 3, 3, 2], values(18, 1));
        let m = conv_transpose2d(
            &x,
            &tensor(&[3, 3, 2, 3], values(54, 1)),
            None,
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            m.contains("conv_transpose2d")
                && m.contains("[1, 3, 3, 2]")
                && m.contains("[3, 3, 2, 3]"),
            "{m}"
        );
        let options = ConvTranspose1dOptions {
            padding: Padding::Causal,
            ..Default::default()
        };
        let m = conv_transpose1d(
            &tensor(&[1, 3, 1], values(3, 1)),
            &tensor(&[2, 1, 1], values(2, 1)),
            None,
            &options,
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("causal"), "{m}");
        let empty = tensor(&[0, 3, 3, 2], vec![]);
        let y = conv_transpose2d(
            &empty,
            &tensor(&[2, 2, 4, 2], values(32, 1)),
            None,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(y.shape(), &[0, 4, 4, 4]);
    }
}

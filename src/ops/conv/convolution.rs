//! Convolutions, 1-D and 2-D, channels last, as Keras's `Conv1D` and `Conv2D` compute them:
//!
//! `y[n, o, co] = bias[co] + sum_{k, ci} x[n, o * stride + k * dilation - pad, g * cin_g + ci]
//!                                        * kernel[k, ci, co]`
//!
//! over the kernel taps `k` (per spatial axis) and the `cin_g = C_in / groups` input channels of
//! output channel `co`'s group `g = co / (C_out / groups)`; positions outside the input read 0.
//! Computed as im2col + GEMM (`crate::kernels::im2col`).

use std::mem::MaybeUninit;
use std::sync::Arc;

use super::{
    Padding, add_bias, bias_grad, check_operands, conv_geometry, new_storage,
    new_storage_in_chunks, output_shape, values,
};
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::im2col::{
    ConvGeometry, ConvGrads, conv_backward, conv_forward, conv_input_grad, conv_kernel_grad,
    fuses_backward,
};
use crate::ops::activation::Activation;
use crate::ops::unary::{UnaryFn, grad_from_output, grad_from_output_into, unary_in_place};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The arguments of `conv2d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// `(height, width)` steps between output positions.
    pub strides: [usize; 2],
    pub padding: Padding,
    /// `(height, width)` steps between kernel taps.
    pub dilation_rate: [usize; 2],
    /// Channel groups: each output channel sees `C_in / groups` input channels.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            strides: [1, 1],
            padding: Padding::Valid,
            dilation_rate: [1, 1],
            groups: 1,
        }
    }
}

/// The arguments of `conv1d` other than the operands, with Keras's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv1dOptions {
    pub strides: usize,
    /// `Valid`, `Same` or `Causal`.
    pub padding: Padding,
    pub dilation_rate: usize,
    pub groups: usize,
}

impl Default for Conv1dOptions {
    fn default() -> Self {
        Conv1dOptions {
            strides: 1,
            padding: Padding::Valid,
            dilation_rate: 1,
            groups: 1,
        }
    }
}

/// 2-D convolution (Keras `Conv2D`, channels last).
///
/// Args:
/// - `input`: `(N, H, W, C_in)`.
/// - `kernel`: `(kh, kw, C_in / groups, C_out)`.
/// - `bias`: `(C_out,)` or `None`.
/// - `options`: strides, padding (`Valid` or `Same`), dilation and groups.
///
/// Returns `(N, H_out, W_out, C_out)` with the sizes of the module documentation.
///
/// ```
/// use ferrograd::ops::conv::{Conv2dOptions, conv2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 3, 3, 1], 1.0, DType::F32).unwrap();
/// let k = Tensor::full(&[2, 2, 1, 1], 1.0, DType::F32).unwrap();
/// let y = conv2d(&x, &k, None, &Conv2dOptions::default()).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 2, 1]);
/// assert_eq!(y.to_f64_vec(), vec![4.0; 4]);
/// ```
pub fn conv2d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &Conv2dOptions,
) -> Result<Tensor> {
    conv2d_activated(input, kernel, bias, options, Activation::Linear)
}

/// `activation(conv2d(input, kernel, bias, options))`, as Keras's `Conv2D` computes it: one op
/// for relu, sigmoid, tanh, elu and exponential (applied to the output as it is computed, their
/// derivatives taken from the output), the conv op followed by the activation's own op
/// otherwise.
///
/// Args:
/// - `input`, `kernel`, `bias`, `options`: as [`conv2d`].
/// - `activation`: the layer's activation.
///
/// ```
/// use ferrograd::ops::activation::Activation;
/// use ferrograd::ops::conv::{Conv2dOptions, conv2d_activated};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 3, 3, 1], -1.0, DType::F32).unwrap();
/// let k = Tensor::full(&[2, 2, 1, 1], 1.0, DType::F32).unwrap();
/// let relu = Activation::parse("relu").unwrap();
/// let y = conv2d_activated(&x, &k, None, &Conv2dOptions::default(), relu).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![0.0; 4]);
/// ```
pub fn conv2d_activated(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &Conv2dOptions,
    activation: Activation,
) -> Result<Tensor> {
    let geo = conv_geometry(
        "conv2d",
        input.shape(),
        kernel.shape(),
        &options.strides,
        &options.dilation_rate,
        options.padding,
        options.groups,
    )?;
    convolve_then("conv2d", input, kernel, bias, activation, geo, 2)
}

/// 1-D convolution (Keras `Conv1D`, channels last).
///
/// Args:
/// - `input`: `(N, L, C_in)`.
/// - `kernel`: `(k, C_in / groups, C_out)`.
/// - `bias`: `(C_out,)` or `None`.
/// - `options`: stride, padding (`Valid`, `Same` or `Causal`), dilation and groups.
///
/// Returns `(N, L_out, C_out)`.
///
/// ```
/// use ferrograd::ops::conv::{Conv1dOptions, Padding, conv1d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 4, 1], 1.0, DType::F64).unwrap();
/// let k = Tensor::full(&[2, 1, 1], 1.0, DType::F64).unwrap();
/// let options = Conv1dOptions { padding: Padding::Causal, ..Default::default() };
/// let y = conv1d(&x, &k, None, &options).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![1.0, 2.0, 2.0, 2.0]);
/// ```
pub fn conv1d(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &Conv1dOptions,
) -> Result<Tensor> {
    conv1d_activated(input, kernel, bias, options, Activation::Linear)
}

/// `activation(conv1d(input, kernel, bias, options))`, fused as [`conv2d_activated`] is.
///
/// Args:
/// - `input`, `kernel`, `bias`, `options`: as [`conv1d`].
/// - `activation`: the layer's activation.
///
/// ```
/// use ferrograd::ops::activation::Activation;
/// use ferrograd::ops::conv::{Conv1dOptions, conv1d_activated};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::dtype::DType;
/// let x = Tensor::full(&[1, 4, 1], 1.0, DType::F64).unwrap();
/// let k = Tensor::full(&[2, 1, 1], -1.0, DType::F64).unwrap();
/// let tanh = Activation::parse("tanh").unwrap();
/// let y = conv1d_activated(&x, &k, None, &Conv1dOptions::default(), tanh).unwrap();
/// assert!((y.to_f64_vec()[0] - (-2.0f64).tanh()).abs() < 1e-15);
/// ```
pub fn conv1d_activated(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    options: &Conv1dOptions,
    activation: Activation,
) -> Result<Tensor> {
    let geo = conv_geometry(
        "conv1d",
        input.shape(),
        kernel.shape(),
        &[options.strides],
        &[options.dilation_rate],
        options.padding,
        options.groups,
    )?;
    convolve_then("conv1d", input, kernel, bias, activation, geo, 1)
}

/// The convolution then `activation`: fused where `fusable_activation` allows.
fn convolve_then(
    op: &'static str,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
    geo: ConvGeometry,
    rank: usize,
) -> Result<Tensor> {
    match fusable_activation(activation) {
        Some(f) => convolve_activated(op, input, kernel, bias, Some(f), geo, rank),
        None => activation.apply(&convolve(op, input, kernel, bias, geo, rank)?),
    }
}

/// The convolution of a checked geometry (also the depthwise ops', whose kernels have this
/// memory layout), recording its backward rule.
pub(super) fn convolve(
    op: &'static str,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    geo: ConvGeometry,
    rank: usize,
) -> Result<Tensor> {
    convolve_activated(op, input, kernel, bias, None, geo, rank)
}

/// `activation(convolve(...))` as one op, for an elementwise `activation` whose derivative
/// follows from its output (`fusable_activation`): the bias and the activation are applied to
/// each block of the output as the GEMM leaves it, and the backward pass takes the activation's
/// derivative from the output, so neither a second output tensor nor the pre-activation values
/// are kept.
pub(super) fn convolve_activated(
    op: &'static str,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Option<UnaryFn>,
    geo: ConvGeometry,
    rank: usize,
) -> Result<Tensor> {
    check_operands(op, input, kernel, bias, geo.out_channels)?;
    if let Some(f) = activation
        && f.derivative_needs_input()
    {
        return Err(Error::Autograd(format!(
            "internal error in {op}: {} cannot be fused (its derivative needs its input)",
            f.name()
        )));
    }
    let shape = output_shape(&geo, rank);
    let (x, k) = (input.data(), kernel.data());
    let b = bias.map(Tensor::data);
    let out = match input.dtype() {
        DType::F32 => forward::<f32>(&geo, &shape, &x, &k, b.as_deref(), activation)?,
        DType::F64 => forward::<f64>(&geo, &shape, &x, &k, b.as_deref(), activation)?,
    };
    let inputs: Vec<&Tensor> = [Some(input), Some(kernel), bias]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(out, &inputs, |output| ConvBackward {
        op,
        geo,
        input: x,
        kernel: k,
        has_bias: bias.is_some(),
        activation: activation.map(|f| (f, output.clone())),
    }))
}

/// The function of `activation` when it can be fused into a convolution
/// (`convolve_activated`): the elementwise activations whose derivative follows from their
/// output (relu, sigmoid, tanh, elu, exponential); `None` otherwise.
///
/// Args:
/// - `activation`: a layer's activation.
///
/// ```
/// use ferrograd::ops::activation::Activation;
/// use ferrograd::ops::conv::fusable_activation;
/// assert!(fusable_activation(Activation::parse("relu").unwrap()).is_some());
/// assert!(fusable_activation(Activation::parse("gelu").unwrap()).is_none());
/// ```
pub fn fusable_activation(activation: Activation) -> Option<UnaryFn> {
    match activation {
        Activation::Elementwise(f) if !f.derivative_needs_input() => Some(f),
        _ => None,
    }
}

fn forward<T: Element>(
    geo: &ConvGeometry,
    shape: &[usize],
    x: &Storage,
    kernel: &Storage,
    bias: Option<&Storage>,
    activation: Option<UnaryFn>,
) -> Result<Storage> {
    let bias = bias.map(values::<T>).transpose()?;
    new_storage_in_chunks::<T>(shape, |out| {
        conv_forward(geo, values::<T>(x)?, values::<T>(kernel)?, out, |rows| {
            if let Some(b) = bias {
                add_bias(rows, b);
            }
            if let Some(f) = activation {
                unary_in_place(rows, f);
            }
        })
    })
}

struct ConvBackward {
    op: &'static str,
    geo: ConvGeometry,
    input: Arc<Storage>,
    kernel: Arc<Storage>,
    has_bias: bool,
    /// The fused activation and the op's output, from which its derivative is computed.
    activation: Option<(UnaryFn, Arc<Storage>)>,
}

impl Backward for ConvBackward {
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

impl ConvBackward {
    fn backward_typed<T: Element>(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let dy = values::<T>(grad)?;
        let output = match &self.activation {
            Some((f, output)) => Some((*f, values::<T>(output)?)),
            None => None,
        };
        if fuses_backward::<T>(&self.geo) {
            return self.backward_in_one_pass(dy, output, grads);
        }
        // The gradient at the pre-activation values, whole.
        let pre_activation_grad;
        let dz = match output {
            Some((f, y)) => {
                pre_activation_grad = grad_from_output(f, dy, y);
                &pre_activation_grad
            }
            None => dy,
        };
        if grads.wants(0) {
            let dx = new_storage_in_chunks::<T>(self.input.shape(), |dx| {
                conv_input_grad(&self.geo, dz, values::<T>(&self.kernel)?, dx, |_| {})
            })?;
            grads.add(0, dx)?;
        }
        if grads.wants(1) {
            let dk = new_storage::<T>(self.kernel.shape(), |dk| {
                conv_kernel_grad(&self.geo, values::<T>(&self.input)?, dz, dk)
            })?;
            grads.add(1, dk)?;
        }
        if self.has_bias && grads.wants(2) {
            grads.add(2, bias_grad(dz, self.geo.out_channels)?)?;
        }
        Ok(())
    }

    /// The three gradients in one pass (`conv_backward`), the activation's derivative applied
    /// block by block.
    fn backward_in_one_pass<T: Element>(
        &self,
        dy: &[T],
        output: Option<(UnaryFn, &[T])>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        if let Some((_, y)) = output
            && y.len() != dy.len()
        {
            return Err(Error::Autograd(format!(
                "internal error in {}: an output gradient of {} values for {} outputs",
                self.op,
                dy.len(),
                y.len()
            )));
        }
        let pre_activation = |offset: usize, dz: &mut [T]| {
            let dy = &dy[offset..offset + dz.len()];
            match output {
                Some((f, y)) => grad_from_output_into(f, dy, &y[offset..offset + dz.len()], dz),
                None => dz.copy_from_slice(dy),
            }
        };
        let mut dk = crate::storage::try_zeros::<T>(self.kernel.shape())?;
        let mut db = (self.has_bias && grads.wants(2))
            .then(|| crate::storage::try_zeros::<T>(&[self.geo.out_channels]))
            .transpose()?;
        let (x, kernel) = (values::<T>(&self.input)?, values::<T>(&self.kernel)?);
        let mut run = |dx: Option<&mut [MaybeUninit<T>]>| {
            let grads = ConvGrads {
                input: dx,
                kernel: contiguous_mut(&mut dk)?,
                bias: db.as_mut().map(contiguous_mut).transpose()?,
            };
            conv_backward(&self.geo, x, kernel, pre_activation, grads)
        };
        // `conv_backward` initialises every value of the input gradient it is given.
        let dx = if grads.wants(0) {
            Some(new_storage_in_chunks::<T>(self.input.shape(), |dx| {
                run(Some(dx))
            })?)
        } else {
            run(None)?;
            None
        };
        if let Some(dx) = dx {
            grads.add(0, dx)?;
        }
        grads.add(1, T::into_storage(dk))?;
        if let Some(db) = db {
            grads.add(2, T::into_storage(db))?;
        }
        Ok(())
    }
}

/// The values of a new (so contiguous) array.
fn contiguous_mut<T: Element>(array: &mut ndarray::ArrayD<T>) -> Result<&mut [T]> {
    array
        .as_slice_mut()
        .ok_or_else(|| Error::Autograd("internal error: a new array is not contiguous".into()))
}

impl Tensor {
    /// `conv2d(self, kernel, bias, options)`; see [`conv2d`].
    pub fn conv2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &Conv2dOptions,
    ) -> Result<Tensor> {
        conv2d(self, kernel, bias, options)
    }

    /// `conv1d(self, kernel, bias, options)`; see [`conv1d`].
    pub fn conv1d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: &Conv1dOptions,
    ) -> Result<Tensor> {
        conv1d(self, kernel, bias, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::reference::{
        Case, assert_close, assert_same_bits_on_any_thread_count, bits, conv, tensor, tf_axis,
        values,
    };
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_2d_valid_and_same() {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], k = [[1, 0], [0, -1]]: y = x[i, j] - x[i+1, j+1].
        let x = tensor(&[1, 3, 3, 1], (1..=9).map(f64::from).collect());
        let k = tensor(&[2, 2, 1, 1], vec![1.0, 0.0, 0.0, -1.0]);
        let y = conv2d(&x, &k, None, &Conv2dOptions::default()).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2, 1]);
        assert_eq!(y.to_f64_vec(), vec![-4.0; 4]);
        // Same: one row and column of zeros after the input (the extra on the bottom/right).
        let same = Conv2dOptions {
            padding: Padding::Same,
            ..Default::default()
        };
        let y = conv2d(&x, &k, None, &same).unwrap();
        assert_eq!(
            y.to_f64_vec(),
            vec![-4.0, -4.0, 3.0, -4.0, -4.0, 6.0, 7.0, 8.0, 9.0]
        );
        // Same with stride 2 on 4 columns: out 2, padding total max(1*2 + 3 - 4, 0) = 1, all
        // of it after: windows start at 0 and 2.
        let x = tensor(&[1, 1, 4, 1], vec![1.0, 2.0, 3.0, 4.0]);
        let k = tensor(&[1, 3, 1, 1], vec![1.0, 10.0, 100.0]);
        let options = Conv2dOptions {
            strides: [1, 2],
            padding: Padding::Same,
            ..Default::default()
        };
        let y = conv2d(&x, &k, Some(&tensor(&[1], vec![0.5])), &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![321.5, 43.5]);
    }

    #[test]
    fn literal_1d_causal_dilated_and_grouped() {
        // Causal, dilation 2: y[t] = k0 * x[t - 2] + k1 * x[t].
        let x = tensor(&[1, 4, 1], vec![1.0, 2.0, 3.0, 4.0]);
        let k = tensor(&[2, 1, 1], vec![10.0, 1.0]);
        let options = Conv1dOptions {
            padding: Padding::Causal,
            dilation_rate: 2,
            ..Default::default()
        };
        let y = conv1d(&x, &k, None, &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![1.0, 2.0, 13.0, 24.0]);
        // Two groups of one channel each: channel 0 times 2, channel 1 times 3.
        let x = tensor(&[1, 2, 2], vec![1.0, 5.0, 2.0, 6.0]);
        let k = tensor(&[1, 1, 2], vec![2.0, 3.0]);
        let options = Conv1dOptions {
            groups: 2,
            ..Default::default()
        };
        let y = conv1d(&x, &k, None, &options).unwrap();
        assert_eq!(y.to_f64_vec(), vec![2.0, 15.0, 4.0, 18.0]);
    }

    /// Every combination of strides, padding, dilation, groups and bias, in 2-D.
    fn cases_2d(
        input: [usize; 2],
        channels: usize,
        kernel: [usize; 2],
    ) -> Vec<(Conv2dOptions, bool)> {
        let mut cases = Vec::new();
        for strides in [1, 2] {
            for padding in [Padding::Valid, Padding::Same] {
                for dilation in [1, 2] {
                    for groups in [1, 2] {
                        for bias in [false, true] {
                            let fits = (0..2).all(|a| input[a] > (kernel[a] - 1) * dilation);
                            if fits && channels.is_multiple_of(groups) {
                                let options = Conv2dOptions {
                                    strides: [strides, if strides == 2 { 1 } else { 2 }],
                                    padding,
                                    dilation_rate: [dilation, 1],
                                    groups,
                                };
                                cases.push((options, bias));
                            }
                        }
                    }
                }
            }
        }
        cases
    }

    fn case_2d(x: &[usize], k: &[usize], options: &Conv2dOptions) -> Case {
        let axis = |a: usize| {
            tf_axis(
                x[a + 1],
                k[a],
                options.strides[a],
                options.dilation_rate[a],
                options.padding,
            )
        };
        let ((oh, ph), (ow, pw)) = (axis(0), axis(1));
        Case {
            batch: x[0],
            input: [x[1], x[2]],
            in_channels: x[3],
            out_channels: k[3],
            kernel: [k[0], k[1]],
            strides: options.strides,
            dilation: options.dilation_rate,
            groups: options.groups,
            pad_before: [ph, pw],
            output: [oh, ow],
        }
    }

    #[test]
    fn conv2d_matches_the_direct_convolution_for_every_argument_combination() {
        // 4 channels take the direct loops (a 3x2x4 receptive field), 12 im2col + GEMM.
        for (i, (options, with_bias, c)) in [4, 12]
            .into_iter()
            .flat_map(|c| {
                cases_2d([7, 6], c, [3, 2])
                    .into_iter()
                    .map(move |(o, b)| (o, b, c))
            })
            .enumerate()
        {
            let x_shape = [2, 7, 6, c];
            let k_shape = [3, 2, c / options.groups, 6];
            let (xv, kv, bv) = (
                values(2 * 7 * 6 * c, i as u64),
                values(k_shape.iter().product(), 50 + i as u64),
                values(6, 99),
            );
            let (x, k, b) = (
                tensor(&x_shape, xv.clone()),
                tensor(&k_shape, kv.clone()),
                tensor(&[6], bv.clone()),
            );
            let y = conv2d(&x, &k, with_bias.then_some(&b), &options).unwrap();
            let case = case_2d(&x_shape, &k_shape, &options);
            let mut expected = conv(&case, &xv, &kv);
            if with_bias {
                for (e, b) in expected.iter_mut().zip(bv.iter().cycle()) {
                    *e += b;
                }
            }
            assert_eq!(
                y.shape(),
                &[2, case.output[0], case.output[1], 6],
                "{options:?}"
            );
            assert_close(
                &y.to_f64_vec(),
                &expected,
                &format!("{options:?} bias {with_bias}"),
            );
            // float32 agrees to its precision.
            let y32 = conv2d(
                &x.astype(DType::F32).unwrap(),
                &k.astype(DType::F32).unwrap(),
                with_bias.then(|| b.astype(DType::F32).unwrap()).as_ref(),
                &options,
            )
            .unwrap();
            for (a, e) in y32.to_f64_vec().iter().zip(&expected) {
                assert!((a - e).abs() < 1e-5, "{options:?} float32: {a} vs {e}");
            }
        }
    }

    #[test]
    fn conv1d_matches_the_direct_convolution_for_every_argument_combination() {
        for strides in [1, 2] {
            for padding in [Padding::Valid, Padding::Same, Padding::Causal] {
                for dilation in [1, 2] {
                    for groups in [1, 2] {
                        let options = Conv1dOptions {
                            strides,
                            padding,
                            dilation_rate: dilation,
                            groups,
                        };
                        // 4 channels: direct loops; 12: im2col + GEMM.
                        for c in [4, 12] {
                            let (xv, kv) = (values(2 * 9 * c, 3), values(3 * (c / groups) * 2, 4));
                            let x = tensor(&[2, 9, c], xv.clone());
                            let k = tensor(&[3, c / groups, 2], kv.clone());
                            let y = conv1d(&x, &k, None, &options).unwrap();
                            let (out, pad) = tf_axis(9, 3, strides, dilation, padding);
                            let case = Case {
                                batch: 2,
                                input: [1, 9],
                                in_channels: c,
                                out_channels: 2,
                                kernel: [1, 3],
                                strides: [1, strides],
                                dilation: [1, dilation],
                                groups,
                                pad_before: [0, pad],
                                output: [1, out],
                            };
                            assert_eq!(y.shape(), &[2, out, 2]);
                            assert_close(
                                &y.to_f64_vec(),
                                &conv(&case, &xv, &kv),
                                &format!("{options:?}"),
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn conv2d_gradients_match_finite_differences_for_every_argument_combination() {
        // 2 channels take the direct loops, 10 im2col + GEMM.
        for (i, (options, with_bias, c)) in [2, 10]
            .into_iter()
            .flat_map(|c| {
                cases_2d([5, 4], c, [2, 2])
                    .into_iter()
                    .map(move |(o, b)| (o, b, c))
            })
            .enumerate()
        {
            let x_shape = [2, 5, 4, c];
            let k_shape = [2, 2, c / options.groups, 4];
            let x = tensor(&x_shape, values(2 * 5 * 4 * c, i as u64));
            let k = tensor(&k_shape, values(k_shape.iter().product(), 70 + i as u64));
            let b = tensor(&[4], values(4, 7));
            if with_bias {
                check_gradients(&[x, k, b], |t| {
                    conv2d(&t[0], &t[1], Some(&t[2]), &options).unwrap()
                });
            } else {
                check_gradients(&[x, k], |t| conv2d(&t[0], &t[1], None, &options).unwrap());
            }
        }
    }

    #[test]
    fn conv1d_gradients_match_finite_differences_for_every_argument_combination() {
        for strides in [1, 2] {
            for padding in [Padding::Valid, Padding::Same, Padding::Causal] {
                for dilation in [1, 2] {
                    for groups in [1, 2] {
                        for with_bias in [false, true] {
                            let options = Conv1dOptions {
                                strides,
                                padding,
                                dilation_rate: dilation,
                                groups,
                            };
                            // 2 channels: direct loops; 12: im2col + GEMM.
                            for c in [2, 12] {
                                let x = tensor(&[2, 7, c], values(14 * c, 5));
                                let k = tensor(&[3, c / groups, 2], values(6 * c / groups, 6));
                                let b = tensor(&[2], values(2, 8));
                                if with_bias {
                                    check_gradients(&[x, k, b], |t| {
                                        conv1d(&t[0], &t[1], Some(&t[2]), &options).unwrap()
                                    });
                                } else {
                                    check_gradients(&[x, k], |t| {
                                        conv1d(&t[0], &t[1], None, &options).unwrap()
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn pointwise_convolution_takes_the_direct_gemm_path_and_agrees() {
        let (xv, kv) = (values(3 * 4 * 5 * 6, 1), values(6 * 7, 2));
        let x = tensor(&[3, 4, 5, 6], xv.clone());
        let k = tensor(&[1, 1, 6, 7], kv.clone());
        let y = conv2d(&x, &k, None, &Conv2dOptions::default()).unwrap();
        let case = case_2d(&[3, 4, 5, 6], &[1, 1, 6, 7], &Conv2dOptions::default());
        assert_close(&y.to_f64_vec(), &conv(&case, &xv, &kv), "1x1");
        check_gradients(
            &[
                tensor(&[2, 2, 3, 3], values(36, 3)),
                tensor(&[1, 1, 3, 2], values(6, 4)),
            ],
            |t| conv2d(&t[0], &t[1], None, &Conv2dOptions::default()).unwrap(),
        );
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        for dtype in [DType::F32, DType::F64] {
            for (groups, strides, padding) in [
                (1, 1, Padding::Same),
                (2, 2, Padding::Valid),
                (1, 1, Padding::Valid),
            ] {
                let run = || {
                    let x = tensor(&[16, 12, 12, 8], values(16 * 144 * 8, 1))
                        .astype(dtype)
                        .unwrap()
                        .detach();
                    let k = tensor(&[3, 3, 8 / groups, 16], values(9 * 8 / groups * 16, 2))
                        .astype(dtype)
                        .unwrap()
                        .detach();
                    let b = tensor(&[16], values(16, 3)).astype(dtype).unwrap().detach();
                    for t in [&x, &k, &b] {
                        t.set_requires_grad(true).unwrap();
                    }
                    let options = Conv2dOptions {
                        strides: [strides, strides],
                        padding,
                        groups,
                        ..Default::default()
                    };
                    let y = conv2d(&x, &k, Some(&b), &options).unwrap();
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
                assert_same_bits_on_any_thread_count(
                    &format!("conv2d {dtype:?} groups {groups}"),
                    run,
                );
            }
        }
    }

    /// The forward values and the three gradients of `f(x, k, b)` under a fixed weighting.
    fn values_and_gradients(
        x: &Tensor,
        k: &Tensor,
        b: &Tensor,
        f: impl Fn(&Tensor, &Tensor, &Tensor) -> Tensor,
    ) -> Vec<Vec<f64>> {
        let (x, k, b) = (x.detach(), k.detach(), b.detach());
        for t in [&x, &k, &b] {
            t.set_requires_grad(true).unwrap();
        }
        let y = f(&x, &k, &b);
        let weights = tensor(y.shape(), values(y.numel(), 9))
            .astype(y.dtype())
            .unwrap()
            .detach();
        y.mul(&weights)
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        [y, x.grad().unwrap(), k.grad().unwrap(), b.grad().unwrap()]
            .iter()
            .map(Tensor::to_f64_vec)
            .collect()
    }

    #[test]
    fn a_fused_activation_equals_the_convolution_then_the_activation() {
        // 10 channels with a 3x3 kernel take the one-pass backward; 2 groups, and 2 channels
        // with a 2x2 kernel (the direct loops), take the separate one.
        for (channels, kernel, groups) in [(10, [3, 3], 1), (10, [3, 3], 2), (2, [2, 2], 1)] {
            for name in [
                "relu",
                "sigmoid",
                "tanh",
                "elu",
                "exponential",
                "softmax",
                "gelu",
            ] {
                let activation = Activation::parse(name).unwrap();
                let options = Conv2dOptions {
                    groups,
                    padding: Padding::Same,
                    ..Default::default()
                };
                let x = tensor(&[3, 6, 5, channels], values(90 * channels, 1));
                let k_len = kernel[0] * kernel[1] * channels / groups * 4;
                let k = tensor(
                    &[kernel[0], kernel[1], channels / groups, 4],
                    values(k_len, 2).iter().map(|v| 0.3 * v).collect(),
                );
                let b = tensor(&[4], values(4, 3));
                let fused = values_and_gradients(&x, &k, &b, |x, k, b| {
                    conv2d_activated(x, k, Some(b), &options, activation).unwrap()
                });
                let separate = values_and_gradients(&x, &k, &b, |x, k, b| {
                    let z = conv2d(x, k, Some(b), &options).unwrap();
                    activation.apply(&z).unwrap()
                });
                for (what, (f, s)) in ["output", "dx", "dkernel", "dbias"]
                    .iter()
                    .zip(fused.iter().zip(&separate))
                {
                    assert_close(f, s, &format!("{name} {channels} channels {what}"));
                }
            }
        }
    }

    #[test]
    fn fused_activation_gradients_match_finite_differences() {
        for name in ["sigmoid", "tanh", "elu"] {
            let activation = Activation::parse(name).unwrap();
            for (channels, groups) in [(10, 1), (10, 2), (2, 1)] {
                let x = tensor(&[2, 5, 4, channels], values(40 * channels, 4));
                let k = tensor(
                    &[2, 2, channels / groups, 4],
                    values(16 * channels / groups, 5),
                );
                let b = tensor(&[4], values(4, 6));
                let options = Conv2dOptions {
                    groups,
                    ..Default::default()
                };
                check_gradients(&[x, k, b], |t| {
                    conv2d_activated(&t[0], &t[1], Some(&t[2]), &options, activation).unwrap()
                });
            }
        }
        let x = tensor(&[2, 7, 6], values(84, 7));
        let k = tensor(&[3, 6, 2], values(36, 8));
        let b = tensor(&[2], values(2, 9));
        let options = Conv1dOptions {
            padding: Padding::Causal,
            ..Default::default()
        };
        let tanh = Activation::parse("tanh").unwrap();
        check_gradients(&[x, k, b], |t| {
            conv1d_activated(&t[0], &t[1], Some(&t[2]), &options, tanh).unwrap()
        });
    }

    #[test]
    fn a_fused_activation_gives_the_same_bits_on_any_thread_count() {
        let relu = Activation::parse("relu").unwrap();
        for dtype in [DType::F32, DType::F64] {
            let run = || {
                let as_dtype = |t: Tensor| t.astype(dtype).unwrap();
                let x = as_dtype(tensor(&[16, 12, 12, 8], values(16 * 144 * 8, 1)));
                let k = as_dtype(tensor(&[3, 3, 8, 16], values(9 * 8 * 16, 2)));
                let b = as_dtype(tensor(&[16], values(16, 3)));
                values_and_gradients(&x, &k, &b, |x, k, b| {
                    conv2d_activated(x, k, Some(b), &Conv2dOptions::default(), relu).unwrap()
                })
                .iter()
                .map(|v| v.iter().map(|v| v.to_bits()).collect())
                .collect()
            };
            assert_same_bits_on_any_thread_count(&format!("fused conv2d {dtype:?}"), run);
        }
    }

    #[test]
    fn an_empty_batch_gives_an_empty_output_and_gradient() {
        let x = tensor(&[0, 5, 5, 2], vec![]);
        let k = tensor(&[3, 3, 2, 4], values(72, 1));
        let y = conv2d(&x, &k, None, &Conv2dOptions::default()).unwrap();
        assert_eq!(y.shape(), &[0, 3, 3, 4]);
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().shape(), &[0, 5, 5, 2]);
        assert_eq!(k.grad().unwrap().to_f64_vec(), vec![0.0; 72]);
    }

    #[test]
    fn bad_arguments_are_errors_that_name_the_op_and_the_shapes() {
        let x = tensor(&[1, 4, 4, 4], values(64, 1));
        let message = |k: &[usize], options: Conv2dOptions| {
            let k = tensor(k, values(k.iter().product(), 2));
            conv2d(&x, &k, None, &options).unwrap_err().to_string()
        };
        let m = message(&[5, 1, 4, 2], Conv2dOptions::default());
        assert!(
            m.contains("conv2d") && m.contains("kernel height 5") && m.contains("input height 4"),
            "{m}"
        );
        let m = message(
            &[3, 3, 4, 2],
            Conv2dOptions {
                dilation_rate: [2, 1],
                ..Default::default()
            },
        );
        assert!(m.contains("dilated to 5"), "{m}");
        let m = message(&[3, 3, 3, 2], Conv2dOptions::default());
        assert!(
            m.contains("[1, 4, 4, 4]") && m.contains("[3, 3, 3, 2]"),
            "{m}"
        );
        let m = message(
            &[3, 3, 1, 2],
            Conv2dOptions {
                groups: 3,
                ..Default::default()
            },
        );
        assert!(m.contains("groups (3) must divide"), "{m}");
        let m = message(
            &[3, 3, 4, 2],
            Conv2dOptions {
                strides: [0, 1],
                ..Default::default()
            },
        );
        assert!(m.contains("strides must be positive"), "{m}");
        let m = message(
            &[3, 3, 4, 2],
            Conv2dOptions {
                padding: Padding::Causal,
                ..Default::default()
            },
        );
        assert!(m.contains("causal"), "{m}");
        let m = message(&[3, 4, 2], Conv2dOptions::default());
        assert!(m.contains("kernel must be"), "{m}");
        let m = conv2d(
            &tensor(&[4, 4, 4], values(64, 1)),
            &x,
            None,
            &Conv2dOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            m.contains("(batch, height, width, channels)") && m.contains("[4, 4, 4]"),
            "{m}"
        );
        let m = conv2d(
            &tensor(&[1, 0, 4, 4], vec![]),
            &x,
            None,
            &Conv2dOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("non-empty"), "{m}");
        let k = tensor(&[3, 3, 4, 2], values(72, 2));
        let m = conv2d(
            &x,
            &k,
            Some(&tensor(&[3], values(3, 1))),
            &Conv2dOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("bias"), "{m}");
        let m = conv2d(
            &x,
            &k.astype(DType::F32).unwrap(),
            None,
            &Conv2dOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("float32"), "{m}");
        let m = conv1d(
            &tensor(&[1, 2, 1], vec![1.0, 2.0]),
            &tensor(&[3, 1, 1], vec![1.0; 3]),
            None,
            &Conv1dOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("conv1d") && m.contains("kernel length 3"), "{m}");
    }
}

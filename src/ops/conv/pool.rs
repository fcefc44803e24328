//! Max and average pooling, 1-D and 2-D, channels last, as Keras's `MaxPooling1D/2D` and
//! `AveragePooling1D/2D` compute them:
//!
//! `max:  y[n, o, c] = max_{k in window(o)} x[n, o * stride + k - pad, c]`
//! `avg:  y[n, o, c] = mean_{k in window(o), inside the input} x[n, o * stride + k - pad, c]`
//!
//! With `"same"` padding the padded positions take no part: a max ignores them and an average
//! divides by the count of input positions in the window, as TensorFlow does.
//!
//! The gradient of a max pooling goes to exactly one input per window: the first maximum in
//! row-major window order, found again in the backward pass from the kept input and output
//! (no index per output is stored). A window holding NaN outputs
//! NaN (its first NaN is the one the gradient goes to): a max that skipped NaN would hide a
//! diverging model.

use super::{
    Padding, axis_name, check_input, check_positive, lift, new_storage_in_chunks, spatial_output,
    values,
};
use std::ops::Range;
use std::sync::Arc;

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::im2col::{ConvGeometry, for_each_sample_chunk_zeroed, source};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The arguments of a 2-D pooling, with Keras's defaults (`strides` = `pool_size`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool2dOptions {
    pub pool_size: [usize; 2],
    /// `None` steps by the pool size.
    pub strides: Option<[usize; 2]>,
    /// `Valid` or `Same`.
    pub padding: Padding,
}

impl Pool2dOptions {
    /// Non-overlapping windows of `pool_size`, valid padding.
    pub fn new(pool_size: [usize; 2]) -> Self {
        Pool2dOptions {
            pool_size,
            strides: None,
            padding: Padding::Valid,
        }
    }
}

/// The arguments of a 1-D pooling, with Keras's defaults (`strides` = `pool_size`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool1dOptions {
    pub pool_size: usize,
    pub strides: Option<usize>,
    /// `Valid` or `Same`.
    pub padding: Padding,
}

impl Pool1dOptions {
    /// Non-overlapping windows of `pool_size`, valid padding.
    pub fn new(pool_size: usize) -> Self {
        Pool1dOptions {
            pool_size,
            strides: None,
            padding: Padding::Valid,
        }
    }
}

/// Which statistic of a window a pooling takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PoolKind {
    Max,
    Average,
}

/// 2-D max pooling (Keras `MaxPooling2D`, channels last).
///
/// Args:
/// - `input`: `(N, H, W, C)`.
/// - `options`: pool size, strides (default: the pool size) and padding.
///
/// Returns `(N, H_out, W_out, C)`.
///
/// ```
/// use ferrograd::ops::conv::{Pool2dOptions, max_pool2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F32, &[1, 2, 2, 1], vec![1.0, 4.0, 3.0, 2.0]).unwrap();
/// let y = max_pool2d(&Tensor::new(x, false), &Pool2dOptions::new([2, 2])).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![4.0]);
/// ```
pub fn max_pool2d(input: &Tensor, options: &Pool2dOptions) -> Result<Tensor> {
    pool2d("max_pool2d", PoolKind::Max, input, options)
}

/// 2-D average pooling (Keras `AveragePooling2D`, channels last); with `"same"` padding each
/// window averages the input positions it covers.
///
/// Args:
/// - `input`: `(N, H, W, C)`.
/// - `options`: pool size, strides (default: the pool size) and padding.
///
/// Returns `(N, H_out, W_out, C)`.
///
/// ```
/// use ferrograd::ops::conv::{Pool2dOptions, avg_pool2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F32, &[1, 2, 2, 1], vec![1.0, 4.0, 3.0, 2.0]).unwrap();
/// let y = avg_pool2d(&Tensor::new(x, false), &Pool2dOptions::new([2, 2])).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![2.5]);
/// ```
pub fn avg_pool2d(input: &Tensor, options: &Pool2dOptions) -> Result<Tensor> {
    pool2d("avg_pool2d", PoolKind::Average, input, options)
}

/// 1-D max pooling (Keras `MaxPooling1D`, channels last).
///
/// Args:
/// - `input`: `(N, L, C)`.
/// - `options`: pool size, stride (default: the pool size) and padding.
///
/// Returns `(N, L_out, C)`.
///
/// ```
/// use ferrograd::ops::conv::{Pool1dOptions, max_pool1d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F64, &[1, 4, 1], vec![1.0, 4.0, 3.0, 2.0]).unwrap();
/// let y = max_pool1d(&Tensor::new(x, false), &Pool1dOptions::new(2)).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![4.0, 3.0]);
/// ```
pub fn max_pool1d(input: &Tensor, options: &Pool1dOptions) -> Result<Tensor> {
    pool1d("max_pool1d", PoolKind::Max, input, options)
}

/// 1-D average pooling (Keras `AveragePooling1D`, channels last).
///
/// Args:
/// - `input`: `(N, L, C)`.
/// - `options`: pool size, stride (default: the pool size) and padding.
///
/// Returns `(N, L_out, C)`.
///
/// ```
/// use ferrograd::ops::conv::{Padding, Pool1dOptions, avg_pool1d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F64, &[1, 3, 1], vec![1.0, 3.0, 8.0]).unwrap();
/// let options = Pool1dOptions { padding: Padding::Same, ..Pool1dOptions::new(2) };
/// let y = avg_pool1d(&Tensor::new(x, false), &options).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![2.0, 8.0]);
/// ```
pub fn avg_pool1d(input: &Tensor, options: &Pool1dOptions) -> Result<Tensor> {
    pool1d("avg_pool1d", PoolKind::Average, input, options)
}

fn pool2d(
    op: &'static str,
    kind: PoolKind,
    input: &Tensor,
    options: &Pool2dOptions,
) -> Result<Tensor> {
    let strides = options.strides.unwrap_or(options.pool_size);
    let geo = pool_geometry(
        op,
        input.shape(),
        &options.pool_size,
        &strides,
        options.padding,
    )?;
    let shape = vec![geo.batch, geo.output[0], geo.output[1], geo.out_channels];
    pool(op, kind, input, geo, shape)
}

fn pool1d(
    op: &'static str,
    kind: PoolKind,
    input: &Tensor,
    options: &Pool1dOptions,
) -> Result<Tensor> {
    let strides = options.strides.unwrap_or(options.pool_size);
    let geo = pool_geometry(
        op,
        input.shape(),
        &[options.pool_size],
        &[strides],
        options.padding,
    )?;
    let shape = vec![geo.batch, geo.output[1], geo.out_channels];
    pool(op, kind, input, geo, shape)
}

/// The geometry of a pooling: a convolution whose "kernel" is the window, channel by channel.
fn pool_geometry(
    op: &'static str,
    input: &[usize],
    pool_size: &[usize],
    strides: &[usize],
    padding: Padding,
) -> Result<ConvGeometry> {
    let rank = pool_size.len();
    check_input(op, input, rank)?;
    check_positive(op, "pool_size", pool_size)?;
    check_positive(op, "strides", strides)?;
    if padding == Padding::Causal {
        return Err(Error::value(format!(
            "{op}: padding must be 'valid' or 'same', received 'causal'"
        )));
    }
    let mut output = Vec::with_capacity(rank);
    let mut pads = Vec::with_capacity(rank);
    for axis in 0..rank {
        let (out, pad) = spatial_output(
            op,
            "pool window",
            axis_name(rank, axis),
            input[axis + 1],
            pool_size[axis],
            strides[axis],
            1,
            padding,
        )?;
        output.push(out);
        pads.push(pad);
    }
    Ok(window_geometry(
        input[0],
        lift(&input[1..=rank], 1),
        input[rank + 1],
        lift(&output, 1),
        lift(pool_size, 1),
        lift(strides, 1),
        lift(&pads, 0),
    ))
}

/// A per-channel window geometry.
pub(super) fn window_geometry(
    batch: usize,
    input: [usize; 2],
    channels: usize,
    output: [usize; 2],
    window: [usize; 2],
    strides: [usize; 2],
    pad_before: [usize; 2],
) -> ConvGeometry {
    ConvGeometry {
        batch,
        input,
        in_channels: channels,
        output,
        out_channels: channels,
        kernel: window,
        strides,
        dilation: [1, 1],
        pad_before,
        groups: channels,
    }
}

/// The pooling of a checked geometry, of output `shape`, recording its backward rule.
pub(super) fn pool(
    op: &'static str,
    kind: PoolKind,
    input: &Tensor,
    geo: ConvGeometry,
    shape: Vec<usize>,
) -> Result<Tensor> {
    crate::storage::checked_numel(&shape, DType::F64)?;
    let x = input.data();
    let out = match input.dtype() {
        DType::F32 => forward::<f32>(kind, &geo, &shape, &x)?,
        DType::F64 => forward::<f64>(kind, &geo, &shape, &x)?,
    };
    Ok(record(out, &[input], |output| PoolBackward {
        op,
        geo,
        input_shape: input.shape().to_vec(),
        // Max pooling finds each window's maximum again from its input and output, rather
        // than keeping an index per output: both tensors are kept alive by the layers around
        // it anyway (the convolution before it, the one after it).
        max_operands: (kind == PoolKind::Max).then(|| (x, output.clone())),
    }))
}

/// The input positions, along one axis, of the window of output position `out`: those of
/// `out * stride - pad .. out * stride - pad + window` inside `0..len`.
fn window_range(out: usize, window: usize, stride: usize, pad: usize, len: usize) -> Range<usize> {
    let start = out * stride;
    start.saturating_sub(pad).min(len)..(start + window).saturating_sub(pad).min(len)
}

/// The window of output position `(oh, ow)`: its rows and columns in the input.
fn window(geo: &ConvGeometry, oh: usize, ow: usize) -> (Range<usize>, Range<usize>) {
    let axis = |a: usize, o: usize| {
        window_range(
            o,
            geo.kernel[a],
            geo.strides[a],
            geo.pad_before[a],
            geo.input[a],
        )
    };
    (axis(0, oh), axis(1, ow))
}

fn work(geo: &ConvGeometry) -> usize {
    geo.batch
        .saturating_mul(geo.output_len())
        .saturating_mul(geo.kernel[0] * geo.kernel[1])
}

/// The pooled values.
fn forward<T: Element>(
    kind: PoolKind,
    geo: &ConvGeometry,
    shape: &[usize],
    x: &Storage,
) -> Result<Storage> {
    let x = values::<T>(x)?;
    let (channels, in_len, out_len) = (geo.in_channels, geo.input_len(), geo.output_len());
    // Every output value is written: its chunk zeroed first, then each window's statistic.
    new_storage_in_chunks::<T>(shape, |out| {
        for_each_sample_chunk_zeroed(geo.batch, work(geo), out, |samples, out| {
            for (s, n) in samples.enumerate() {
                let sample = &x[n * in_len..(n + 1) * in_len];
                let out = &mut out[s * out_len..(s + 1) * out_len];
                for (p, o) in out.chunks_exact_mut(channels).enumerate() {
                    let (rows, cols) = window(geo, p / geo.output[1], p % geo.output[1]);
                    // The window's input rows, each `cols.len()` positions of all channels.
                    let taps = rows.clone().map(|ih| {
                        let first = ih * geo.input[1];
                        &sample[(first + cols.start) * channels..(first + cols.end) * channels]
                    });
                    match kind {
                        PoolKind::Max => max_window(taps, o),
                        PoolKind::Average => avg_window(taps, rows.len() * cols.len(), o),
                    }
                }
            }
        });
        Ok(())
    })
}

/// The maximum per channel over the window's input rows (`rows`, each some positions of
/// `out.len()` channels). A NaN replaces any number and is never replaced; an empty window
/// gives 0. Starting from -inf rather than the first position keeps the loop one select per
/// value.
fn max_window<'a, T: Element>(rows: impl Iterator<Item = &'a [T]>, out: &mut [T]) {
    out.fill(T::neg_infinity());
    let mut empty = true;
    for row in rows {
        for xs in row.chunks_exact(out.len()) {
            for (o, &v) in out.iter_mut().zip(xs) {
                *o = if v > *o || v.is_nan() { v } else { *o };
            }
            empty = false;
        }
    }
    if empty {
        out.fill(T::zero());
    }
}

/// The mean per channel over the window's input rows, `count` positions in all.
fn avg_window<'a, T: Element>(rows: impl Iterator<Item = &'a [T]>, count: usize, out: &mut [T]) {
    out.fill(T::zero());
    for row in rows {
        for xs in row.chunks_exact(out.len()) {
            for (o, &v) in out.iter_mut().zip(xs) {
                *o += v;
            }
        }
    }
    let count = T::of(count.max(1) as f64);
    for o in out.iter_mut() {
        *o /= count;
    }
}

struct PoolBackward {
    op: &'static str,
    geo: ConvGeometry,
    input_shape: Vec<usize>,
    /// For max pooling, its input and output; `None` for average pooling.
    max_operands: Option<(Arc<Storage>, Arc<Storage>)>,
}

impl Backward for PoolBackward {
    fn name(&self) -> &'static str {
        self.op
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let dx = match grad.dtype() {
            DType::F32 => self.input_grad::<f32>(grad)?,
            DType::F64 => self.input_grad::<f64>(grad)?,
        };
        grads.add(0, dx)
    }
}

impl PoolBackward {
    fn input_grad<T: Element>(&self, grad: &Storage) -> Result<Storage> {
        let geo = &self.geo;
        let dy = values::<T>(grad)?;
        let max_operands = match &self.max_operands {
            Some((x, y)) => Some((values::<T>(x)?, values::<T>(y)?)),
            None => None,
        };
        let (channels, in_len, out_len) = (geo.in_channels, geo.input_len(), geo.output_len());
        // Each chunk's samples are zeroed, then the windows' gradients added.
        new_storage_in_chunks::<T>(&self.input_shape, |dx| {
            for_each_sample_chunk_zeroed(geo.batch, work(geo), dx, |samples, dx| {
                // For max pooling, the gradient of each output of a row not yet given to its
                // window's maximum.
                let mut pending = match max_operands {
                    Some(_) => vec![T::zero(); geo.output[1] * channels],
                    None => Vec::new(),
                };
                for (s, n) in samples.enumerate() {
                    let dx = &mut dx[s * in_len..(s + 1) * in_len];
                    let dy = &dy[n * out_len..(n + 1) * out_len];
                    match max_operands {
                        Some((x, y)) => {
                            let x = &x[n * in_len..(n + 1) * in_len];
                            let y = &y[n * out_len..(n + 1) * out_len];
                            max_pool_sample_grad(geo, x, y, dy, &mut pending, dx);
                        }
                        None => avg_pool_sample_grad(geo, dy, dx),
                    }
                }
            });
            Ok(())
        })
    }
}

/// Adds one sample's max-pooling gradient to `dx`, a row of outputs at a time: the row's
/// output gradient becomes `pending`, then the window taps are visited in row-major window
/// order (input row, then kernel column), each over all the row's outputs, so that every
/// window meets its taps in order while the loops stay plain.
fn max_pool_sample_grad<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    y: &[T],
    dy: &[T],
    pending: &mut [T],
    dx: &mut [T],
) {
    let (channels, [_, w], [out_h, out_w]) = (geo.in_channels, geo.input, geo.output);
    let row_len = out_w * channels;
    for oh in 0..out_h {
        let (rows, _) = window(geo, oh, 0);
        let y_row = &y[oh * row_len..(oh + 1) * row_len];
        pending.copy_from_slice(&dy[oh * row_len..(oh + 1) * row_len]);
        for ih in rows {
            for j in 0..geo.kernel[1] {
                for ow in 0..out_w {
                    let Some(iw) = source(ow, j, geo.strides[1], 1, geo.pad_before[1], w) else {
                        continue;
                    };
                    let at = (ih * w + iw) * channels;
                    let out = ow * channels..(ow + 1) * channels;
                    max_window_grad(
                        &x[at..at + channels],
                        &y_row[out.clone()],
                        &mut pending[out],
                        &mut dx[at..at + channels],
                    );
                }
            }
        }
    }
}

/// Adds one sample's average-pooling gradient to `dx`: each output's gradient shared equally
/// by the inputs of its window.
fn avg_pool_sample_grad<T: Element>(geo: &ConvGeometry, dy: &[T], dx: &mut [T]) {
    let channels = geo.in_channels;
    for (p, g) in dy.chunks_exact(channels).enumerate() {
        let (rows, cols) = window(geo, p / geo.output[1], p % geo.output[1]);
        let count = T::of((rows.len() * cols.len()).max(1) as f64);
        for ih in rows {
            for iw in cols.clone() {
                let base = (ih * geo.input[1] + iw) * channels;
                for (d, &g) in dx[base..base + channels].iter_mut().zip(g) {
                    *d += g / count;
                }
            }
        }
    }
}

/// One tap of a max-pooling window in the backward pass: each channel whose maximum `y` is
/// this tap's value `x` (NaN matching NaN), and whose gradient has not gone to an earlier tap,
/// gets its `pending` gradient added to `dx`. Taps are visited in row-major window order, so
/// the gradient goes to the first maximum, as the forward pass found it. Selects rather than
/// branches, so that the loop vectorises.
fn max_window_grad<T: Element>(x: &[T], y: &[T], pending: &mut [T], dx: &mut [T]) {
    for (((&x, &y), p), d) in x.iter().zip(y).zip(pending.iter_mut()).zip(dx.iter_mut()) {
        let hit = x == y || (x.is_nan() && y.is_nan());
        *d += if hit { *p } else { T::zero() };
        *p = if hit { T::zero() } else { *p };
    }
}

impl Tensor {
    /// `max_pool2d(self, options)`; see [`max_pool2d`].
    pub fn max_pool2d(&self, options: &Pool2dOptions) -> Result<Tensor> {
        max_pool2d(self, options)
    }

    /// `avg_pool2d(self, options)`; see [`avg_pool2d`].
    pub fn avg_pool2d(&self, options: &Pool2dOptions) -> Result<Tensor> {
        avg_pool2d(self, options)
    }

    /// `max_pool1d(self, options)`; see [`max_pool1d`].
    pub fn max_pool1d(&self, options: &Pool1dOptions) -> Result<Tensor> {
        max_pool1d(self, options)
    }

    /// `avg_pool1d(self, options)`; see [`avg_pool1d`].
    pub fn avg_pool1d(&self, options: &Pool1dOptions) -> Result<Tensor> {
        avg_pool1d(self, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::reference::{
        Case, assert_close, assert_same_bits_on_any_thread_count, bits, pool as reference, tensor,
        tf_axis, values,
    };
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_max_and_average() {
        // 3x3 input 1..9, 2x2 windows with stride 1.
        let x = tensor(&[1, 3, 3, 1], (1..=9).map(f64::from).collect());
        let options = Pool2dOptions {
            strides: Some([1, 1]),
            ..Pool2dOptions::new([2, 2])
        };
        assert_eq!(
            max_pool2d(&x, &options).unwrap().to_f64_vec(),
            vec![5.0, 6.0, 8.0, 9.0]
        );
        assert_eq!(
            avg_pool2d(&x, &options).unwrap().to_f64_vec(),
            vec![3.0, 4.0, 6.0, 7.0]
        );
        // Same, stride 2 (default strides): padding only after, and the averages of the
        // border windows count only their input positions.
        let same = Pool2dOptions {
            padding: Padding::Same,
            ..Pool2dOptions::new([2, 2])
        };
        assert_eq!(
            max_pool2d(&x, &same).unwrap().to_f64_vec(),
            vec![5.0, 6.0, 8.0, 9.0]
        );
        assert_eq!(
            avg_pool2d(&x, &same).unwrap().to_f64_vec(),
            vec![3.0, 4.5, 7.5, 9.0]
        );
    }

    #[test]
    fn the_gradient_goes_to_the_first_maximum_only() {
        let x = tensor(&[1, 4, 1], vec![3.0, 3.0, 1.0, 2.0]);
        let y = max_pool1d(&x, &Pool1dOptions::new(2)).unwrap();
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        // Overlapping windows add up on a shared maximum.
        let x = tensor(&[1, 3, 1], vec![1.0, 5.0, 2.0]);
        let options = Pool1dOptions {
            strides: Some(1),
            ..Pool1dOptions::new(2)
        };
        let y = max_pool1d(&x, &options).unwrap();
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![0.0, 2.0, 0.0]);
    }

    #[test]
    fn nan_propagates_through_max_pooling() {
        for values in [
            vec![f64::NAN, 1.0, 2.0, 3.0],
            vec![1.0, 2.0, f64::NAN, 0.0],
            vec![5.0, 4.0, 3.0, f64::NAN],
        ] {
            let x = tensor(&[1, 2, 2, 1], values.clone());
            let y = max_pool2d(&x, &Pool2dOptions::new([2, 2])).unwrap();
            assert!(y.to_f64_vec()[0].is_nan(), "{values:?}");
            y.sum(None, false).unwrap().backward(None, false).unwrap();
            let grad = x.grad().unwrap().to_f64_vec();
            let nan_at = values.iter().position(|v| v.is_nan()).unwrap();
            assert_eq!(grad[nan_at], 1.0, "{values:?}");
            assert_eq!(grad.iter().sum::<f64>(), 1.0);
        }
        let x = tensor(&[1, 4, 1], vec![f64::NAN, 1.0, 2.0, 3.0]);
        let y = max_pool1d(&x.detach(), &Pool1dOptions::new(2))
            .unwrap()
            .to_f64_vec();
        assert!(y[0].is_nan() && y[1] == 3.0);
    }

    fn every_combination() -> Vec<Pool2dOptions> {
        let mut cases = Vec::new();
        for pool_size in [[2, 2], [3, 2]] {
            for strides in [None, Some([1, 1]), Some([2, 1])] {
                for padding in [Padding::Valid, Padding::Same] {
                    cases.push(Pool2dOptions {
                        pool_size,
                        strides,
                        padding,
                    });
                }
            }
        }
        cases
    }

    fn case(x: &[usize], options: &Pool2dOptions) -> Case {
        let strides = options.strides.unwrap_or(options.pool_size);
        let axis = |a: usize| {
            tf_axis(
                x[a + 1],
                options.pool_size[a],
                strides[a],
                1,
                options.padding,
            )
        };
        let ((oh, ph), (ow, pw)) = (axis(0), axis(1));
        Case {
            batch: x[0],
            input: [x[1], x[2]],
            in_channels: x[3],
            out_channels: x[3],
            kernel: options.pool_size,
            strides,
            dilation: [1, 1],
            groups: x[3],
            pad_before: [ph, pw],
            output: [oh, ow],
        }
    }

    #[test]
    fn matches_the_direct_pooling_and_finite_differences_for_every_argument_combination() {
        let shape = [2, 5, 4, 3];
        for (i, options) in every_combination().iter().enumerate() {
            let xv = values(120, i as u64);
            let x = tensor(&shape, xv.clone());
            let case = case(&shape, options);
            let max = max_pool2d(&x, options).unwrap();
            assert_eq!(max.shape(), &[2, case.output[0], case.output[1], 3]);
            assert_close(
                &max.to_f64_vec(),
                &reference(&case, &xv, true),
                &format!("max {options:?}"),
            );
            let avg = avg_pool2d(&x, options).unwrap();
            assert_close(
                &avg.to_f64_vec(),
                &reference(&case, &xv, false),
                &format!("avg {options:?}"),
            );
            check_gradients(std::slice::from_ref(&x), |t| {
                max_pool2d(&t[0], options).unwrap()
            });
            check_gradients(&[x], |t| avg_pool2d(&t[0], options).unwrap());
        }
        for padding in [Padding::Valid, Padding::Same] {
            for strides in [None, Some(1)] {
                let options = Pool1dOptions {
                    pool_size: 3,
                    strides,
                    padding,
                };
                let x = tensor(&[2, 7, 2], values(28, 9));
                check_gradients(std::slice::from_ref(&x), |t| {
                    max_pool1d(&t[0], &options).unwrap()
                });
                check_gradients(&[x], |t| avg_pool1d(&t[0], &options).unwrap());
            }
        }
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        for max in [true, false] {
            let run = || {
                let x = tensor(&[32, 16, 16, 8], values(32 * 256 * 8, 1))
                    .astype(DType::F32)
                    .unwrap()
                    .detach();
                x.set_requires_grad(true).unwrap();
                let options = Pool2dOptions {
                    strides: Some([1, 1]),
                    padding: Padding::Same,
                    ..Pool2dOptions::new([3, 3])
                };
                let y = if max {
                    max_pool2d(&x, &options)
                } else {
                    avg_pool2d(&x, &options)
                }
                .unwrap();
                y.square()
                    .unwrap()
                    .sum(None, false)
                    .unwrap()
                    .backward(None, false)
                    .unwrap();
                vec![bits(&y), bits(&x.grad().unwrap())]
            };
            assert_same_bits_on_any_thread_count(&format!("pool2d max {max}"), run);
        }
    }

    #[test]
    fn bad_arguments_and_empty_batches() {
        let x = tensor(&[1, 2, 2, 1], values(4, 1));
        let m = max_pool2d(&x, &Pool2dOptions::new([3, 1]))
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("max_pool2d")
                && m.contains("pool window height 3")
                && m.contains("input height 2"),
            "{m}"
        );
        let m = avg_pool2d(&x, &Pool2dOptions::new([0, 1]))
            .unwrap_err()
            .to_string();
        assert!(m.contains("pool_size must be positive"), "{m}");
        let m = max_pool1d(&x, &Pool1dOptions::new(2))
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("(batch, length, channels)") && m.contains("[1, 2, 2, 1]"),
            "{m}"
        );
        let empty = tensor(&[0, 4, 4, 2], vec![]);
        let y = max_pool2d(&empty, &Pool2dOptions::new([2, 2])).unwrap();
        assert_eq!(y.shape(), &[0, 2, 2, 2]);
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(empty.grad().unwrap().shape(), &[0, 4, 4, 2]);
    }
}

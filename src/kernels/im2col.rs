//! Convolution as matrix products on channels-last tensors: im2col (gather each output
//! position's receptive field into one row) and col2im (its adjoint, a scatter-add), and the
//! three products of a convolution built on them: the output, the input gradient and the
//! kernel gradient.
//!
//! Work is cut into chunks of whole samples whose boundaries depend only on the problem size
//! (never on the thread count), and each chunk writes its own samples; the kernel gradient sums
//! one partial per chunk in chunk order. So results are the same bits on any thread count.
//! Within a chunk, rows are processed in blocks that reuse one im2col buffer, sized to stay in
//! cache. Small receptive fields and one-filter-per-channel depthwise convolutions go to the
//! direct loops of `conv_direct` instead, and 1x1 convolutions multiply the input itself.
//!
//! The products go through the packed kernel of `packed` (the one the dense layers use): the
//! kernel matrix is packed once per call and every block of rows reads it from there, rather
//! than matrixmultiply packing both operands again for every block. The im2col buffers come
//! from a per-thread scratch kept between calls, so a training step allocates none.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::ops::Range;

use super::SharedMut;
use super::conv_direct;
use super::gemm::{MatMut, MatRef, gemm};
use super::packed::{PackedRhs, gemm_packed};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::parallel;
use crate::storage::checked_numel;

/// Most chunks one convolution is cut into: enough for 8 threads, few enough that each
/// chunk's GEMMs stay large.
const MAX_CHUNKS: usize = 8;
/// Below this many multiply-adds a convolution stays on one chunk (the GEMMs inside may still
/// split).
const PARALLEL_MIN_WORK: usize = 1 << 18;
/// The im2col buffer of one chunk holds about this many elements (256 KiB of f32).
const COL_BUFFER_ELEMENTS: usize = 1 << 16;

thread_local! {
    /// Each thread's im2col scratch, kept between calls (8-byte words, to suit f32 and f64).
    static SCRATCH: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on two scratch slices of `first` and `second` elements, taken from this thread's
/// buffer (grown when too small, never shrunk) instead of allocated and zeroed per call. Their
/// contents are left over from earlier calls: every user writes an element before reading it.
fn with_scratch<T: Element, R>(
    first: usize,
    second: usize,
    f: impl FnOnce(&mut [T], &mut [T]) -> R,
) -> R {
    const { assert!(size_of::<T>() <= 8 && 8 % align_of::<T>() == 0) };
    // Taken out of the cell, not borrowed: a nested call (none today) would get a fresh buffer
    // rather than a panic.
    let mut buffer = SCRATCH.take();
    let len = first + second;
    let words = (len * size_of::<T>()).div_ceil(8);
    if buffer.len() < words {
        buffer.resize(words, 0);
    }
    // SAFETY: the buffer holds at least `len` values of `T` (at most 8 bytes, aligned to a
    // divisor of 8); `T` is f32 or f64, for which any bits are a value.
    let values = unsafe { std::slice::from_raw_parts_mut(buffer.as_mut_ptr().cast::<T>(), len) };
    let (a, b) = values.split_at_mut(first);
    let result = f(a, b);
    SCRATCH.set(buffer);
    result
}

/// The sizes of one 2-D convolution, channels last. A 1-D convolution is a 2-D one of height 1.
///
/// The input is `(batch, input[0], input[1], in_channels)`, the kernel
/// `(kernel[0], kernel[1], in_channels / groups, out_channels)` (Keras's layout, read as a
/// `(patch_len, out_channels)` matrix), the output `(batch, output[0], output[1], out_channels)`.
/// Output position `o` along an axis reads input positions `o * stride + k * dilation - pad`
/// for `k` in `0..kernel`; positions outside the input read zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub batch: usize,
    pub input: [usize; 2],
    pub in_channels: usize,
    pub output: [usize; 2],
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub dilation: [usize; 2],
    pub pad_before: [usize; 2],
    pub groups: usize,
}

impl ConvGeometry {
    pub fn in_group(&self) -> usize {
        self.in_channels / self.groups
    }

    pub fn out_group(&self) -> usize {
        self.out_channels / self.groups
    }

    /// The length of one im2col row: a receptive field of one group.
    pub fn patch_len(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.in_group()
    }

    /// Output positions per sample.
    pub fn positions(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// Input elements per sample.
    pub fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.in_channels
    }

    /// Output elements per sample.
    pub fn output_len(&self) -> usize {
        self.positions() * self.out_channels
    }

    pub fn kernel_len(&self) -> usize {
        self.patch_len() * self.out_channels
    }

    /// Multiply-adds of the forward pass (saturating: only compared with thresholds).
    pub fn flops(&self) -> usize {
        self.batch
            .saturating_mul(self.positions())
            .saturating_mul(self.patch_len())
            .saturating_mul(self.out_channels)
    }

    /// A 1x1 convolution that reads every input position once, in order: the input is
    /// already its own im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.strides == [1, 1]
            && self.pad_before == [0, 0]
            && self.output == self.input
            && self.groups == 1
    }

    /// The rows of one im2col block.
    fn block_rows(&self) -> usize {
        (COL_BUFFER_ELEMENTS / self.patch_len().max(1)).clamp(16, 4096)
    }

    /// Checks that every buffer a convolution of this geometry allocates can be had.
    fn check_buffers<T: Element>(&self) -> Result<()> {
        for shape in [
            [self.block_rows(), self.patch_len()],
            [self.block_rows(), self.out_group()],
            [MAX_CHUNKS, self.kernel_len()],
        ] {
            checked_numel(&shape, T::DTYPE)?;
        }
        Ok(())
    }

    fn check_lengths(&self, op: &str, x: usize, kernel: usize, out: usize) -> Result<()> {
        let expected = (
            self.batch * self.input_len(),
            self.kernel_len(),
            self.batch * self.output_len(),
        );
        if (x, kernel, out) != expected {
            return Err(Error::Autograd(format!(
                "internal error in {op}: buffers of {x}, {kernel} and {out} elements for a \
                 convolution that needs {expected:?}"
            )));
        }
        Ok(())
    }
}

/// The input position that output position `out` reads at kernel tap `tap`, if inside.
#[inline]
pub fn source(
    out: usize,
    tap: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
    len: usize,
) -> Option<usize> {
    (out * stride + tap * dilation)
        .checked_sub(pad)
        .filter(|&i| i < len)
}

/// How a batch is cut: `(chunks, samples per chunk)`, from the sizes alone.
pub fn sample_chunks(batch: usize, work: usize) -> (usize, usize) {
    if batch == 0 {
        return (0, 1);
    }
    let wanted = if work < PARALLEL_MIN_WORK {
        1
    } else {
        batch.min(MAX_CHUNKS)
    };
    let per = batch.div_ceil(wanted);
    (batch.div_ceil(per), per)
}

/// Runs `f(samples, a_part, b_part)` over the sample chunks of a batch, in parallel, where
/// `a_part` and `b_part` are the chunk's samples of `a` and `b` (each holds `batch` equal
/// samples; either may be empty).
pub fn for_each_sample_chunk<A: Send, B: Send>(
    batch: usize,
    work: usize,
    a: &mut [A],
    b: &mut [B],
    f: impl Fn(Range<usize>, &mut [A], &mut [B]) + Sync,
) {
    let (chunks, per) = sample_chunks(batch, work);
    if chunks == 0 {
        return;
    }
    let (a_len, b_len) = (a.len() / batch, b.len() / batch);
    let (a_base, b_base) = (SharedMut(a.as_mut_ptr()), SharedMut(b.as_mut_ptr()));
    parallel::for_each_chunk(chunks, |c| {
        let start = c * per;
        let end = (start + per).min(batch);
        // SAFETY: chunks cover disjoint sample ranges inside `a` and `b`, which are borrowed
        // mutably for the whole call.
        let (a_part, b_part) = unsafe {
            (
                std::slice::from_raw_parts_mut(
                    a_base.get().add(start * a_len),
                    (end - start) * a_len,
                ),
                std::slice::from_raw_parts_mut(
                    b_base.get().add(start * b_len),
                    (end - start) * b_len,
                ),
            )
        };
        f(start..end, a_part, b_part);
    });
}

/// `for_each_sample_chunk` over an uninitialised output: each chunk sets its own samples of
/// `out` to zero, in its own thread and just before `f` writes them, rather than the whole
/// buffer being zeroed first on one thread (a pass more, and the chunk's values out of cache by
/// the time `f` writes them). `f(samples, out_part)` gets the chunk's samples as values.
pub(crate) fn for_each_sample_chunk_zeroed<T: Element>(
    batch: usize,
    work: usize,
    out: &mut [MaybeUninit<T>],
    f: impl Fn(Range<usize>, &mut [T]) + Sync,
) {
    for_each_sample_chunk(batch, work, out, &mut [] as &mut [T], |samples, part, _| {
        f(samples, zeroed(part));
    });
}

/// `values` set to zero, as initialised values.
fn zeroed<T: Element>(values: &mut [MaybeUninit<T>]) -> &mut [T] {
    for v in values.iter_mut() {
        v.write(T::zero());
    }
    // SAFETY: every element was just written; `MaybeUninit<T>` has the layout of `T`.
    unsafe { &mut *(values as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// `dst = src` for one kernel row of an im2col row. Rows of up to 4 values (a 3x3 kernel over
/// one channel: 3) are copied as fixed-size arrays, which compile to plain moves; a copy of a
/// length known only at run time calls `memcpy`, whose call costs more than the copy.
#[inline]
fn copy_row<T: Copy>(dst: &mut [T], src: &[T]) {
    fn fixed<T: Copy, const N: usize>(dst: &mut [T], src: &[T]) {
        if let (Ok(dst), Ok(src)) = (<&mut [T; N]>::try_from(dst), <&[T; N]>::try_from(src)) {
            *dst = *src;
        }
    }
    match src.len() {
        1 => fixed::<T, 1>(dst, src),
        2 => fixed::<T, 2>(dst, src),
        3 => fixed::<T, 3>(dst, src),
        4 => fixed::<T, 4>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Gathers the receptive fields of `rows` (indices into the output positions of the samples
/// in `x`) for channel group `group` into `col`, one row of `patch_len` per output position.
fn im2col<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    group: usize,
    rows: Range<usize>,
    col: &mut [T],
) {
    let [h, w] = geo.input;
    let [kh, kw] = geo.kernel;
    let (c_in, in_group) = (geo.in_channels, geo.in_group());
    let (positions, out_w) = (geo.positions(), geo.output[1]);
    let sample_len = geo.input_len();
    // With one group and no dilation along the width, the taps of one kernel row read
    // consecutive input positions: `kw * c_in` contiguous values, copied at once where the
    // whole kernel row falls inside the input.
    let whole_rows = geo.groups == 1 && geo.dilation[1] == 1;
    for (row, dst) in rows.zip(col.chunks_exact_mut(geo.patch_len().max(1))) {
        let (n, p) = (row / positions, row % positions);
        let (oh, ow) = (p / out_w, p % out_w);
        let sample = &x[n * sample_len..(n + 1) * sample_len];
        let first_iw = (ow * geo.strides[1]).checked_sub(geo.pad_before[1]);
        let inside = first_iw.filter(|&iw| whole_rows && iw + kw <= w);
        for i in 0..kh {
            let ih = source(oh, i, geo.strides[0], geo.dilation[0], geo.pad_before[0], h);
            if let (Some(ih), Some(iw)) = (ih, inside) {
                let start = (ih * w + iw) * c_in;
                copy_row(
                    &mut dst[i * kw * in_group..(i + 1) * kw * in_group],
                    &sample[start..start + kw * c_in],
                );
                continue;
            }
            for j in 0..kw {
                let iw = source(ow, j, geo.strides[1], geo.dilation[1], geo.pad_before[1], w);
                let d = &mut dst[(i * kw + j) * in_group..(i * kw + j + 1) * in_group];
                match (ih, iw) {
                    (Some(ih), Some(iw)) => {
                        let start = (ih * w + iw) * c_in + group * in_group;
                        d.copy_from_slice(&sample[start..start + in_group]);
                    }
                    _ => d.fill(T::zero()),
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds each row of `col` back into the receptive field it came from.
fn col2im<T: Element>(
    geo: &ConvGeometry,
    col: &[T],
    group: usize,
    rows: Range<usize>,
    dx: &mut [T],
) {
    let [h, w] = geo.input;
    let [kh, kw] = geo.kernel;
    let (c_in, in_group) = (geo.in_channels, geo.in_group());
    let (positions, out_w) = (geo.positions(), geo.output[1]);
    let sample_len = geo.input_len();
    for (row, src) in rows.zip(col.chunks_exact(geo.patch_len().max(1))) {
        let (n, p) = (row / positions, row % positions);
        let (oh, ow) = (p / out_w, p % out_w);
        let sample = &mut dx[n * sample_len..(n + 1) * sample_len];
        for i in 0..kh {
            let Some(ih) = source(oh, i, geo.strides[0], geo.dilation[0], geo.pad_before[0], h)
            else {
                continue;
            };
            for j in 0..kw {
                let Some(iw) = source(ow, j, geo.strides[1], geo.dilation[1], geo.pad_before[1], w)
                else {
                    continue;
                };
                let start = (ih * w + iw) * c_in + group * in_group;
                let s = &src[(i * kw + j) * in_group..(i * kw + j + 1) * in_group];
                for (d, &v) in sample[start..start + in_group].iter_mut().zip(s) {
                    *d += v;
                }
            }
        }
    }
}

/// The kernel's columns of each group, as contiguous `(patch_len, out_group)` matrices (the
/// kernel itself when there is one group).
fn group_kernels<T: Element>(geo: &ConvGeometry, kernel: &[T]) -> Vec<Vec<T>> {
    if geo.groups == 1 || conv_direct::is_direct::<T>(geo) {
        return Vec::new();
    }
    let (patch, out_group, c_out) = (geo.patch_len(), geo.out_group(), geo.out_channels);
    (0..geo.groups)
        .map(|g| {
            (0..patch)
                .flat_map(|p| {
                    kernel[p * c_out + g * out_group..p * c_out + (g + 1) * out_group]
                        .iter()
                        .copied()
                })
                .collect()
        })
        .collect()
}

/// Group `g`'s kernel matrix: the packed one, or the kernel itself when there is one group.
fn group_kernel<'a, T>(kernel: &'a [T], grouped: &'a [Vec<T>], g: usize) -> &'a [T] {
    grouped.get(g).map_or(kernel, Vec::as_slice)
}

/// Copies the columns of `group` from `rows` rows of width `width` into a dense matrix.
fn gather_columns<T: Element>(
    src: &[T],
    width: usize,
    group: usize,
    group_width: usize,
    dst: &mut [T],
) {
    for (d, s) in dst
        .chunks_exact_mut(group_width)
        .zip(src.chunks_exact(width))
    {
        d.copy_from_slice(&s[group * group_width..(group + 1) * group_width]);
    }
}

/// The convolution's output: `out = finish(conv(x, kernel))`, overwriting `out`.
///
/// `finish` runs on each block of whole output rows (`out_channels` values each) once the
/// block is computed, while it is still in cache: the bias and the activation of a conv layer,
/// in the block's own thread, rather than two more passes over the whole output.
pub fn conv_forward<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    kernel: &[T],
    out: &mut [MaybeUninit<T>],
    finish: impl Fn(&mut [T]) + Sync,
) -> Result<()> {
    geo.check_lengths("conv forward", x.len(), kernel.len(), out.len())?;
    geo.check_buffers::<T>()?;
    let grouped = group_kernels(geo, kernel);
    let (patch, c_out, out_group) = (geo.patch_len(), geo.out_channels, geo.out_group());
    let direct = conv_direct::is_direct::<T>(geo);
    // Each group's kernel matrix, packed once for every block of every chunk.
    let packed: Vec<PackedRhs<'_, T>> = if direct && !geo.is_pointwise() {
        Vec::new()
    } else {
        (0..geo.groups)
            .map(|g| {
                let width = if geo.groups == 1 { c_out } else { out_group };
                PackedRhs::new(MatRef::row_major(
                    group_kernel(kernel, &grouped, g),
                    patch,
                    width,
                ))
            })
            .collect()
    };
    let positions = geo.positions();
    let block = geo.block_rows();
    for_each_sample_chunk_zeroed(geo.batch, geo.flops(), out, |samples, out| {
        let x = &x[samples.start * geo.input_len()..samples.end * geo.input_len()];
        let rows = samples.len() * positions;
        if geo.is_pointwise() {
            let a = MatRef::row_major(x, rows, geo.in_channels);
            gemm_packed(
                a,
                &packed[0],
                T::zero(),
                MatMut::row_major(out, rows, c_out),
            );
            finish(out);
            return;
        }
        if direct {
            conv_direct::forward(geo, x, kernel, out, rows);
            finish(out);
            return;
        }
        let tmp_len = if geo.groups > 1 {
            block.min(rows) * out_group
        } else {
            0
        };
        with_scratch(block.min(rows) * patch, tmp_len, |col, tmp| {
            for r0 in (0..rows).step_by(block) {
                let r1 = (r0 + block).min(rows);
                let m = r1 - r0;
                let out_rows = &mut out[r0 * c_out..r1 * c_out];
                for (g, packed) in packed.iter().enumerate() {
                    let col = &mut col[..m * patch];
                    im2col(geo, x, g, r0..r1, col);
                    let a = MatRef::row_major(&*col, m, patch);
                    if geo.groups == 1 {
                        let c = MatMut::row_major(out_rows, m, c_out);
                        gemm_packed(a, packed, T::zero(), c);
                    } else {
                        let tmp = &mut tmp[..m * out_group];
                        let c = MatMut::row_major(tmp, m, out_group);
                        gemm_packed(a, packed, T::zero(), c);
                        for (o, t) in out_rows
                            .chunks_exact_mut(c_out)
                            .zip(tmp.chunks_exact(out_group))
                        {
                            o[g * out_group..(g + 1) * out_group].copy_from_slice(t);
                        }
                    }
                }
                finish(out_rows);
            }
        });
    });
    Ok(())
}

/// The gradient with respect to the input: `dx = conv_input_grad(dy, kernel)`, initialising
/// `dx` (each chunk zeroes its samples, then adds to them). This is also the forward pass of a
/// transposed convolution.
pub fn conv_input_grad<T: Element>(
    geo: &ConvGeometry,
    dy: &[T],
    kernel: &[T],
    dx: &mut [MaybeUninit<T>],
    finish: impl Fn(&mut [T]) + Sync,
) -> Result<()> {
    geo.check_lengths("conv input gradient", dx.len(), kernel.len(), dy.len())?;
    geo.check_buffers::<T>()?;
    let grouped = group_kernels(geo, kernel);
    let (patch, c_out, out_group) = (geo.patch_len(), geo.out_channels, geo.out_group());
    let direct = conv_direct::is_direct::<T>(geo);
    // Each group's transposed kernel, `(out_group, patch)`, packed once for every block.
    let packed: Vec<PackedRhs<'_, T>> = if direct && !geo.is_pointwise() {
        Vec::new()
    } else {
        (0..geo.groups)
            .map(|g| {
                let width = if geo.groups == 1 { c_out } else { out_group };
                PackedRhs::new(
                    MatRef::row_major(group_kernel(kernel, &grouped, g), patch, width).t(),
                )
            })
            .collect()
    };
    let positions = geo.positions();
    for_each_sample_chunk_zeroed(geo.batch, geo.flops(), dx, |samples, dx| {
        let dy = &dy[samples.start * geo.output_len()..samples.end * geo.output_len()];
        let rows = samples.len() * positions;
        if geo.is_pointwise() {
            let a = MatRef::row_major(dy, rows, c_out);
            let c = MatMut::row_major(dx, rows, geo.in_channels);
            gemm_packed(a, &packed[0], T::zero(), c);
        } else if direct {
            conv_direct::input_grad(geo, dy, kernel, dx, rows);
        } else {
            input_grad_blocks(geo, dy, &packed, dx, rows);
        }
        finish(dx);
    });
    Ok(())
}

/// `conv_input_grad` of one chunk's `rows` output rows through im2col's adjoint: each block of
/// rows times the packed transposed kernel of each group, scattered back by col2im into `dx`
/// (zeroed).
fn input_grad_blocks<T: Element>(
    geo: &ConvGeometry,
    dy: &[T],
    packed: &[PackedRhs<'_, T>],
    dx: &mut [T],
    rows: usize,
) {
    let (patch, c_out, out_group) = (geo.patch_len(), geo.out_channels, geo.out_group());
    let block = geo.block_rows();
    let tmp_len = if geo.groups > 1 {
        block.min(rows) * out_group
    } else {
        0
    };
    with_scratch(block.min(rows) * patch, tmp_len, |col, tmp| {
        for r0 in (0..rows).step_by(block) {
            let r1 = (r0 + block).min(rows);
            let m = r1 - r0;
            let dy_rows = &dy[r0 * c_out..r1 * c_out];
            for (g, packed) in packed.iter().enumerate() {
                let col = &mut col[..m * patch];
                let a = if geo.groups == 1 {
                    MatRef::row_major(dy_rows, m, c_out)
                } else {
                    let tmp = &mut tmp[..m * out_group];
                    gather_columns(dy_rows, c_out, g, out_group, tmp);
                    MatRef::row_major(&*tmp, m, out_group)
                };
                gemm_packed(a, packed, T::zero(), MatMut::row_major(col, m, patch));
                col2im(geo, col, g, r0..r1, dx);
            }
        }
    });
}

/// Where `conv_backward` writes a convolution's gradients (each overwritten).
pub(crate) struct ConvGrads<'a, T> {
    /// The input's, `None` when it needs none (a first layer); uninitialised memory, which
    /// each chunk zeroes and then adds its samples' gradients to.
    pub input: Option<&'a mut [MaybeUninit<T>]>,
    /// The kernel's, in Keras's layout.
    pub kernel: &'a mut [T],
    /// The bias's (`out_channels` values), `None` without a bias.
    pub bias: Option<&'a mut [T]>,
}

/// Whether `conv_backward` takes its one-pass path for `geo` (im2col + GEMM with one group);
/// callers compute the three gradients separately otherwise.
pub(crate) fn fuses_backward<T: Element>(geo: &ConvGeometry) -> bool {
    geo.groups == 1 && !geo.is_pointwise() && !conv_direct::is_direct::<T>(geo)
}

/// The three gradients of a convolution in one pass over the output gradient, for geometries
/// where `fuses_backward` holds.
///
/// `pre_activation(offset, dz)` fills `dz` with the gradient at the pre-activation values of
/// the output elements `offset..offset + dz.len()` (a block of whole rows): the convolution's
/// own output gradient `dy` passed through a fused activation's derivative. It runs block by
/// block, so that gradient is never stored whole; each block of it feeds, while in cache, the
/// bias gradient (its column sums), the kernel gradient (the block's im2col rows, transposed,
/// times it) and the input gradient (it times the transposed kernel, scattered back by
/// col2im). The bias and kernel gradients sum one partial per sample chunk in chunk order, so
/// the bits do not depend on the thread count.
pub(crate) fn conv_backward<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    kernel: &[T],
    pre_activation: impl Fn(usize, &mut [T]) + Sync,
    grads: ConvGrads<'_, T>,
) -> Result<()> {
    let ConvGrads {
        input: dx,
        kernel: dkernel,
        bias: dbias,
    } = grads;
    let out_len_total = geo.batch * geo.output_len();
    geo.check_lengths("conv backward", x.len(), kernel.len(), out_len_total)?;
    geo.check_buffers::<T>()?;
    if !fuses_backward::<T>(geo)
        || dkernel.len() != geo.kernel_len()
        || dx.as_ref().is_some_and(|dx| dx.len() != x.len())
        || dbias.as_ref().is_some_and(|b| b.len() != geo.out_channels)
    {
        return Err(Error::Autograd(
            "internal error in conv backward: a geometry or buffer it does not take".into(),
        ));
    }
    let (patch, c_out) = (geo.patch_len(), geo.out_channels);
    let (positions, block, kernel_len) = (geo.positions(), geo.block_rows(), geo.kernel_len());
    let (chunks, per) = sample_chunks(geo.batch, geo.flops());
    // The transposed kernel, `(c_out, patch)`, packed once for every block's input gradient.
    let packed_t = PackedRhs::new(MatRef::row_major(kernel, patch, c_out).t());
    // One partial kernel gradient and one partial bias gradient per chunk.
    let partial_len = kernel_len + c_out;
    let mut partials = vec![T::zero(); chunks * partial_len];
    let partial_base = SharedMut(partials.as_mut_ptr());
    let dx_base = dx.map(|dx| SharedMut(dx.as_mut_ptr()));
    parallel::for_each_chunk(chunks, |c| {
        let samples = c * per..((c + 1) * per).min(geo.batch);
        // SAFETY: each chunk writes its own partial and its own samples of `dx`, both inside
        // buffers borrowed mutably for the whole call.
        let (part, dx) = unsafe {
            (
                std::slice::from_raw_parts_mut(
                    partial_base.get().add(c * partial_len),
                    partial_len,
                ),
                dx_base.as_ref().map(|base| {
                    std::slice::from_raw_parts_mut(
                        base.get().add(samples.start * geo.input_len()),
                        samples.len() * geo.input_len(),
                    )
                }),
            )
        };
        let (dk_part, db_part) = part.split_at_mut(kernel_len);
        let x = &x[samples.start * geo.input_len()..samples.end * geo.input_len()];
        let rows = samples.len() * positions;
        let first_output = samples.start * geo.output_len();
        let mut dx = dx.map(zeroed);
        with_scratch(
            block.min(rows) * patch,
            block.min(rows) * c_out,
            |col, dz| {
                for r0 in (0..rows).step_by(block) {
                    let r1 = (r0 + block).min(rows);
                    let m = r1 - r0;
                    let (col, dz) = (&mut col[..m * patch], &mut dz[..m * c_out]);
                    pre_activation(first_output + r0 * c_out, dz);
                    for row in dz.chunks_exact(c_out) {
                        for (b, &g) in db_part.iter_mut().zip(row) {
                            *b += g;
                        }
                    }
                    let dz = MatRef::row_major(&*dz, m, c_out);
                    im2col(geo, x, 0, r0..r1, col);
                    gemm_packed(
                        MatRef::row_major(&*col, m, patch).t(),
                        &PackedRhs::new(dz),
                        T::one(),
                        MatMut::row_major(dk_part, patch, c_out),
                    );
                    if let Some(dx) = dx.as_deref_mut() {
                        gemm_packed(dz, &packed_t, T::zero(), MatMut::row_major(col, m, patch));
                        col2im(geo, col, 0, r0..r1, dx);
                    }
                }
            },
        );
    });
    dkernel.fill(T::zero());
    let mut dbias = dbias;
    if let Some(db) = dbias.as_deref_mut() {
        db.fill(T::zero());
    }
    for part in partials.chunks_exact(partial_len) {
        let (dk_part, db_part) = part.split_at(kernel_len);
        for (d, &v) in dkernel.iter_mut().zip(dk_part) {
            *d += v;
        }
        if let Some(db) = dbias.as_deref_mut() {
            for (d, &v) in db.iter_mut().zip(db_part) {
                *d += v;
            }
        }
    }
    Ok(())
}

/// The gradient with respect to the kernel: `dkernel = conv_kernel_grad(x, dy)`, overwriting
/// `dkernel` (Keras's layout).
pub fn conv_kernel_grad<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    dy: &[T],
    dkernel: &mut [T],
) -> Result<()> {
    geo.check_lengths("conv kernel gradient", x.len(), dkernel.len(), dy.len())?;
    geo.check_buffers::<T>()?;
    let (patch, c_out, out_group) = (geo.patch_len(), geo.out_channels, geo.out_group());
    let positions = geo.positions();
    let block = geo.block_rows();
    let (chunks, per) = sample_chunks(geo.batch, geo.flops());
    let kernel_len = geo.kernel_len();
    // One partial gradient per chunk, each `groups` contiguous (patch, out_group) matrices.
    let mut partials = vec![T::zero(); chunks * kernel_len];
    let base = SharedMut(partials.as_mut_ptr());
    parallel::for_each_chunk(chunks, |c| {
        let samples = c * per..((c + 1) * per).min(geo.batch);
        // SAFETY: each chunk writes its own partial, inside `partials`, borrowed for the call.
        let part =
            unsafe { std::slice::from_raw_parts_mut(base.get().add(c * kernel_len), kernel_len) };
        let x = &x[samples.start * geo.input_len()..samples.end * geo.input_len()];
        let dy = &dy[samples.start * geo.output_len()..samples.end * geo.output_len()];
        let rows = samples.len() * positions;
        if geo.is_pointwise() {
            let a = MatRef::row_major(x, rows, geo.in_channels).t();
            let b = MatRef::row_major(dy, rows, c_out);
            gemm(
                T::one(),
                a,
                b,
                T::zero(),
                MatMut::row_major(part, patch, c_out),
            );
            return;
        }
        if conv_direct::is_direct::<T>(geo) {
            conv_direct::add_kernel_grad(geo, x, dy, part, rows);
            return;
        }
        let tmp_len = if geo.groups > 1 {
            block.min(rows) * out_group
        } else {
            0
        };
        with_scratch(block.min(rows) * patch, tmp_len, |col, tmp| {
            for r0 in (0..rows).step_by(block) {
                let r1 = (r0 + block).min(rows);
                let m = r1 - r0;
                let dy_rows = &dy[r0 * c_out..r1 * c_out];
                for g in 0..geo.groups {
                    let col = &mut col[..m * patch];
                    im2col(geo, x, g, r0..r1, col);
                    let a = MatRef::row_major(&*col, m, patch).t();
                    let b = if geo.groups == 1 {
                        MatRef::row_major(dy_rows, m, c_out)
                    } else {
                        let tmp = &mut tmp[..m * out_group];
                        gather_columns(dy_rows, c_out, g, out_group, tmp);
                        MatRef::row_major(&*tmp, m, out_group)
                    };
                    // The block's output gradient is the packed side: `patch` rows of the
                    // transposed im2col matrix pass over it, where matrixmultiply would pack
                    // both operands.
                    let dest = &mut part[g * patch * out_group..(g + 1) * patch * out_group];
                    let c = MatMut::row_major(dest, patch, out_group);
                    gemm_packed(a, &PackedRhs::new(b), T::one(), c);
                }
            }
        });
    });
    // The sum of the partials, in chunk order, scattered to the kernel's layout (the direct
    // loops write that layout already).
    dkernel.fill(T::zero());
    if conv_direct::is_direct::<T>(geo) {
        for part in partials.chunks_exact(kernel_len.max(1)).take(chunks) {
            for (d, &s) in dkernel.iter_mut().zip(part) {
                *d += s;
            }
        }
        return Ok(());
    }
    for part in partials.chunks_exact(kernel_len.max(1)).take(chunks) {
        for g in 0..geo.groups {
            let part_g = &part[g * patch * out_group..(g + 1) * patch * out_group];
            for (p, src) in part_g.chunks_exact(out_group.max(1)).enumerate() {
                let dst = &mut dkernel[p * c_out + g * out_group..p * c_out + (g + 1) * out_group];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
    }
    Ok(())
}

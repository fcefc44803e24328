//! Direct convolution loops for the shapes where im2col + GEMM loses: receptive fields so
//! small (a first layer on 1 or 3 channels) that the GEMM's packing costs more than its
//! arithmetic, and depthwise convolutions with one filter per channel, whose grouped GEMMs
//! would be one column wide. Each output row is a sum over kernel taps of a row of the kernel
//! scaled by an input value (or, depthwise, an elementwise product), which vectorises over the
//! channels.
//!
//! Called by `im2col`'s three products on one chunk of samples; the chunking (and so the
//! sameness of the bits on any thread count) is theirs.

use super::im2col::{ConvGeometry, source};
use super::packed;
use crate::dtype::Element;

/// The largest receptive field (kernel taps times input channels) computed directly when
/// there is one group and the GEMM would be matrixmultiply's: measured on the MNIST convnet's
/// first layer (`benches/conv_shapes.rs`).
const MAX_DIRECT_PATCH: usize = 32;
/// The same where the packed kernel multiplies (f32 on AVX2/AVX-512): it packs the kernel once
/// per call and reads the im2col rows in place, so only the tiniest fields stay direct (the
/// MNIST convnet's 3x3x1 first layer went from direct to im2col, `benches/NOTES.md`).
const MAX_DIRECT_PATCH_PACKED: usize = 4;

/// Whether `geo` is computed by these loops rather than by im2col + GEMM.
pub fn is_direct<T: Element>(geo: &ConvGeometry) -> bool {
    let most = if packed::packs::<T>() {
        MAX_DIRECT_PATCH_PACKED
    } else {
        MAX_DIRECT_PATCH
    };
    let dense = geo.groups == 1 && geo.patch_len() <= most;
    let depthwise = geo.groups > 1 && geo.in_group() == 1 && geo.out_group() == 1;
    dense || depthwise
}

/// Calls `f(row, tap, input_offset)` for every kernel tap of every output row in `rows` that
/// falls inside the input, where `input_offset` is the tap's first channel in `x` (the
/// samples of the chunk).
#[inline]
fn for_each_tap(geo: &ConvGeometry, rows: usize, mut f: impl FnMut(usize, usize, usize)) {
    let [h, w] = geo.input;
    let [kh, kw] = geo.kernel;
    let (positions, out_w) = (geo.positions(), geo.output[1]);
    for row in 0..rows {
        let (n, p) = (row / positions, row % positions);
        let (oh, ow) = (p / out_w, p % out_w);
        for i in 0..kh {
            let Some(ih) = source(oh, i, geo.strides[0], geo.dilation[0], geo.pad_before[0], h)
            else {
                continue;
            };
            for j in 0..kw {
                if let Some(iw) =
                    source(ow, j, geo.strides[1], geo.dilation[1], geo.pad_before[1], w)
                {
                    f(
                        row,
                        i * kw + j,
                        n * geo.input_len() + (ih * w + iw) * geo.in_channels,
                    );
                }
            }
        }
    }
}

/// `out = conv(x, kernel)` on the `rows` output rows of a chunk's samples.
pub fn forward<T: Element>(geo: &ConvGeometry, x: &[T], kernel: &[T], out: &mut [T], rows: usize) {
    let (c_in, c_out) = (geo.in_channels, geo.out_channels);
    out.fill(T::zero());
    let tap_len = geo.in_group() * c_out;
    for_each_tap(geo, rows, |row, tap, at| {
        let out_row = &mut out[row * c_out..(row + 1) * c_out];
        let xs = &x[at..at + c_in];
        let w = &kernel[tap * tap_len..(tap + 1) * tap_len];
        if geo.groups == 1 {
            for (&xv, w_row) in xs.iter().zip(w.chunks_exact(c_out)) {
                for (o, &wv) in out_row.iter_mut().zip(w_row) {
                    *o += xv * wv;
                }
            }
        } else {
            for ((o, &xv), &wv) in out_row.iter_mut().zip(xs).zip(w) {
                *o += xv * wv;
            }
        }
    });
}

/// `dx = conv_input_grad(dy, kernel)` on the `rows` output rows of a chunk's samples.
pub fn input_grad<T: Element>(
    geo: &ConvGeometry,
    dy: &[T],
    kernel: &[T],
    dx: &mut [T],
    rows: usize,
) {
    let (c_in, c_out) = (geo.in_channels, geo.out_channels);
    dx.fill(T::zero());
    let tap_len = geo.in_group() * c_out;
    for_each_tap(geo, rows, |row, tap, at| {
        let g = &dy[row * c_out..(row + 1) * c_out];
        let dxs = &mut dx[at..at + c_in];
        let w = &kernel[tap * tap_len..(tap + 1) * tap_len];
        if geo.groups == 1 {
            for (d, w_row) in dxs.iter_mut().zip(w.chunks_exact(c_out)) {
                let mut dot = T::zero();
                for (&wv, &gv) in w_row.iter().zip(g) {
                    dot += wv * gv;
                }
                *d += dot;
            }
        } else {
            for ((d, &wv), &gv) in dxs.iter_mut().zip(w).zip(g) {
                *d += wv * gv;
            }
        }
    });
}

/// Adds `conv_kernel_grad(x, dy)` of the `rows` output rows of a chunk's samples to
/// `dkernel` (Keras's layout).
pub fn add_kernel_grad<T: Element>(
    geo: &ConvGeometry,
    x: &[T],
    dy: &[T],
    dkernel: &mut [T],
    rows: usize,
) {
    let (c_in, c_out) = (geo.in_channels, geo.out_channels);
    let tap_len = geo.in_group() * c_out;
    for_each_tap(geo, rows, |row, tap, at| {
        let g = &dy[row * c_out..(row + 1) * c_out];
        let xs = &x[at..at + c_in];
        let dw = &mut dkernel[tap * tap_len..(tap + 1) * tap_len];
        if geo.groups == 1 {
            for (&xv, dw_row) in xs.iter().zip(dw.chunks_exact_mut(c_out)) {
                for (d, &gv) in dw_row.iter_mut().zip(g) {
                    *d += xv * gv;
                }
            }
        } else {
            for ((d, &xv), &gv) in dw.iter_mut().zip(xs).zip(g) {
                *d += xv * gv;
            }
        }
    });
}

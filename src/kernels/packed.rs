//! A GEMM whose right-hand matrix is packed once and then multiplied many times.
//!
//! matrixmultiply packs both operands again on every call. Where one matrix is the right-hand
//! side of many small products (the recurrent kernel at every time step of a sequence, each Dense
//! kernel at every batch of `predict`) that packing costs about a fifth of the time (see
//! `benches/NOTES.md`). Here the matrix is packed once into panels of 16 columns, stored row
//! after row, and a micro-kernel reads the left-hand matrix in place: 8 rows by two panels with
//! AVX-512, 6 rows by one panel with AVX2.
//!
//! Only f32 on x86-64 with AVX and FMA has a kernel here; elsewhere `PackedRhs` keeps the plain
//! view and every product goes to `gemm`. Each output value is one chain of fused multiply-adds
//! over the inner dimension in order, whichever kernel runs, and rows or panels are dealt to
//! threads in blocks fixed by the shape, so the result depends neither on the thread count nor
//! on the instruction set.

use std::any::TypeId;
use std::ops::Range;

use super::SharedMut;
use super::gemm::{MatMut, MatRef, PARALLEL_MIN_FLOPS, TARGET_BLOCKS, gemm};
use crate::dtype::Element;
use crate::parallel;

/// Columns per panel: two 8-lane AVX registers, or one 16-lane AVX-512 register.
const PANEL_COLS: usize = 16;
/// Rows of `a` that every panel multiplies before the next rows: 64 rows of up to a few
/// hundred values stay in L2 while the panels pass over them.
const ROW_BLOCK: usize = 64;

/// Whether products with right-hand sides of `T` run on the packed kernel here (f32 on x86-64
/// with AVX and FMA); elsewhere `PackedRhs` falls back to `gemm`.
pub fn packs<T: Element>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>() && simd::available()
}

/// A matrix packed for the micro-kernel: panel `p` holds columns `16p..16p+16`, row after row,
/// zero beyond the last column.
pub struct Panels {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Panels {
    /// The packed copy of `matrix`, or `None` where no kernel runs for `T` on this machine.
    pub fn pack<T: Element>(matrix: MatRef<'_, T>) -> Option<Panels> {
        if !packs::<T>() {
            return None;
        }
        let (k, n) = (matrix.rows(), matrix.cols());
        if k == 0 || n == 0 {
            // Nothing to pack: the plain GEMM handles empty products (zeros, or beta * c).
            return None;
        }
        let panels = n.div_ceil(PANEL_COLS);
        let mut data = vec![0.0f32; panels * k * PANEL_COLS];
        if matrix.strides().1 == 1 {
            // Rows of contiguous values (the output gradient of a convolution's block, packed
            // per block): whole row pieces copied, not one checked read per value.
            // SAFETY: `T` is `f32` (checked above), so the cast only renames the type.
            let matrix = unsafe { matrix.cast::<f32>() };
            let row_stride = matrix.strides().0;
            for (panel, out) in data.chunks_exact_mut(k * PANEL_COLS).enumerate() {
                let col0 = panel * PANEL_COLS;
                let cols = PANEL_COLS.min(n - col0);
                for (row, out_row) in out.chunks_exact_mut(PANEL_COLS).enumerate() {
                    // SAFETY: `row < k` and `col0 + cols <= n`: inside the view.
                    let values = unsafe {
                        std::slice::from_raw_parts(
                            matrix
                                .as_ptr()
                                .offset(row as isize * row_stride + col0 as isize),
                            cols,
                        )
                    };
                    out_row[..cols].copy_from_slice(values);
                }
            }
            return Some(Panels {
                rows: k,
                cols: n,
                data,
            });
        }
        for (panel, out) in data.chunks_exact_mut(k * PANEL_COLS).enumerate() {
            let col0 = panel * PANEL_COLS;
            let cols = PANEL_COLS.min(n - col0);
            for (row, out_row) in out.chunks_exact_mut(PANEL_COLS).enumerate() {
                for (j, value) in out_row[..cols].iter_mut().enumerate() {
                    *value = matrix.get(row, col0 + j).as_f64() as f32;
                }
            }
        }
        Some(Panels {
            rows: k,
            cols: n,
            data,
        })
    }
}

/// The right-hand side of repeated products: the matrix, and its panels where a kernel runs here.
pub struct PackedRhs<'a, T> {
    matrix: MatRef<'a, T>,
    panels: Option<Panels>,
}

impl<'a, T: Element> PackedRhs<'a, T> {
    pub fn new(matrix: MatRef<'a, T>) -> Self {
        PackedRhs {
            matrix,
            panels: Panels::pack(matrix),
        }
    }
}

/// `c = a @ b + beta * c`, with `b` packed once for many calls.
pub fn gemm_packed<T: Element>(a: MatRef<'_, T>, b: &PackedRhs<'_, T>, beta: T, c: MatMut<'_, T>) {
    gemm_with_panels(a, b.matrix, b.panels.as_ref(), beta, c);
}

/// `c = a @ b + beta * c`, where `panels` (when given) is `b` packed. With `beta == 0` the old
/// contents of `c` are ignored.
pub fn gemm_with_panels<T: Element>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    panels: Option<&Panels>,
    beta: T,
    c: MatMut<'_, T>,
) {
    // Panels are only ever f32; any other type takes the plain path.
    let panels = panels.filter(|_| TypeId::of::<T>() == TypeId::of::<f32>());
    let Some(panels) = panels else {
        gemm(T::one(), a, b, beta, c);
        return;
    };
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    assert!(
        (k, n) == (b.rows(), b.cols())
            && (k, n) == (panels.rows, panels.cols)
            && (c.rows(), c.cols()) == (m, n),
        "gemm_with_panels: ({m}x{k}) @ ({}x{}) packed as ({}x{}) into ({}x{})",
        b.rows(),
        b.cols(),
        panels.rows,
        panels.cols,
        c.rows(),
        c.cols()
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: `T` is `f32` (checked by type id above), so the casts only rename the type.
    let (a, c, beta) = unsafe { (a.cast::<f32>(), c.cast::<f32>(), beta.as_f64() as f32) };
    multiply_panels(simd::Kernel::detect(), a, panels, beta, c);
}

/// `c = a @ panels + beta * c` through `kernel`, the shapes already checked and not empty.
fn multiply_panels(
    kernel: simd::Kernel,
    a: MatRef<'_, f32>,
    panels: &Panels,
    beta: f32,
    c: MatMut<'_, f32>,
) {
    let (m, k, n) = (a.rows(), panels.rows, panels.cols);
    let out = SharedMut(c.as_ptr());
    let c_strides = c.strides();
    let panel_count = n.div_ceil(PANEL_COLS);
    let tile_rows = kernel.tile_rows();
    // All panels pass over one block of rows before the next block starts, so that a tall `a`
    // is read once, block by block from cache, rather than once per panel from memory.
    let run = |rows: Range<usize>, panel_range: Range<usize>| {
        for block0 in rows.clone().step_by(ROW_BLOCK) {
            let block_end = (block0 + ROW_BLOCK).min(rows.end);
            let mut panel = panel_range.start;
            while panel < panel_range.end {
                let group = kernel.panels_per_tile().min(panel_range.end - panel);
                let col0 = panel * PANEL_COLS;
                let cols = (group * PANEL_COLS).min(n - col0);
                let packed = &panels.data[panel * k * PANEL_COLS..(panel + group) * k * PANEL_COLS];
                for row0 in (block0..block_end).step_by(tile_rows) {
                    let rows = tile_rows.min(block_end - row0);
                    // SAFETY: the tile lies inside `a` and `c` (shapes checked by the caller);
                    // the tiles of different calls of `run` never overlap in `c`, and `c` is a
                    // unique borrow.
                    unsafe {
                        let tile_out = out
                            .get()
                            .offset(row0 as isize * c_strides.0 + col0 as isize * c_strides.1);
                        kernel.tile(
                            rows,
                            cols,
                            a.sub_rows(row0),
                            packed,
                            group,
                            tile_out,
                            c_strides,
                            beta,
                        );
                    }
                }
                panel += group;
            }
        }
    };
    let flops = m.saturating_mul(n).saturating_mul(k.max(1));
    if flops < PARALLEL_MIN_FLOPS || parallel::num_threads() == 1 {
        run(0..m, 0..panel_count);
    } else if m > n {
        // Blocks of whole tiles of rows, fixed by the shape: every output value is computed
        // the same way on any thread count.
        let per_block = m.div_ceil(tile_rows).div_ceil(TARGET_BLOCKS) * tile_rows;
        parallel::for_each_chunk(m.div_ceil(per_block), |i| {
            let first = i * per_block;
            run(first..(first + per_block).min(m), 0..panel_count);
        });
    } else if panel_count >= 2 {
        let per_block = panel_count.div_ceil(TARGET_BLOCKS);
        parallel::for_each_chunk(panel_count.div_ceil(per_block), |i| {
            let first = i * per_block;
            run(0..m, first..(first + per_block).min(panel_count));
        });
    } else {
        run(0..m, 0..panel_count);
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::sync::OnceLock;

    use crate::kernels::gemm::MatRef;

    pub fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE
            .get_or_init(|| is_x86_feature_detected!("avx") && is_x86_feature_detected!("fma"))
    }

    /// The micro-kernels. AVX-512's 32 registers hold a tile of 8 rows by two panels, which
    /// needs half the instructions per multiply-add of AVX2's 6 rows by one panel.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Kernel {
        Avx2,
        Avx512,
    }

    impl Kernel {
        /// The widest kernel this machine runs; `available()` must be true.
        pub fn detect() -> Kernel {
            static AVX512: OnceLock<bool> = OnceLock::new();
            if *AVX512.get_or_init(|| is_x86_feature_detected!("avx512f")) {
                Kernel::Avx512
            } else {
                Kernel::Avx2
            }
        }

        pub fn tile_rows(self) -> usize {
            match self {
                Kernel::Avx2 => avx2::TILE_ROWS,
                Kernel::Avx512 => avx512::TILE_ROWS,
            }
        }

        pub fn panels_per_tile(self) -> usize {
            match self {
                Kernel::Avx2 => 1,
                Kernel::Avx512 => avx512::TILE_PANELS,
            }
        }

        /// One tile of `rows x cols` of `c = a @ panels + beta * c`, where `packed` holds
        /// `group` panels one after another.
        ///
        /// # Safety
        /// This kernel must run on this machine (`detect()` chose it or a narrower one);
        /// `rows <= tile_rows()`, `group <= panels_per_tile()` and `cols <= 16 * group`; `a` must
        /// have `rows` readable rows of `packed.len() / (16 * group)` values; `c` must be valid
        /// for `rows x cols` writes with `strides`.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn tile(
            self,
            rows: usize,
            cols: usize,
            a: MatRef<'_, f32>,
            packed: &[f32],
            group: usize,
            c: *mut f32,
            strides: (isize, isize),
            beta: f32,
        ) {
            // SAFETY: forwarded from the caller.
            unsafe {
                match self {
                    Kernel::Avx2 => {
                        debug_assert_eq!(group, 1);
                        avx2::tile(rows, cols, a, packed, c, strides, beta)
                    }
                    Kernel::Avx512 => avx512::tile(rows, cols, a, packed, group, c, strides, beta),
                }
            }
        }
    }

    /// `out[j * col_stride] = values[j] + beta * out[j * col_stride]` (just `values[j]` when
    /// `beta == 0`): the write-back of a tile row whose columns are not contiguous.
    ///
    /// # Safety
    /// `out` must be valid for `values.len()` writes `col_stride` apart.
    unsafe fn store_strided(values: &[f32], out: *mut f32, col_stride: isize, beta: f32) {
        for (j, &value) in values.iter().enumerate() {
            // SAFETY: per the contract.
            unsafe {
                let out = out.offset(j as isize * col_stride);
                // Rust never fuses `value + beta * old`, so every path rounds alike.
                *out = if beta == 0.0 {
                    value
                } else {
                    value + beta * *out
                };
            }
        }
    }

    mod avx2 {
        use std::arch::x86_64::*;

        use crate::kernels::gemm::MatRef;
        use crate::kernels::packed::PANEL_COLS;

        /// 6 x 2 accumulators, 2 panel registers and a broadcast fill 15 of the 16 registers.
        pub const TILE_ROWS: usize = 6;

        /// # Safety
        /// See `Kernel::tile`, with one panel.
        pub unsafe fn tile(
            rows: usize,
            cols: usize,
            a: MatRef<'_, f32>,
            panel: &[f32],
            c: *mut f32,
            strides: (isize, isize),
            beta: f32,
        ) {
            // SAFETY: forwarded from the caller; the row count picks a kernel of that many rows.
            unsafe {
                match rows {
                    6 => tile_rows::<6>(cols, a, panel, c, strides, beta),
                    5 => tile_rows::<5>(cols, a, panel, c, strides, beta),
                    4 => tile_rows::<4>(cols, a, panel, c, strides, beta),
                    3 => tile_rows::<3>(cols, a, panel, c, strides, beta),
                    2 => tile_rows::<2>(cols, a, panel, c, strides, beta),
                    _ => tile_rows::<1>(cols, a, panel, c, strides, beta),
                }
            }
        }

        #[target_feature(enable = "avx,fma")]
        unsafe fn tile_rows<const ROWS: usize>(
            cols: usize,
            a: MatRef<'_, f32>,
            panel: &[f32],
            c: *mut f32,
            (row_stride, col_stride): (isize, isize),
            beta: f32,
        ) {
            debug_assert!(ROWS <= TILE_ROWS && cols <= PANEL_COLS);
            let k = panel.len() / PANEL_COLS;
            let (a_row_stride, a_col_stride) = a.strides();
            let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
            // SAFETY: per the contract, every `a` offset below is inside its `k` columns and every
            // panel load inside `panel`; `c` is valid for the tile.
            unsafe {
                let a_ptr = a.as_ptr();
                for (p, panel_row) in panel.chunks_exact(PANEL_COLS).enumerate() {
                    let left = _mm256_loadu_ps(panel_row.as_ptr());
                    let right = _mm256_loadu_ps(panel_row.as_ptr().add(8));
                    let column = p as isize * a_col_stride;
                    for (i, acc_row) in acc.iter_mut().enumerate() {
                        let value =
                            _mm256_set1_ps(*a_ptr.offset(i as isize * a_row_stride + column));
                        acc_row[0] = _mm256_fmadd_ps(value, left, acc_row[0]);
                        acc_row[1] = _mm256_fmadd_ps(value, right, acc_row[1]);
                    }
                }
                debug_assert_eq!(k, panel.chunks_exact(PANEL_COLS).len());
                if cols == PANEL_COLS && col_stride == 1 {
                    // A whole panel of contiguous columns: write the registers straight out. The
                    // multiply and the add stay separate, rounding as the general path below does.
                    let beta_v = _mm256_set1_ps(beta);
                    for (i, acc_row) in acc.iter().enumerate() {
                        let out = c.offset(i as isize * row_stride);
                        let (left, right) = if beta == 0.0 {
                            (acc_row[0], acc_row[1])
                        } else {
                            (
                                _mm256_add_ps(
                                    acc_row[0],
                                    _mm256_mul_ps(beta_v, _mm256_loadu_ps(out)),
                                ),
                                _mm256_add_ps(
                                    acc_row[1],
                                    _mm256_mul_ps(beta_v, _mm256_loadu_ps(out.add(8))),
                                ),
                            )
                        };
                        _mm256_storeu_ps(out, left);
                        _mm256_storeu_ps(out.add(8), right);
                    }
                    return;
                }
                let mut values = [0.0f32; PANEL_COLS];
                for (i, acc_row) in acc.iter().enumerate() {
                    _mm256_storeu_ps(values.as_mut_ptr(), acc_row[0]);
                    _mm256_storeu_ps(values.as_mut_ptr().add(8), acc_row[1]);
                    let out_row = c.offset(i as isize * row_stride);
                    super::store_strided(&values[..cols], out_row, col_stride, beta);
                }
            }
        }
    }

    mod avx512 {
        use std::arch::x86_64::*;

        use crate::kernels::gemm::MatRef;
        use crate::kernels::packed::PANEL_COLS;

        /// 8 x 2 accumulators, 2 panel registers and a broadcast: 19 of the 32 registers. Eight
        /// rows divide the usual batch sizes, so no tile of a 32- or 64-row batch runs short.
        pub const TILE_ROWS: usize = 8;
        pub const TILE_PANELS: usize = 2;

        /// # Safety
        /// See `Kernel::tile`.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn tile(
            rows: usize,
            cols: usize,
            a: MatRef<'_, f32>,
            packed: &[f32],
            group: usize,
            c: *mut f32,
            strides: (isize, isize),
            beta: f32,
        ) {
            // SAFETY: forwarded from the caller; the row and panel counts pick a kernel of that
            // shape.
            unsafe {
                macro_rules! by_rows {
                    ($panels:literal) => {
                        match rows {
                            8 => tile_rows::<8, $panels>(cols, a, packed, c, strides, beta),
                            7 => tile_rows::<7, $panels>(cols, a, packed, c, strides, beta),
                            6 => tile_rows::<6, $panels>(cols, a, packed, c, strides, beta),
                            5 => tile_rows::<5, $panels>(cols, a, packed, c, strides, beta),
                            4 => tile_rows::<4, $panels>(cols, a, packed, c, strides, beta),
                            3 => tile_rows::<3, $panels>(cols, a, packed, c, strides, beta),
                            2 => tile_rows::<2, $panels>(cols, a, packed, c, strides, beta),
                            _ => tile_rows::<1, $panels>(cols, a, packed, c, strides, beta),
                        }
                    };
                }
                if group == 2 { by_rows!(2) } else { by_rows!(1) }
            }
        }

        #[target_feature(enable = "avx512f")]
        unsafe fn tile_rows<const ROWS: usize, const PANELS: usize>(
            cols: usize,
            a: MatRef<'_, f32>,
            packed: &[f32],
            c: *mut f32,
            (row_stride, col_stride): (isize, isize),
            beta: f32,
        ) {
            debug_assert!(ROWS <= TILE_ROWS && PANELS <= TILE_PANELS);
            debug_assert!(cols <= PANELS * PANEL_COLS);
            let k = packed.len() / (PANELS * PANEL_COLS);
            let (a_row_stride, a_col_stride) = a.strides();
            let mut acc = [[_mm512_setzero_ps(); PANELS]; ROWS];
            // SAFETY: per the contract, every `a` offset below is inside its `k` columns, every
            // panel load inside `packed`, and `c` is valid for the tile.
            unsafe {
                let a_rows: [*const f32; ROWS] =
                    std::array::from_fn(|i| a.as_ptr().offset(i as isize * a_row_stride));
                let panel_starts: [*const f32; PANELS] =
                    std::array::from_fn(|panel| packed.as_ptr().add(panel * k * PANEL_COLS));
                for p in 0..k {
                    let b: [__m512; PANELS] = std::array::from_fn(|panel| {
                        _mm512_loadu_ps(panel_starts[panel].add(p * PANEL_COLS))
                    });
                    let column = p as isize * a_col_stride;
                    for (row, acc_row) in a_rows.iter().zip(acc.iter_mut()) {
                        let value = _mm512_set1_ps(*row.offset(column));
                        for (acc_value, b_value) in acc_row.iter_mut().zip(b) {
                            *acc_value = _mm512_fmadd_ps(value, b_value, *acc_value);
                        }
                    }
                }
                let beta_v = _mm512_set1_ps(beta);
                for (i, acc_row) in acc.iter().enumerate() {
                    let out_row = c.offset(i as isize * row_stride);
                    for (panel, &value) in acc_row.iter().enumerate() {
                        let col0 = panel * PANEL_COLS;
                        let width = cols.saturating_sub(col0).min(PANEL_COLS);
                        if width == 0 {
                            break;
                        }
                        if col_stride == 1 {
                            // The multiply and the add stay separate, rounding as the AVX2
                            // kernel and the scalar path below do.
                            let mask: __mmask16 = (((1u32 << width) - 1) & 0xffff) as u16;
                            let out = out_row.add(col0);
                            let value = if beta == 0.0 {
                                value
                            } else {
                                let old = _mm512_maskz_loadu_ps(mask, out);
                                _mm512_add_ps(value, _mm512_mul_ps(beta_v, old))
                            };
                            _mm512_mask_storeu_ps(out, mask, value);
                        } else {
                            let mut values = [0.0f32; PANEL_COLS];
                            _mm512_storeu_ps(values.as_mut_ptr(), value);
                            let out = out_row.offset(col0 as isize * col_stride);
                            super::store_strided(&values[..width], out, col_stride, beta);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use crate::kernels::gemm::MatRef;

    pub fn available() -> bool {
        false
    }

    /// No kernel runs here: without `available()` no matrix is packed, so `tile` is never
    /// reached.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Kernel;

    impl Kernel {
        pub fn detect() -> Kernel {
            Kernel
        }

        pub fn tile_rows(self) -> usize {
            1
        }

        pub fn panels_per_tile(self) -> usize {
            1
        }

        /// # Safety
        /// Never called: see the type.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn tile(
            self,
            _rows: usize,
            _cols: usize,
            _a: MatRef<'_, f32>,
            _packed: &[f32],
            _group: usize,
            _c: *mut f32,
            _strides: (isize, isize),
            _beta: f32,
        ) {
            unreachable!("no packed kernel on this architecture")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7 + seed * 13) % 23) as f32 * 0.125 - 1.5)
            .collect()
    }

    /// Every row count of the last tile, a partial last panel, `beta` of 0 and 1, a transposed
    /// right-hand side and a column-strided output, against matrixmultiply (exact: the values
    /// are multiples of 1/8 small enough that every sum is exact in f32).
    #[test]
    fn matches_gemm_on_ragged_shapes() {
        for (m, k, n) in [
            (1, 1, 1),
            (7, 5, 17),
            (13, 33, 40),
            (64, 128, 512),
            (32, 9, 3),
            (300, 33, 40),
        ] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            for beta in [0.0f32, 1.0] {
                let mut expected = values(m * n, 3);
                gemm(
                    1.0,
                    MatRef::row_major(&a, m, k),
                    MatRef::row_major(&b, k, n),
                    beta,
                    MatMut::row_major(&mut expected, m, n),
                );
                for rhs in [
                    MatRef::row_major(&b, k, n),
                    MatRef::row_major(&bt, n, k).t(),
                ] {
                    let packed = PackedRhs::new(rhs);
                    let mut c = values(m * n, 3);
                    gemm_packed(
                        MatRef::row_major(&a, m, k),
                        &packed,
                        beta,
                        MatMut::row_major(&mut c, m, n),
                    );
                    assert_eq!(c, expected, "{m}x{k}x{n}, beta {beta}");

                    // The same product written through a transposed (column-strided) view.
                    let start = values(m * n, 3);
                    let mut ct: Vec<f32> = (0..m * n).map(|i| start[(i % m) * n + i / m]).collect();
                    gemm_packed(
                        MatRef::row_major(&a, m, k),
                        &packed,
                        beta,
                        MatMut::row_major(&mut ct, n, m).t(),
                    );
                    let back: Vec<f32> = (0..m * n).map(|i| ct[(i % n) * m + i / n]).collect();
                    assert_eq!(back, expected, "{m}x{k}x{n}, beta {beta}, strided output");
                }
            }
        }
    }

    /// A wide product (split by panels) and a tall one (split by rows, several row blocks).
    #[test]
    fn same_bits_on_any_thread_count() {
        for (m, k, n) in [(64, 300, 200), (700, 90, 40)] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let packed = PackedRhs::new(MatRef::row_major(&b, k, n));
            let run = |threads: usize| {
                parallel::set_num_threads(threads).unwrap();
                let mut c = vec![0.0f32; m * n];
                gemm_packed(
                    MatRef::row_major(&a, m, k),
                    &packed,
                    0.0,
                    MatMut::row_major(&mut c, m, n),
                );
                c
            };
            let (one, two, three) = (run(1), run(2), run(3));
            parallel::set_num_threads(2).unwrap();
            assert_eq!(one, two, "{m}x{k}x{n}");
            assert_eq!(one, three, "{m}x{k}x{n}");
        }
    }

    /// Both kernels run every output value as the same chain of multiply-adds, so they agree
    /// bit for bit: on ragged shapes, `beta` of 0, 1 and 0.3 (whose product rounds), and an
    /// output written by columns.
    /// Only machines with AVX-512 run both; elsewhere there is nothing to compare.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn both_kernels_give_the_same_bits() {
        if !simd::available() || simd::Kernel::detect() != simd::Kernel::Avx512 {
            return;
        }
        for (m, k, n) in [
            (1, 1, 1),
            (9, 7, 33),
            (32, 784, 512),
            (64, 128, 10),
            (17, 300, 48),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let panels = Panels::pack(MatRef::row_major(&b, k, n)).unwrap();
            for beta in [0.0f32, 1.0, 0.3] {
                for transposed_out in [false, true] {
                    let start: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.05).cos()).collect();
                    let run = |kernel| {
                        let mut c = start.clone();
                        let out = if transposed_out {
                            MatMut::row_major(&mut c, n, m).t()
                        } else {
                            MatMut::row_major(&mut c, m, n)
                        };
                        multiply_panels(kernel, MatRef::row_major(&a, m, k), &panels, beta, out);
                        c
                    };
                    assert_eq!(
                        run(simd::Kernel::Avx2),
                        run(simd::Kernel::Avx512),
                        "{m}x{k}x{n}, beta {beta}, transposed output {transposed_out}"
                    );
                }
            }
        }
    }

    #[test]
    fn f64_goes_through_gemm() {
        let a = [1.0f64, 2.0, 3.0, 4.0];
        let b = [0.5f64, -1.0, 2.0, 0.25];
        let packed = PackedRhs::new(MatRef::row_major(&b, 2, 2));
        assert!(packed.panels.is_none());
        let mut c = [0.0f64; 4];
        gemm_packed(
            MatRef::row_major(&a, 2, 2),
            &packed,
            0.0,
            MatMut::row_major(&mut c, 2, 2),
        );
        assert_eq!(c, [4.5, -0.5, 9.5, -2.0]);
    }
}

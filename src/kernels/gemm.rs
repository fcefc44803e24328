//! Matrix multiplication on strided views, split across the thread pool.
//!
//! matrixmultiply is the GEMM. Its own threading splits rows only when there are many, so at the
//! batch sizes of training (32 to 256 rows) it would leave the second core idle; instead each
//! call here is cut into fixed blocks of output columns (or rows, when the columns are few), and
//! every block is one single-threaded matrixmultiply call. A block's values do not depend on how
//! blocks are dealt to threads, so the result is the same on any thread count.

use std::marker::PhantomData;

use super::SharedMut;
use crate::dtype::Element;
use crate::parallel;

/// Below this many multiply-adds a GEMM stays on the calling thread.
pub(super) const PARALLEL_MIN_FLOPS: usize = 1 << 18;
/// The narrowest block of columns worth a task of its own.
const MIN_BLOCK_COLS: usize = 32;
/// The shortest block of rows worth a task of its own.
const MIN_BLOCK_ROWS: usize = 64;
/// How many blocks a large GEMM is cut into (a multiple of the usual 2 threads, and enough to
/// keep 4 busy).
pub(super) const TARGET_BLOCKS: usize = 4;

/// A read-only strided matrix view.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
    _borrow: PhantomData<&'a [T]>,
}

/// A writable strided matrix view.
pub struct MatMut<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `rows x cols` matrix over `data`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "matrix view: length does not match shape"
        );
        MatRef {
            ptr: data.as_ptr(),
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
            _borrow: PhantomData,
        }
    }

    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        MatRef {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            _borrow: PhantomData,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn strides(&self) -> (isize, isize) {
        (self.row_stride, self.col_stride)
    }

    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The value at (`row`, `col`); panics outside the view.
    pub fn get(&self, row: usize, col: usize) -> T
    where
        T: Copy,
    {
        assert!(
            row < self.rows && col < self.cols,
            "matrix view: index out of range"
        );
        // SAFETY: inside the view, checked above.
        unsafe { *self.offset(row, col) }
    }

    /// The rows from `first` on, as a view.
    pub fn sub_rows(self, first: usize) -> Self {
        assert!(first <= self.rows, "matrix view: row out of range");
        MatRef {
            ptr: self.offset(first, 0),
            rows: self.rows - first,
            ..self
        }
    }

    /// The same view with another element type of the same size.
    ///
    /// # Safety
    /// `U` must have the layout of `T` (used where `T` is known to be `U`).
    pub(super) unsafe fn cast<U>(self) -> MatRef<'a, U> {
        MatRef {
            ptr: self.ptr.cast(),
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
            _borrow: PhantomData,
        }
    }

    fn offset(&self, row: usize, col: usize) -> *const T {
        // SAFETY: callers stay within the view, which lies inside the borrowed slice.
        unsafe {
            self.ptr
                .offset(row as isize * self.row_stride + col as isize * self.col_stride)
        }
    }
}

impl<'a, T> MatMut<'a, T> {
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "matrix view: length does not match shape"
        );
        MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
            _borrow: PhantomData,
        }
    }
}

impl<'a, T> MatMut<'a, T> {
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn strides(&self) -> (isize, isize) {
        (self.row_stride, self.col_stride)
    }

    pub fn as_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The transposed view of the same memory.
    pub fn t(self) -> Self {
        MatMut {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// The same view with another element type of the same size.
    ///
    /// # Safety
    /// `U` must have the layout of `T` (used where `T` is known to be `U`).
    pub(super) unsafe fn cast<U>(self) -> MatMut<'a, U> {
        MatMut {
            ptr: self.ptr.cast(),
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
            _borrow: PhantomData,
        }
    }
}

// SAFETY: the views are plain borrows of slices of `Send + Sync` elements.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}

/// `c = alpha * a @ b + beta * c`. With `beta == 0` the old contents of `c` are ignored.
pub fn gemm<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    assert!(
        a.cols == b.rows && a.rows == c.rows && b.cols == c.cols,
        "gemm: ({}x{}) @ ({}x{}) into ({}x{})",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.rows,
        c.cols
    );
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    let block = |row0: usize, rows: usize, col0: usize, cols: usize, out: SharedMut<T>| {
        // SAFETY: the block lies inside `a`, `b` and `c`, whose shapes were checked above; blocks
        // never overlap in `c`, and `c` does not alias the inputs (it is a unique borrow).
        unsafe {
            let c_block = out
                .get()
                .offset(row0 as isize * c.row_stride + col0 as isize * c.col_stride);
            if k == 0 {
                scale_block(c_block, rows, cols, c.row_stride, c.col_stride, beta);
                return;
            }
            T::gemm_raw(
                rows,
                k,
                cols,
                alpha,
                a.offset(row0, 0),
                a.row_stride,
                a.col_stride,
                b.offset(0, col0),
                b.row_stride,
                b.col_stride,
                beta,
                c_block,
                c.row_stride,
                c.col_stride,
            );
        }
    };
    let out = SharedMut(c.ptr);
    let flops = m.saturating_mul(n).saturating_mul(k.max(1));
    // Every block packs its own copy of the operand it shares with the others: a split by
    // columns packs all of `a` (m x k) once per block, a split by rows all of `b` (k x n). Cut
    // the longer side, so the shared operand is the smaller one.
    let split_rows = m >= 2 * MIN_BLOCK_ROWS && (m > n || n < 2 * MIN_BLOCK_COLS);
    if flops < PARALLEL_MIN_FLOPS || parallel::num_threads() == 1 {
        block(0, m, 0, n, out);
    } else if split_rows {
        let height = block_len(m, MIN_BLOCK_ROWS);
        parallel::for_each_chunk(m.div_ceil(height), |i| {
            let row0 = i * height;
            block(row0, height.min(m - row0), 0, n, out);
        });
    } else if n >= 2 * MIN_BLOCK_COLS {
        let width = block_len(n, MIN_BLOCK_COLS);
        parallel::for_each_chunk(n.div_ceil(width), |i| {
            let col0 = i * width;
            block(0, m, col0, width.min(n - col0), out);
        });
    } else {
        block(0, m, 0, n, out);
    }
}

/// The length of the blocks a dimension of `len` is cut into: about `TARGET_BLOCKS` blocks, a
/// multiple of 16 (whole micro-kernel tiles), at least `min`. A function of `len` alone.
fn block_len(len: usize, min: usize) -> usize {
    len.div_ceil(TARGET_BLOCKS).next_multiple_of(16).max(min)
}

/// `c *= beta` on a block (the `k == 0` case, which matrixmultiply does not define).
///
/// # Safety
/// The block must be valid for writes.
unsafe fn scale_block<T: Element>(
    c: *mut T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
    beta: T,
) {
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: inside the block, per the contract.
            unsafe {
                let p = c.offset(i as isize * row_stride + j as isize * col_stride);
                *p = if beta == T::zero() {
                    T::zero()
                } else {
                    *p * beta
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_including_transposed_views() {
        let (m, k, n) = (70, 33, 130);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 5) % 11) as f64 - 5.0).collect();
        let expected = naive(&a, &b, m, k, n);

        let mut c = vec![0.0; m * n];
        gemm(
            1.0,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&b, k, n),
            0.0,
            MatMut::row_major(&mut c, m, n),
        );
        assert_eq!(c, expected);

        // (b^T)^T: the same product through transposed strides.
        let bt: Vec<f64> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut c2 = vec![1.0; m * n];
        gemm(
            1.0,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&bt, n, k).t(),
            1.0,
            MatMut::row_major(&mut c2, m, n),
        );
        let shifted: Vec<f64> = expected.iter().map(|v| v + 1.0).collect();
        assert_eq!(c2, shifted);
    }

    #[test]
    fn tall_products_split_by_rows_match_the_naive_product_on_any_thread_count() {
        // More rows than columns: the blocks are rows, each sharing all of b.
        let (m, k, n) = (300, 20, 70);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 5) % 11) as f64 - 5.0).collect();
        let expected = naive(&a, &b, m, k, n);
        for threads in [1, 2, 3] {
            crate::parallel::set_num_threads(threads).unwrap();
            let mut c = vec![0.0; m * n];
            gemm(
                1.0,
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&b, k, n),
                0.0,
                MatMut::row_major(&mut c, m, n),
            );
            assert_eq!(c, expected, "{threads} threads");
        }
        crate::parallel::set_num_threads(2).unwrap();
    }

    #[test]
    fn empty_inner_dimension_scales_output() {
        let mut c = vec![2.0f32; 6];
        gemm(
            1.0,
            MatRef::row_major(&[], 2, 0),
            MatRef::row_major(&[], 0, 3),
            0.5,
            MatMut::row_major(&mut c, 2, 3),
        );
        assert_eq!(c, vec![1.0; 6]);
    }
}

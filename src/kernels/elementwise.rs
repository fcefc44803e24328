//! Elementwise passes over whole arrays.

use std::mem::MaybeUninit;

use ndarray::{ArrayD, ArrayRefD};

use super::par_chunks_mut;
use crate::dtype::Element;

/// `a += b` for arrays of the same shape, both in standard layout.
pub fn add_assign<T: Element>(a: &mut ArrayRefD<T>, b: &ArrayRefD<T>) {
    match (a.as_slice_mut(), b.as_slice()) {
        (Some(a), Some(b)) => par_chunks_mut(a, |offset, chunk| {
            let b = &b[offset..offset + chunk.len()];
            for (x, &y) in chunk.iter_mut().zip(b) {
                *x += y;
            }
        }),
        _ => a.zip_mut_with(b, |x, &y| *x += y),
    }
}

/// Applies `f` to every element in place.
pub fn map_in_place<T: Element>(a: &mut ArrayRefD<T>, f: impl Fn(T) -> T + Sync) {
    match a.as_slice_mut() {
        Some(slice) => par_chunks_mut(slice, |_, chunk| {
            for x in chunk {
                *x = f(*x);
            }
        }),
        None => a.mapv_inplace(f),
    }
}

/// A new array of `f(x)` for every element of `a`.
pub fn map<T: Element>(a: &ArrayRefD<T>, f: impl Fn(T) -> T + Sync) -> ArrayD<T> {
    let Some(values) = a.as_slice() else {
        let mut out = a.to_owned();
        map_in_place(&mut out, f);
        return out;
    };
    // Written once from the input rather than copied and then mapped: one pass, not two.
    let out = map_slices(values.len(), |offset, chunk| {
        let values = &values[offset..offset + chunk.len()];
        for (o, &v) in chunk.iter_mut().zip(values) {
            o.write(f(v));
        }
    });
    ArrayD::from_shape_vec(a.raw_dim(), out).expect("the shape of the input")
}

/// A new vector of `len` values, each chunk `(offset, chunk)` written by `fill`, which must
/// write every element of its chunk; in parallel when large.
pub fn map_slices<T: Element>(
    len: usize,
    fill: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync,
) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    par_chunks_mut(&mut out.spare_capacity_mut()[..len], fill);
    // SAFETY: `fill` wrote every element of every chunk, and the chunks cover `0..len`.
    unsafe { out.set_len(len) };
    out
}

/// `out[i] = f(out[i], other[i])` for arrays of the same shape.
pub fn zip_in_place<T: Element>(
    out: &mut ArrayRefD<T>,
    other: &ArrayRefD<T>,
    f: impl Fn(T, T) -> T + Sync,
) {
    match (out.as_slice_mut(), other.as_slice()) {
        (Some(out), Some(other)) => par_chunks_mut(out, |offset, chunk| {
            let other = &other[offset..offset + chunk.len()];
            for (x, &y) in chunk.iter_mut().zip(other) {
                *x = f(*x, y);
            }
        }),
        _ => out.zip_mut_with(other, |x, &y| *x = f(*x, y)),
    }
}

/// Columns per task when a column sum runs in parallel.
const COLUMN_SUM_BLOCK: usize = 64;

/// `dest = column sums of matrix` (or `dest +=` them, with `accumulate`), where `matrix` holds
/// rows of `dest.len()` values. Each column is added row after row in order, and blocks of
/// columns go to threads when the matrix is large, so the result is the same on any thread count.
pub fn column_sums<T: Element>(matrix: &[T], dest: &mut [T], accumulate: bool) {
    let cols = dest.len();
    if cols == 0 {
        return;
    }
    assert_eq!(
        matrix.len() % cols,
        0,
        "column_sums: {} values are not rows of {cols}",
        matrix.len()
    );
    let sum_block = |first: usize, block: &mut [T]| {
        if !accumulate {
            block.fill(T::zero());
        }
        let len = block.len();
        for row in matrix.chunks_exact(cols) {
            for (d, &v) in block.iter_mut().zip(&row[first..first + len]) {
                *d += v;
            }
        }
    };
    if matrix.len() < super::PARALLEL_MIN_ELEMENTS || cols < 2 * COLUMN_SUM_BLOCK {
        sum_block(0, dest);
        return;
    }
    let out = super::SharedMut(dest.as_mut_ptr());
    crate::parallel::for_each_chunk(cols.div_ceil(COLUMN_SUM_BLOCK), |i| {
        let first = i * COLUMN_SUM_BLOCK;
        let len = COLUMN_SUM_BLOCK.min(cols - first);
        // SAFETY: blocks of columns are disjoint and inside `dest`, which is borrowed mutably
        // for the whole call.
        let block = unsafe { std::slice::from_raw_parts_mut(out.get().add(first), len) };
        sum_block(first, block);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_sums_add_each_column_in_row_order_on_any_thread_count() {
        let (rows, cols) = (700, 200);
        let matrix: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37) % 101) as f32 * 0.013 - 0.6)
            .collect();
        let sums_from = |start: &[f32]| -> Vec<f32> {
            (0..cols)
                .map(|c| (0..rows).fold(start[c], |acc, r| acc + matrix[r * cols + c]))
                .collect()
        };
        let expected = sums_from(&[0.0; 200]);
        let accumulated = sums_from(&expected);
        for threads in [1, 2, 3] {
            crate::parallel::set_num_threads(threads).unwrap();
            let mut sums = vec![5.0f32; cols];
            column_sums(&matrix, &mut sums, false);
            assert_eq!(sums, expected, "{threads} threads");
            column_sums(&matrix, &mut sums, true);
            assert_eq!(sums, accumulated, "{threads} threads, accumulating");
        }
        crate::parallel::set_num_threads(2).unwrap();
        let mut small = [1.0f64, 1.0];
        column_sums(&[1.0, 2.0, 3.0, 4.0], &mut small, true);
        assert_eq!(small, [5.0, 7.0]);
    }
}

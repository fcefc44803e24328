//! Elementwise passes over whole arrays.

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
    let mut out = a.to_owned();
    map_in_place(&mut out, f);
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

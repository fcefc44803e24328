//! Global pooling over every spatial axis, channels last, as Keras's `GlobalMaxPooling1D/2D/3D`
//! and `GlobalAveragePooling1D/2D/3D` compute them:
//!
//! `max: y[n, c] = max_s x[n, s, c]`, `avg: y[n, c] = mean_s x[n, s, c]`
//!
//! over the spatial positions `s`. A pooling with one window covering the whole input, so the
//! max keeps NaN and sends its gradient to the first maximum, as `max_pool2d` does.

use super::pool::{PoolKind, pool, window_geometry};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The maximum over the spatial axes (Keras `GlobalMaxPooling1D/2D/3D`, channels last).
///
/// Args:
/// - `input`: `(N, *spatial, C)` with at least one spatial axis.
/// - `keepdims`: keep the spatial axes as size 1 (`(N, 1, .., 1, C)`) instead of `(N, C)`.
///
/// ```
/// use ferrograd::ops::conv::global_max_pool;
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F32, &[1, 3, 2], vec![1.0, 6.0, 5.0, 2.0, 3.0, 4.0]).unwrap();
/// let y = global_max_pool(&Tensor::new(x, false), false).unwrap();
/// assert_eq!((y.shape(), y.to_f64_vec()), (&[1usize, 2][..], vec![5.0, 6.0]));
/// ```
pub fn global_max_pool(input: &Tensor, keepdims: bool) -> Result<Tensor> {
    global_pool("global_max_pool", PoolKind::Max, input, keepdims)
}

/// The mean over the spatial axes (Keras `GlobalAveragePooling1D/2D/3D`, channels last).
///
/// Args:
/// - `input`: `(N, *spatial, C)` with at least one spatial axis.
/// - `keepdims`: keep the spatial axes as size 1 (`(N, 1, .., 1, C)`) instead of `(N, C)`.
///
/// ```
/// use ferrograd::ops::conv::global_avg_pool;
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F64, &[1, 2, 1, 1], vec![1.0, 4.0]).unwrap();
/// let y = global_avg_pool(&Tensor::new(x, false), true).unwrap();
/// assert_eq!((y.shape(), y.to_f64_vec()), (&[1usize, 1, 1, 1][..], vec![2.5]));
/// ```
pub fn global_avg_pool(input: &Tensor, keepdims: bool) -> Result<Tensor> {
    global_pool("global_avg_pool", PoolKind::Average, input, keepdims)
}

fn global_pool(op: &'static str, kind: PoolKind, input: &Tensor, keepdims: bool) -> Result<Tensor> {
    let shape = input.shape();
    if shape.len() < 3 || shape[1..].contains(&0) {
        return Err(Error::shape(
            op,
            format!(
                "expects an input of shape (batch, *spatial, channels) with at least one \
                 spatial axis and no empty axis but the batch, received shape {shape:?}"
            ),
        ));
    }
    let rank = shape.len();
    let (batch, channels) = (shape[0], shape[rank - 1]);
    let positions: usize = shape[1..rank - 1].iter().product();
    let geo = window_geometry(
        batch,
        [1, positions],
        channels,
        [1, 1],
        [1, positions],
        [1, positions],
        [0, 0],
    );
    let out_shape = if keepdims {
        let mut s = vec![1; rank];
        s[0] = batch;
        s[rank - 1] = channels;
        s
    } else {
        vec![batch, channels]
    };
    pool(op, kind, input, geo, out_shape)
}

impl Tensor {
    /// `global_max_pool(self, keepdims)`; see [`global_max_pool`].
    pub fn global_max_pool(&self, keepdims: bool) -> Result<Tensor> {
        global_max_pool(self, keepdims)
    }

    /// `global_avg_pool(self, keepdims)`; see [`global_avg_pool`].
    pub fn global_avg_pool(&self, keepdims: bool) -> Result<Tensor> {
        global_avg_pool(self, keepdims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::reference::{tensor, values};
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_and_keepdims() {
        let x = tensor(
            &[2, 2, 2, 1],
            vec![1.0, 7.0, 3.0, 5.0, -1.0, -2.0, -3.0, f64::NAN],
        );
        let max = global_max_pool(&x, false).unwrap();
        assert_eq!(max.shape(), &[2, 1]);
        let m = max.to_f64_vec();
        assert!(m[0] == 7.0 && m[1].is_nan());
        let avg = global_avg_pool(&x.detach(), true).unwrap();
        assert_eq!(avg.shape(), &[2, 1, 1, 1]);
        assert_eq!(avg.to_f64_vec()[0], 4.0);
        let one_d = global_avg_pool(
            &tensor(&[1, 3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            true,
        )
        .unwrap();
        assert_eq!(
            (one_d.shape(), one_d.to_f64_vec()),
            (&[1usize, 1, 2][..], vec![3.0, 4.0])
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for keepdims in [false, true] {
            for shape in [&[2, 5, 3][..], &[2, 3, 2, 2], &[1, 2, 2, 2, 3]] {
                let x = tensor(shape, values(shape.iter().product(), 4));
                check_gradients(std::slice::from_ref(&x), |t| {
                    global_max_pool(&t[0], keepdims).unwrap()
                });
                check_gradients(&[x], |t| global_avg_pool(&t[0], keepdims).unwrap());
            }
        }
    }

    #[test]
    fn inputs_without_spatial_axes_are_errors() {
        let m = global_max_pool(&tensor(&[2, 3], values(6, 1)), false)
            .unwrap_err()
            .to_string();
        assert!(m.contains("global_max_pool") && m.contains("[2, 3]"), "{m}");
    }
}

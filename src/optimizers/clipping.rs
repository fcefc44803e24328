//! Gradient clipping as Keras's base optimizer does it, before the update rule:
//! `clipnorm` rescales each gradient to an L2 norm of at most `clipnorm`, `global_clipnorm`
//! rescales all of them together, `clipvalue` clamps every element to `[-clipvalue, clipvalue]`.
//!
//! Norms are the only reductions of an update; they are summed in `f64` over fixed-size chunks,
//! then the partial sums in chunk order, so they do not depend on the thread count. The
//! rescaling itself is folded into the rule's fused pass (`GradPrep`), never written out.

use crate::dtype::Element;
use crate::parallel;
use crate::storage::Storage;

/// The chunk size of a norm's partial sums (a fixed size, for thread-count independence).
const NORM_CHUNK: usize = 1 << 15;

/// The sum of squares of `values`, accumulated in `f64`.
fn sum_of_squares_slice<T: Element>(values: &[T]) -> f64 {
    if values.len() <= NORM_CHUNK {
        return values
            .iter()
            .map(|v| {
                let v = v.as_f64();
                v * v
            })
            .sum();
    }
    let chunks = values.len().div_ceil(NORM_CHUNK);
    let partials: Vec<parking_lot::Mutex<f64>> =
        (0..chunks).map(|_| parking_lot::Mutex::new(0.0)).collect();
    parallel::for_each_chunk(chunks, |i| {
        let start = i * NORM_CHUNK;
        let end = (start + NORM_CHUNK).min(values.len());
        *partials[i].lock() = sum_of_squares_slice(&values[start..end]);
    });
    partials.into_iter().map(|p| p.into_inner()).sum()
}

/// The sum of the squares of every element of `storage`.
pub(crate) fn sum_of_squares(storage: &Storage) -> f64 {
    match storage {
        Storage::F32(a) => match a.as_slice() {
            Some(s) => sum_of_squares_slice(s),
            None => a.iter().map(|v| (*v as f64) * (*v as f64)).sum(),
        },
        Storage::F64(a) => match a.as_slice() {
            Some(s) => sum_of_squares_slice(s),
            None => a.iter().map(|v| v * v).sum(),
        },
    }
}

/// The factor `clipnorm` rescales a gradient of L2 norm `norm` by: `clipnorm / max(norm,
/// clipnorm)` (1 for a zero gradient, NaN spreads).
pub(crate) fn clipnorm_scale(norm: f64, clipnorm: f64) -> f64 {
    if norm.is_nan() {
        return f64::NAN;
    }
    clipnorm / norm.max(clipnorm)
}

/// The factor `global_clipnorm` rescales every gradient by, given their joint L2 norm; NaN when
/// the norm is not finite, as in Keras (`clip_by_global_norm`).
pub(crate) fn global_clipnorm_scale(norm: f64, clipnorm: f64) -> f64 {
    if !norm.is_finite() {
        return f64::NAN;
    }
    clipnorm * (1.0 / norm).min(1.0 / clipnorm)
}

/// What happens to a gradient element before the rule sees it, and to the parameter element
/// (decoupled weight decay): `g -> clamp(g * scale, -clip, clip)`, `w -> w - w * decay`.
#[derive(Clone, Copy, Debug)]
pub struct GradPrep<T> {
    pub scale: T,
    /// `+inf` when there is no `clipvalue`.
    pub clip: T,
    /// `weight_decay * learning_rate`, or `None` without weight decay.
    pub decay: Option<T>,
}

impl<T: Element> GradPrep<T> {
    #[inline(always)]
    pub fn grad(&self, g: T) -> T {
        let g = g * self.scale;
        // Comparisons rather than `min`/`max`, so that a NaN gradient stays NaN.
        if g > self.clip {
            self.clip
        } else if g < -self.clip {
            -self.clip
        } else {
            g
        }
    }

    #[inline(always)]
    pub fn weight(&self, w: T) -> T {
        match self.decay {
            Some(d) => w - w * d,
            None => w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn norm_of_a_large_gradient_is_exact_enough() {
        let n = 100_003;
        let values: Vec<f32> = (0..n).map(|i| ((i % 7) as f32) - 3.0).collect();
        let expected: f64 = values.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let storage = Storage::F32(ArrayD::from_shape_vec(IxDyn(&[n]), values).unwrap().into());
        assert_eq!(sum_of_squares(&storage), expected);
    }

    #[test]
    fn scales_follow_keras() {
        assert_eq!(clipnorm_scale(0.0, 1.0), 1.0);
        assert_eq!(clipnorm_scale(0.5, 1.0), 1.0);
        assert_eq!(clipnorm_scale(4.0, 1.0), 0.25);
        assert_eq!(global_clipnorm_scale(4.0, 1.0), 0.25);
        assert_eq!(global_clipnorm_scale(0.5, 1.0), 1.0);
        assert!(global_clipnorm_scale(f64::INFINITY, 1.0).is_nan());
    }

    #[test]
    fn prep_clamps_and_keeps_nan() {
        let prep = GradPrep::<f32> {
            scale: 1.0,
            clip: 0.5,
            decay: Some(0.1),
        };
        assert_eq!(prep.grad(2.0), 0.5);
        assert_eq!(prep.grad(-2.0), -0.5);
        assert_eq!(prep.grad(0.25), 0.25);
        assert!(prep.grad(f32::NAN).is_nan());
        assert_eq!(prep.weight(1.0), 0.9);
    }
}

//! Upsampling, channels last, as Keras's `UpSampling1D` and `UpSampling2D` compute it: every
//! spatial axis grows by an integer factor.
//!
//! - nearest: `y[n, i, j, c] = x[n, i / size_h, j / size_w, c]` (each value repeated);
//! - bilinear (2-D only), as TensorFlow's `resize` with half-pixel centres: output position
//!   `o` samples the input at `t = (o + 0.5) / size - 0.5`, interpolating between
//!   `max(floor(t), 0)` and `min(ceil(t), in - 1)` with weight `t - floor(t)` on the second.

use super::{check_input, check_positive, new_storage, values};
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::kernels::im2col::for_each_sample_chunk;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// How `upsampling2d` fills the new positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Interpolation {
    #[default]
    Nearest,
    Bilinear,
}

impl Interpolation {
    /// Parses Keras's names `"nearest"` and `"bilinear"`.
    ///
    /// ```
    /// use ferrograd::ops::conv::Interpolation;
    /// assert_eq!(Interpolation::parse("bilinear").unwrap(), Interpolation::Bilinear);
    /// ```
    pub fn parse(name: &str) -> Result<Interpolation> {
        match name {
            "nearest" => Ok(Interpolation::Nearest),
            "bilinear" => Ok(Interpolation::Bilinear),
            _ => Err(crate::error::Error::value(format!(
                "interpolation must be 'nearest' or 'bilinear', received {name:?}"
            ))),
        }
    }
}

/// 2-D upsampling (Keras `UpSampling2D`, channels last).
///
/// Args:
/// - `input`: `(N, H, W, C)`.
/// - `size`: the `(height, width)` factors.
/// - `interpolation`: nearest or bilinear.
///
/// Returns `(N, H * size[0], W * size[1], C)`.
///
/// ```
/// use ferrograd::ops::conv::{Interpolation, upsampling2d};
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F32, &[1, 1, 2, 1], vec![1.0, 2.0]).unwrap();
/// let y = upsampling2d(&Tensor::new(x, false), [2, 2], Interpolation::Nearest).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
/// ```
pub fn upsampling2d(
    input: &Tensor,
    size: [usize; 2],
    interpolation: Interpolation,
) -> Result<Tensor> {
    let op = "upsampling2d";
    check_input(op, input.shape(), 2)?;
    check_positive(op, "size", &size)?;
    let s = input.shape();
    upsample(op, input, [s[1], s[2]], size, interpolation, 2)
}

/// 1-D upsampling (Keras `UpSampling1D`, channels last): each step repeated `size` times.
///
/// Args:
/// - `input`: `(N, L, C)`.
/// - `size`: the factor.
///
/// Returns `(N, L * size, C)`.
///
/// ```
/// use ferrograd::ops::conv::upsampling1d;
/// use ferrograd::tensor::Tensor;
/// use ferrograd::storage::Storage;
/// use ferrograd::dtype::DType;
/// let x = Storage::from_f64_vec(DType::F64, &[1, 2, 1], vec![1.0, 2.0]).unwrap();
/// let y = upsampling1d(&Tensor::new(x, false), 3).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
/// ```
pub fn upsampling1d(input: &Tensor, size: usize) -> Result<Tensor> {
    let op = "upsampling1d";
    check_input(op, input.shape(), 1)?;
    check_positive(op, "size", &[size])?;
    upsample(
        op,
        input,
        [1, input.shape()[1]],
        [1, size],
        Interpolation::Nearest,
        1,
    )
}

/// One output position along an axis: the two input positions it reads and the weight of the
/// second.
#[derive(Clone, Copy, Debug)]
struct Tap {
    lower: usize,
    upper: usize,
    weight: f64,
}

fn taps(input: usize, factor: usize, interpolation: Interpolation) -> Vec<Tap> {
    (0..input * factor)
        .map(|o| match interpolation {
            Interpolation::Nearest => Tap {
                lower: o / factor,
                upper: o / factor,
                weight: 0.0,
            },
            Interpolation::Bilinear => {
                let t = (o as f64 + 0.5) / factor as f64 - 0.5;
                let floor = t.floor();
                Tap {
                    lower: floor.max(0.0) as usize,
                    upper: (t.ceil().max(0.0) as usize).min(input - 1),
                    weight: t - floor,
                }
            }
        })
        .collect()
}

fn upsample(
    op: &'static str,
    input: &Tensor,
    spatial: [usize; 2],
    size: [usize; 2],
    interpolation: Interpolation,
    rank: usize,
) -> Result<Tensor> {
    let s = input.shape();
    let (batch, channels) = (s[0], s[rank + 1]);
    let mut shape = vec![batch];
    for axis in 2 - rank..2 {
        shape.push(spatial[axis].checked_mul(size[axis]).ok_or_else(|| {
            crate::error::Error::shape(op, format!("the upsampled shape of {s:?} overflows"))
        })?);
    }
    shape.push(channels);
    crate::storage::checked_numel(&shape, DType::F64)?;
    let plan = Plan {
        batch,
        input: spatial,
        channels,
        rows: taps(spatial[0], size[0], interpolation),
        cols: taps(spatial[1], size[1], interpolation),
        interpolation,
    };
    let x = input.data();
    let out = match input.dtype() {
        DType::F32 => plan.forward::<f32>(&shape, &x)?,
        DType::F64 => plan.forward::<f64>(&shape, &x)?,
    };
    Ok(record(out, &[input], |_| UpsampleBackward {
        op,
        plan,
        input_shape: s.to_vec(),
    }))
}

struct Plan {
    batch: usize,
    input: [usize; 2],
    channels: usize,
    rows: Vec<Tap>,
    cols: Vec<Tap>,
    interpolation: Interpolation,
}

impl Plan {
    fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.channels
    }

    fn output_len(&self) -> usize {
        self.rows.len() * self.cols.len() * self.channels
    }

    fn forward<T: Element>(&self, shape: &[usize], x: &Storage) -> Result<Storage> {
        let x = values::<T>(x)?;
        let (c, w) = (self.channels, self.input[1]);
        let at = |sample: &[T], i: usize, j: usize, k: usize| sample[(i * w + j) * c + k];
        new_storage::<T>(shape, |out| {
            let work = self.batch.saturating_mul(self.output_len());
            for_each_sample_chunk(
                self.batch,
                work,
                out,
                &mut [] as &mut [T],
                |samples, out, _| {
                    for (s, n) in samples.enumerate() {
                        let sample = &x[n * self.input_len()..(n + 1) * self.input_len()];
                        let out = &mut out[s * self.output_len()..(s + 1) * self.output_len()];
                        let mut pixels = out.chunks_exact_mut(c);
                        for r in &self.rows {
                            for q in &self.cols {
                                let Some(pixel) = pixels.next() else { return };
                                if self.interpolation == Interpolation::Nearest {
                                    let start = (r.lower * w + q.lower) * c;
                                    pixel.copy_from_slice(&sample[start..start + c]);
                                    continue;
                                }
                                let (ly, lx) = (T::of(r.weight), T::of(q.weight));
                                for (k, p) in pixel.iter_mut().enumerate() {
                                    let top_left = at(sample, r.lower, q.lower, k);
                                    let top = top_left
                                        + (at(sample, r.lower, q.upper, k) - top_left) * lx;
                                    let bottom_left = at(sample, r.upper, q.lower, k);
                                    let bottom = bottom_left
                                        + (at(sample, r.upper, q.upper, k) - bottom_left) * lx;
                                    *p = top + (bottom - top) * ly;
                                }
                            }
                        }
                    }
                },
            );
            Ok(())
        })
    }

    fn input_grad<T: Element>(&self, shape: &[usize], grad: &Storage) -> Result<Storage> {
        let dy = values::<T>(grad)?;
        let (c, w) = (self.channels, self.input[1]);
        new_storage::<T>(shape, |dx| {
            let work = self.batch.saturating_mul(self.output_len());
            for_each_sample_chunk(
                self.batch,
                work,
                dx,
                &mut [] as &mut [T],
                |samples, dx, _| {
                    for (s, n) in samples.enumerate() {
                        let dy = &dy[n * self.output_len()..(n + 1) * self.output_len()];
                        let sample = &mut dx[s * self.input_len()..(s + 1) * self.input_len()];
                        let mut pixels = dy.chunks_exact(c);
                        for r in &self.rows {
                            for q in &self.cols {
                                let Some(g) = pixels.next() else { return };
                                let (ly, lx) = (T::of(r.weight), T::of(q.weight));
                                let corners = [
                                    (r.lower, q.lower, (T::one() - ly) * (T::one() - lx)),
                                    (r.lower, q.upper, (T::one() - ly) * lx),
                                    (r.upper, q.lower, ly * (T::one() - lx)),
                                    (r.upper, q.upper, ly * lx),
                                ];
                                let corners = match self.interpolation {
                                    Interpolation::Nearest => &corners[..1],
                                    Interpolation::Bilinear => &corners[..],
                                };
                                for &(i, j, weight) in corners {
                                    let start = (i * w + j) * c;
                                    for (d, &g) in sample[start..start + c].iter_mut().zip(g) {
                                        *d += g * weight;
                                    }
                                }
                            }
                        }
                    }
                },
            );
            Ok(())
        })
    }
}

struct UpsampleBackward {
    op: &'static str,
    plan: Plan,
    input_shape: Vec<usize>,
}

impl Backward for UpsampleBackward {
    fn name(&self) -> &'static str {
        self.op
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let dx = match grad.dtype() {
            DType::F32 => self.plan.input_grad::<f32>(&self.input_shape, grad)?,
            DType::F64 => self.plan.input_grad::<f64>(&self.input_shape, grad)?,
        };
        grads.add(0, dx)
    }
}

impl Tensor {
    /// `upsampling2d(self, size, interpolation)`; see [`upsampling2d`].
    pub fn upsampling2d(&self, size: [usize; 2], interpolation: Interpolation) -> Result<Tensor> {
        upsampling2d(self, size, interpolation)
    }

    /// `upsampling1d(self, size)`; see [`upsampling1d`].
    pub fn upsampling1d(&self, size: usize) -> Result<Tensor> {
        upsampling1d(self, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::reference::{assert_same_bits_on_any_thread_count, bits, tensor, values};
    use crate::ops::test_util::check_gradients;

    #[test]
    fn literal_nearest_and_bilinear() {
        let x = tensor(&[1, 2, 1, 1], vec![1.0, 2.0]);
        let y = upsampling2d(&x, [2, 3], Interpolation::Nearest).unwrap();
        assert_eq!(y.shape(), &[1, 4, 3, 1]);
        assert_eq!(
            y.to_f64_vec(),
            vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        );
        // TensorFlow's resize of [1, 2] to 4 with half-pixel centres: [1, 1.25, 1.75, 2].
        let x = tensor(&[1, 1, 2, 1], vec![1.0, 2.0]);
        let y = upsampling2d(&x, [1, 2], Interpolation::Bilinear).unwrap();
        assert_eq!(y.to_f64_vec(), vec![1.0, 1.25, 1.75, 2.0]);
        let y = upsampling2d(
            &tensor(&[1, 2, 2, 1], vec![0.0, 4.0, 8.0, 12.0]),
            [2, 2],
            Interpolation::Bilinear,
        )
        .unwrap();
        assert_eq!(
            y.to_f64_vec(),
            vec![
                0.0, 1.0, 3.0, 4.0, 2.0, 3.0, 5.0, 6.0, 6.0, 7.0, 9.0, 10.0, 8.0, 9.0, 11.0, 12.0
            ]
        );
        // Infinity stays where it is with nearest (no 0 * inf from a zero weight).
        let y = upsampling1d(&tensor(&[1, 2, 1], vec![f64::INFINITY, 1.0]), 2).unwrap();
        assert_eq!(y.to_f64_vec(), vec![f64::INFINITY, f64::INFINITY, 1.0, 1.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for interpolation in [Interpolation::Nearest, Interpolation::Bilinear] {
            for size in [[2, 2], [3, 1], [1, 4]] {
                let x = tensor(&[2, 3, 2, 2], values(24, 1));
                check_gradients(&[x], |t| upsampling2d(&t[0], size, interpolation).unwrap());
            }
        }
        let x = tensor(&[2, 3, 2], values(12, 2));
        check_gradients(&[x], |t| upsampling1d(&t[0], 3).unwrap());
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        for interpolation in [Interpolation::Nearest, Interpolation::Bilinear] {
            let run = || {
                let x = tensor(&[32, 16, 16, 8], values(32 * 256 * 8, 1))
                    .astype(DType::F32)
                    .unwrap()
                    .detach();
                x.set_requires_grad(true).unwrap();
                let y = upsampling2d(&x, [2, 2], interpolation).unwrap();
                y.square()
                    .unwrap()
                    .sum(None, false)
                    .unwrap()
                    .backward(None, false)
                    .unwrap();
                vec![bits(&y), bits(&x.grad().unwrap())]
            };
            assert_same_bits_on_any_thread_count(&format!("upsampling2d {interpolation:?}"), run);
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let x = tensor(&[1, 2, 2, 1], values(4, 1));
        let m = upsampling2d(&x, [0, 2], Interpolation::Nearest)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("upsampling2d") && m.contains("size must be positive"),
            "{m}"
        );
        assert!(Interpolation::parse("cubic").is_err());
        let y = upsampling2d(
            &tensor(&[0, 2, 2, 1], vec![]),
            [2, 2],
            Interpolation::Nearest,
        )
        .unwrap();
        assert_eq!(y.shape(), &[0, 4, 4, 1]);
    }
}

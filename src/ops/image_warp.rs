//! Resampling a batch of images through one affine map per image: the kernel of the image
//! preprocessing layers (`RandomFlip`, `RandomTranslation`, `RandomRotation`, `RandomZoom`,
//! `RandomCrop`, `CenterCrop`, `Resizing`).
//!
//! Output pixel `(x, y)` (column, row) of image `n` reads the input at
//! `x_in = a0 x + a1 y + a2`, `y_in = b0 x + b1 y + b2` (Keras's `affine_transform` convention,
//! without the projective terms), with
//!
//! - nearest interpolation: the pixel at `(floor(x_in + 0.5), floor(y_in + 0.5))`;
//! - bilinear interpolation: the four pixels around `(x_in, y_in)`, weighted by their
//!   distances.
//!
//! A tap outside the image is mapped back in by the fill mode (Keras's names): `reflect`
//! `(d c b a | a b c d | d c b a)`, `wrap` `(a b c d | a b c d | a b c d)`, `nearest`
//! `(a a a a | a b c d | d d d d)`, or `constant`, where it reads `fill_value`.
//!
//! The backward pass scatters each output gradient to the taps it read, with the same weights
//! (a fill value gets none). Each image is one unit of parallel work, summed in a fixed order,
//! so results are the same bits on any thread count.

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::im2col::for_each_sample_chunk;
use crate::ops::conv::Interpolation;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// How taps outside the image are filled (Keras's `fill_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillMode {
    Reflect,
    Wrap,
    Constant,
    Nearest,
}

impl FillMode {
    /// Parses Keras's names `"reflect"`, `"wrap"`, `"constant"` and `"nearest"`.
    ///
    /// ```
    /// use ferrograd::ops::image_warp::FillMode;
    /// assert_eq!(FillMode::parse("wrap").unwrap(), FillMode::Wrap);
    /// assert!(FillMode::parse("mirror").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<FillMode> {
        match name {
            "reflect" => Ok(FillMode::Reflect),
            "wrap" => Ok(FillMode::Wrap),
            "constant" => Ok(FillMode::Constant),
            "nearest" => Ok(FillMode::Nearest),
            _ => Err(Error::value(format!(
                "fill_mode must be one of 'reflect', 'wrap', 'constant', 'nearest', received \
                 {name:?}"
            ))),
        }
    }

    /// `index` mapped into `0..size`, or `None` where it reads the constant.
    fn map(self, index: i64, size: usize) -> Option<usize> {
        let n = size as i64;
        if (0..n).contains(&index) {
            return Some(index as usize);
        }
        match self {
            FillMode::Constant => None,
            FillMode::Nearest => Some(index.clamp(0, n - 1) as usize),
            FillMode::Wrap => Some(index.rem_euclid(n) as usize),
            FillMode::Reflect => {
                // Period 2n: 0..n forwards, then n..2n backwards (the edge pixel repeated).
                let folded = index.rem_euclid(2 * n);
                Some(if folded < n {
                    folded
                } else {
                    2 * n - 1 - folded
                } as usize)
            }
        }
    }
}

/// The map from output to input coordinates of one image:
/// `[a0, a1, a2, b0, b1, b2]`, `x_in = a0 x + a1 y + a2`, `y_in = b0 x + b1 y + b2`.
pub type Affine = [f64; 6];

/// The identity map.
pub const IDENTITY: Affine = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// How `warp_images` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarpOptions {
    /// `(height, width)` of the output.
    pub output: [usize; 2],
    pub interpolation: Interpolation,
    pub fill_mode: FillMode,
    pub fill_value: f64,
}

/// Resamples `(N, H, W, C)` images through `transforms` (one per image, or one for all).
///
/// ```
/// use ferrograd::dtype::DType;
/// use ferrograd::ops::conv::Interpolation;
/// use ferrograd::ops::image_warp::{FillMode, WarpOptions, warp_images};
/// use ferrograd::storage::Storage;
/// use ferrograd::tensor::Tensor;
/// let x = Storage::from_f64_vec(DType::F64, &[1, 1, 3, 1], vec![1.0, 2.0, 3.0]).unwrap();
/// let options = WarpOptions {
///     output: [1, 3],
///     interpolation: Interpolation::Nearest,
///     fill_mode: FillMode::Constant,
///     fill_value: 0.0,
/// };
/// // x_in = 2 - x: a left-right flip.
/// let flip = [-1.0, 0.0, 2.0, 0.0, 1.0, 0.0];
/// let y = warp_images(&Tensor::new(x, false), &[flip], &options).unwrap();
/// assert_eq!(y.to_f64_vec(), vec![3.0, 2.0, 1.0]);
/// ```
pub fn warp_images(input: &Tensor, transforms: &[Affine], options: &WarpOptions) -> Result<Tensor> {
    let op = "warp_images";
    let s = input.shape();
    if s.len() != 4 || s[1] == 0 || s[2] == 0 {
        return Err(Error::shape(
            op,
            format!(
                "expects images of shape (batch, height, width, channels) with non-empty \
                 height and width, received shape {s:?}"
            ),
        ));
    }
    if options.output.contains(&0) {
        return Err(Error::value(format!(
            "{op}: the output size must be positive, received {:?}",
            options.output
        )));
    }
    if transforms.len() != 1 && transforms.len() != s[0] {
        return Err(Error::value(format!(
            "{op}: expects one transform per image ({}) or one for all, received {}",
            s[0],
            transforms.len()
        )));
    }
    if transforms.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::value(format!(
            "{op}: the transforms must be finite, received {transforms:?}"
        )));
    }
    let shape = [s[0], options.output[0], options.output[1], s[3]];
    crate::storage::checked_numel(&shape, DType::F64)?;
    let plan = Plan::new([s[1], s[2]], s[3], transforms, options);
    let x = input.data();
    let out = match &*x {
        Storage::F32(_) => plan.forward::<f32>(&shape, &x)?,
        Storage::F64(_) => plan.forward::<f64>(&shape, &x)?,
    };
    Ok(record(out, &[input], |_| WarpBackward {
        plan,
        input_shape: s.to_vec(),
    }))
}

/// The input pixels (row-major index, weight) one output pixel reads, and the weight of the
/// fill value; unused slots have weight 0.
#[derive(Clone, Copy, Debug, Default)]
struct Taps {
    index: [u32; 4],
    weight: [f64; 4],
    fill: f64,
}

/// The taps of every output pixel of every distinct transform.
struct Plan {
    input: [usize; 2],
    channels: usize,
    output_pixels: usize,
    /// `output_pixels` taps per transform.
    taps: Vec<Taps>,
    /// Whether all images share the first transform's taps.
    shared: bool,
    fill_value: f64,
}

impl Plan {
    fn new(input: [usize; 2], channels: usize, transforms: &[Affine], o: &WarpOptions) -> Plan {
        let [height, width] = input;
        let [out_h, out_w] = o.output;
        let mut taps = Vec::with_capacity(transforms.len() * out_h * out_w);
        for t in transforms {
            for y in 0..out_h {
                for x in 0..out_w {
                    let (xf, yf) = (x as f64, y as f64);
                    let x_in = t[0] * xf + t[1] * yf + t[2];
                    let y_in = t[3] * xf + t[4] * yf + t[5];
                    let mut pixel = Taps::default();
                    let mut add = |slot: usize, row: f64, col: f64, weight: f64| {
                        let row = o.fill_mode.map(row as i64, height);
                        let col = o.fill_mode.map(col as i64, width);
                        match (row, col) {
                            (Some(r), Some(c)) => {
                                pixel.index[slot] = (r * width + c) as u32;
                                pixel.weight[slot] = weight;
                            }
                            _ => pixel.fill += weight,
                        }
                    };
                    match o.interpolation {
                        Interpolation::Nearest => {
                            add(0, (y_in + 0.5).floor(), (x_in + 0.5).floor(), 1.0)
                        }
                        Interpolation::Bilinear => {
                            let (y0, x0) = (y_in.floor(), x_in.floor());
                            let (wy, wx) = (y_in - y0, x_in - x0);
                            add(0, y0, x0, (1.0 - wy) * (1.0 - wx));
                            add(1, y0, x0 + 1.0, (1.0 - wy) * wx);
                            add(2, y0 + 1.0, x0, wy * (1.0 - wx));
                            add(3, y0 + 1.0, x0 + 1.0, wy * wx);
                        }
                    }
                    taps.push(pixel);
                }
            }
        }
        Plan {
            input,
            channels,
            output_pixels: out_h * out_w,
            taps,
            shared: transforms.len() == 1,
            fill_value: o.fill_value,
        }
    }

    fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.channels
    }

    fn output_len(&self) -> usize {
        self.output_pixels * self.channels
    }

    fn taps_of(&self, image: usize) -> &[Taps] {
        let first = if self.shared { 0 } else { image };
        &self.taps[first * self.output_pixels..(first + 1) * self.output_pixels]
    }

    fn forward<T: Element>(&self, shape: &[usize], x: &Storage) -> Result<Storage> {
        let x = values::<T>(x)?;
        let c = self.channels;
        let batch = shape[0];
        new_storage::<T>(shape, |out| {
            let work = batch.saturating_mul(self.output_len()).saturating_mul(4);
            for_each_sample_chunk(batch, work, out, &mut [] as &mut [T], |images, out, _| {
                for (s, n) in images.enumerate() {
                    let image = &x[n * self.input_len()..(n + 1) * self.input_len()];
                    let out = &mut out[s * self.output_len()..(s + 1) * self.output_len()];
                    for (pixel, taps) in out.chunks_exact_mut(c).zip(self.taps_of(n)) {
                        let fill = T::of(taps.fill * self.fill_value);
                        pixel.iter_mut().for_each(|p| *p = fill);
                        for (&index, &weight) in taps.index.iter().zip(&taps.weight) {
                            if weight == 0.0 {
                                continue;
                            }
                            let (start, weight) = (index as usize * c, T::of(weight));
                            for (p, &v) in pixel.iter_mut().zip(&image[start..start + c]) {
                                *p += v * weight;
                            }
                        }
                    }
                }
            });
            Ok(())
        })
    }

    fn input_grad<T: Element>(&self, shape: &[usize], grad: &Storage) -> Result<Storage> {
        let dy = values::<T>(grad)?;
        let c = self.channels;
        let batch = shape[0];
        new_storage::<T>(shape, |dx| {
            let work = batch.saturating_mul(self.output_len()).saturating_mul(4);
            for_each_sample_chunk(batch, work, dx, &mut [] as &mut [T], |images, dx, _| {
                for (s, n) in images.enumerate() {
                    let dy = &dy[n * self.output_len()..(n + 1) * self.output_len()];
                    let image = &mut dx[s * self.input_len()..(s + 1) * self.input_len()];
                    for (g, taps) in dy.chunks_exact(c).zip(self.taps_of(n)) {
                        for (&index, &weight) in taps.index.iter().zip(&taps.weight) {
                            if weight == 0.0 {
                                continue;
                            }
                            let (start, weight) = (index as usize * c, T::of(weight));
                            for (d, &g) in image[start..start + c].iter_mut().zip(g) {
                                *d += g * weight;
                            }
                        }
                    }
                }
            });
            Ok(())
        })
    }
}

fn values<T: Element>(storage: &Storage) -> Result<&[T]> {
    storage
        .typed::<T>()?
        .as_slice()
        .ok_or_else(|| Error::Autograd("internal error: a tensor is not contiguous".into()))
}

fn new_storage<T: Element>(
    shape: &[usize],
    fill: impl FnOnce(&mut [T]) -> Result<()>,
) -> Result<Storage> {
    let mut array = crate::storage::try_zeros::<T>(shape)?;
    let slice = array
        .as_slice_mut()
        .ok_or_else(|| Error::Autograd("internal error: a new array is not contiguous".into()))?;
    fill(slice)?;
    Ok(T::into_storage(array))
}

struct WarpBackward {
    plan: Plan,
    input_shape: Vec<usize>,
}

impl Backward for WarpBackward {
    fn name(&self) -> &'static str {
        "warp_images"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let dx = match grad.dtype() {
            DType::F32 => self.plan.input_grad::<f32>(&self.input_shape, grad)?,
            DType::F64 => self.plan.input_grad::<f64>(&self.input_shape, grad)?,
        };
        grads.add(0, dx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn options(output: [usize; 2], interpolation: Interpolation, fill: FillMode) -> WarpOptions {
        WarpOptions {
            output,
            interpolation,
            fill_mode: fill,
            fill_value: 0.5,
        }
    }

    #[test]
    fn fill_modes_follow_keras() {
        let at = |mode: FillMode, i| mode.map(i, 4);
        // (d c b a | a b c d | d c b a)
        let reflect: Vec<_> = (-4..8).map(|i| at(FillMode::Reflect, i).unwrap()).collect();
        assert_eq!(reflect, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
        let wrap: Vec<_> = (-4..8).map(|i| at(FillMode::Wrap, i).unwrap()).collect();
        assert_eq!(wrap, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
        let nearest: Vec<_> = (-2..6).map(|i| at(FillMode::Nearest, i).unwrap()).collect();
        assert_eq!(nearest, [0, 0, 0, 1, 2, 3, 3, 3]);
        assert_eq!(at(FillMode::Constant, -1), None);
        assert_eq!(at(FillMode::Constant, 4), None);
    }

    #[test]
    fn translation_fills_with_the_constant() {
        let x = Storage::from_f64_vec(DType::F64, &[1, 1, 4, 1], vec![1.0, 2.0, 3.0, 4.0]);
        let x = Tensor::new(x.unwrap(), false);
        // Shifted right by one: x_in = x - 1.
        let shift = [1.0, 0.0, -1.0, 0.0, 1.0, 0.0];
        let o = options([1, 4], Interpolation::Nearest, FillMode::Constant);
        let y = warp_images(&x, &[shift], &o).unwrap();
        assert_eq!(y.to_f64_vec(), vec![0.5, 1.0, 2.0, 3.0]);
        // Half a pixel, bilinear: the average of neighbours, the fill at the edge.
        let half = [1.0, 0.0, -0.5, 0.0, 1.0, 0.0];
        let o = options([1, 4], Interpolation::Bilinear, FillMode::Constant);
        let y = warp_images(&x, &[half], &o).unwrap();
        assert_eq!(y.to_f64_vec(), vec![0.75, 1.5, 2.5, 3.5]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x = randn(&[2, 4, 5, 3], 3);
        x.set_requires_grad(true).unwrap();
        let rotate = {
            let (c, s) = (0.3f64.cos(), 0.3f64.sin());
            [c, -s, 1.1, s, c, -0.7]
        };
        for mode in [
            FillMode::Reflect,
            FillMode::Wrap,
            FillMode::Constant,
            FillMode::Nearest,
        ] {
            for interpolation in [Interpolation::Nearest, Interpolation::Bilinear] {
                let o = options([3, 6], interpolation, mode);
                let transforms = [rotate, [0.9, 0.0, 0.3, 0.0, 1.2, -0.4]];
                check_gradients(std::slice::from_ref(&x), |ts| {
                    warp_images(&ts[0], &transforms, &o).unwrap()
                });
            }
        }
    }

    #[test]
    fn bad_arguments_are_refused() {
        let x = randn(&[2, 4, 5, 3], 3);
        let o = options([3, 3], Interpolation::Nearest, FillMode::Constant);
        assert!(warp_images(&x, &[IDENTITY; 3], &o).is_err());
        assert!(warp_images(&randn(&[4, 5, 3], 1), &[IDENTITY], &o).is_err());
        let zero = options([0, 3], Interpolation::Nearest, FillMode::Constant);
        assert!(warp_images(&x, &[IDENTITY], &zero).is_err());
        let nan = [f64::NAN, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert!(warp_images(&x, &[nan], &o).is_err());
    }
}

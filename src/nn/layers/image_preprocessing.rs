//! What the image preprocessing layers share (`RandomFlip`, `RandomTranslation`,
//! `RandomRotation`, `RandomZoom`, `RandomCrop`, `RandomContrast`, `Resizing`, `CenterCrop`):
//! their random draws, the checks of their arguments and input shapes, and the call of the
//! resampling kernel (`ops::image_warp`) in either data format.
//!
//! Randomness: a layer built with a `seed` draws from a generator of its own seeded with it (as
//! a Keras layer's `SeedGenerator`); otherwise from the loop's generator, which `fg.set_seed`
//! seeds. Either way a seeded run repeats bit for bit.

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::conv2d::{is_channels_first, move_channels};
use crate::error::{Error, Result};
use crate::nn::{Context, Shape, format_shape, single_shape};
use crate::ops::conv::Interpolation;
use crate::ops::image_warp::{Affine, FillMode, WarpOptions, warp_images};
use crate::tensor::Tensor;

/// The generator a layer draws from: its own (seeded by the layer's `seed`) or the loop's.
pub(crate) struct LayerRng(Option<Mutex<ChaCha8Rng>>);

impl LayerRng {
    pub(crate) fn new(seed: Option<u64>) -> LayerRng {
        LayerRng(seed.map(|s| Mutex::new(ChaCha8Rng::seed_from_u64(s))))
    }

    /// Runs `f` with the layer's generator, or the context's.
    pub(crate) fn with<R>(&self, ctx: &mut Context<'_>, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        match &self.0 {
            Some(own) => f(&mut own.lock()),
            None => f(ctx.rng),
        }
    }
}

/// A uniform draw in `[lower, upper)` (53 random bits).
pub(crate) fn uniform(rng: &mut impl Rng, lower: f64, upper: f64) -> f64 {
    let unit = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    lower + (upper - lower) * unit
}

/// Checks a `(lower, upper)` factor: finite, `lower <= upper`, and inside `bounds` if given.
pub(crate) fn check_factor(
    layer: &str,
    name: &str,
    factor: [f64; 2],
    bounds: Option<(f64, f64)>,
) -> Result<()> {
    let [lower, upper] = factor;
    let inside = |v: f64| bounds.is_none_or(|(lo, hi)| (lo..=hi).contains(&v));
    if !lower.is_finite() || !upper.is_finite() || lower > upper || !inside(lower) || !inside(upper)
    {
        let range = bounds.map_or(String::new(), |(lo, hi)| format!(" inside [{lo}, {hi}]"));
        return Err(Error::value(format!(
            "{layer}: {name} must be (lower, upper) with lower <= upper{range}, received \
             {name}={factor:?}"
        )));
    }
    Ok(())
}

/// Parses `fill_mode` and `interpolation`, naming the layer in errors.
pub(crate) fn parse_sampling(
    layer: &str,
    fill_mode: &str,
    interpolation: &str,
) -> Result<(FillMode, Interpolation)> {
    let fill = FillMode::parse(fill_mode).map_err(|e| Error::value(format!("{layer}: {e}")))?;
    let interpolation =
        Interpolation::parse(interpolation).map_err(|e| Error::value(format!("{layer}: {e}")))?;
    Ok((fill, interpolation))
}

/// Checks positive `height` and `width`.
pub(crate) fn check_size(layer: &str, height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(Error::value(format!(
            "{layer}: height and width must be positive, received height={height}, \
             width={width}"
        )));
    }
    Ok(())
}

/// The layout of a layer's images.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ImageLayout {
    pub channels_first: bool,
}

impl ImageLayout {
    pub(crate) fn new(layer: &str, data_format: &str) -> Result<ImageLayout> {
        Ok(ImageLayout {
            channels_first: is_channels_first(layer, data_format)?,
        })
    }

    /// `(height, width)` of a batch of images of `shape` (either may be unknown), or an error
    /// naming the layer when it is not `(batch, height, width, channels)` (or channels first).
    pub(crate) fn spatial(&self, layer: &str, input: &[Shape]) -> Result<[Option<usize>; 2]> {
        let shape = single_shape(layer, input)?;
        if shape.len() != 4 {
            let layout = if self.channels_first {
                "(batch, channels, height, width)"
            } else {
                "(batch, height, width, channels)"
            };
            return Err(Error::value(format!(
                "{layer}: expects images of shape {layout}, received input shape {}",
                format_shape(shape)
            )));
        }
        let axis = if self.channels_first { 2 } else { 1 };
        if shape[axis] == Some(0) || shape[axis + 1] == Some(0) {
            return Err(Error::value(format!(
                "{layer}: the images must have a positive height and width, received input \
                 shape {}",
                format_shape(shape)
            )));
        }
        Ok([shape[axis], shape[axis + 1]])
    }

    /// `shape` with its height and width replaced.
    pub(crate) fn with_spatial(&self, shape: &Shape, height: usize, width: usize) -> Shape {
        let mut out = shape.clone();
        let axis = if self.channels_first { 2 } else { 1 };
        out[axis] = Some(height);
        out[axis + 1] = Some(width);
        out
    }

    /// The height and width of a tensor `x` already checked by `spatial`.
    pub(crate) fn size_of(&self, x: &Tensor) -> [usize; 2] {
        let s = x.shape();
        if self.channels_first {
            [s[2], s[3]]
        } else {
            [s[1], s[2]]
        }
    }

    /// Resamples `x` through `transforms` (see `ops::image_warp`), in this layout.
    pub(crate) fn warp(
        &self,
        layer: &str,
        x: &Tensor,
        transforms: &[Affine],
        options: &WarpOptions,
    ) -> Result<Tensor> {
        let relabel =
            |e: Error| Error::value(format!("{layer}: {e} (input shape {:?})", x.shape()));
        if self.channels_first {
            let last = move_channels(x, true)?;
            let y = warp_images(&last, transforms, options).map_err(relabel)?;
            move_channels(&y, false)
        } else {
            warp_images(x, transforms, options).map_err(relabel)
        }
    }
}

impl ImageLayout {
    /// Cuts the window `(offset, size)` (whole pixels) out of `x` and resizes it to `target`
    /// with `interpolation`, as cropping and then resizing (taps past the window's edge read
    /// its edge pixel, as PyTorch's `interpolate` and TensorFlow's `resize` clamp).
    pub(crate) fn crop_and_resize(
        &self,
        layer: &str,
        x: &Tensor,
        window: ([f64; 2], [f64; 2]),
        target: [usize; 2],
        interpolation: Interpolation,
    ) -> Result<Tensor> {
        let (offset, size) = window;
        let exact = |interpolation| WarpOptions {
            output: target,
            interpolation,
            fill_mode: FillMode::Nearest,
            fill_value: 0.0,
        };
        let whole = self.size_of(x).map(|v| v as f64);
        let cropped = if size == whole {
            x.clone()
        } else {
            let pixels = size.map(|v| v as usize);
            let crop = WarpOptions {
                output: pixels,
                ..exact(Interpolation::Nearest)
            };
            self.warp(layer, x, &[window_map(offset, size, pixels)], &crop)?
        };
        if size == target.map(|v| v as f64) {
            return Ok(cropped);
        }
        let resize = window_map([0.0, 0.0], size, target);
        self.warp(layer, &cropped, &[resize], &exact(interpolation))
    }
}

/// Checks a concrete input against the layer's shape rules (the graph checks symbolic shapes
/// at build time; an eager call or a model of unknown sizes arrives here directly).
pub(crate) fn check_tensor(layer: &str, layout: &ImageLayout, x: &Tensor) -> Result<()> {
    let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
    layout.spatial(layer, &[shape]).map(|_| ())
}

/// The map that reads the window of `window` pixels starting at `offset` (both `(rows,
/// cols)`, fractional allowed) into an output of `output` pixels, with half-pixel centres (as
/// `torch.nn.functional.interpolate(align_corners=False)` and TensorFlow's `resize`).
pub(crate) fn window_map(offset: [f64; 2], window: [f64; 2], output: [usize; 2]) -> Affine {
    let scale_y = window[0] / output[0] as f64;
    let scale_x = window[1] / output[1] as f64;
    // x_in = offset + (x + 0.5) * scale - 0.5
    [
        scale_x,
        0.0,
        offset[1] + 0.5 * scale_x - 0.5,
        0.0,
        scale_y,
        offset[0] + 0.5 * scale_y - 0.5,
    ]
}

/// The largest window of the aspect ratio `target` (`(height, width)`) centred in an image of
/// `input` pixels: `(offset, size)`, as Keras's `smart_resize` crops before resizing.
pub(crate) fn centred_aspect_window(input: [usize; 2], target: [usize; 2]) -> ([f64; 2], [f64; 2]) {
    let [h, w] = input.map(|v| v as f64);
    let [th, tw] = target.map(|v| v as f64);
    // Keras: crop_height = int(w * th / tw), crop_width = int(h * tw / th), each at most the
    // image's and at least 1.
    let crop_h = (w * th / tw).floor().min(h).max(1.0);
    let crop_w = (h * tw / th).floor().min(w).max(1.0);
    let off_h = ((h - crop_h) / 2.0).floor();
    let off_w = ((w - crop_w) / 2.0).floor();
    ([off_h, off_w], [crop_h, crop_w])
}

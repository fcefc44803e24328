//! `RandomRotation`: images rotated about their centre by a random angle while training.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{
    ImageLayout, LayerRng, check_factor, check_tensor, parse_sampling, uniform,
};
use super::random_translation::{bilinear, reflect};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::ops::image_warp::{Affine, FillMode, WarpOptions};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomRotationConfig {
    /// `(lower, upper)` fractions of a full turn; positive turns counter-clockwise.
    pub factor: [f64; 2],
    #[serde(default = "reflect")]
    pub fill_mode: String,
    #[serde(default = "bilinear")]
    pub interpolation: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub fill_value: f64,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Rotates each image about its centre by `2 pi u`, `u` drawn uniformly from the factor,
/// while training; the identity at inference. The gradient passes to the input.
pub struct RandomRotation {
    config: RandomRotationConfig,
    fill_mode: FillMode,
    interpolation: Interpolation,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomRotation {
    pub fn build(config: RandomRotationConfig, input_shapes: &[Shape]) -> Result<RandomRotation> {
        let kind = "RandomRotation";
        check_factor(kind, "factor", config.factor, None)?;
        let (fill_mode, interpolation) =
            parse_sampling(kind, &config.fill_mode, &config.interpolation)?;
        let layout = ImageLayout::new(kind, &config.data_format)?;
        layout.spatial(kind, input_shapes)?;
        Ok(RandomRotation {
            rng: LayerRng::new(config.seed),
            config,
            fill_mode,
            interpolation,
            layout,
        })
    }
}

/// The map of a counter-clockwise turn by `angle` (radians) about the centre of an image of
/// `height` x `width`: the output at `p` reads the input at `R(-angle) (p - c) + c` (in image
/// coordinates, rows growing downwards).
pub(crate) fn rotation(angle: f64, height: usize, width: usize) -> Affine {
    let (sin, cos) = angle.sin_cos();
    let (cx, cy) = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
    [
        cos,
        -sin,
        cx - cos * cx + sin * cy,
        sin,
        cos,
        cy - sin * cx - cos * cy,
    ]
}

impl Layer for RandomRotation {
    fn kind(&self) -> &'static str {
        "RandomRotation"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomRotation", input)?;
        Ok(input[0].clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomRotation", inputs)?;
        check_tensor("RandomRotation", &self.layout, x)?;
        if !ctx.training || x.shape()[0] == 0 {
            return Ok(x.clone());
        }
        let [height, width] = self.layout.size_of(x);
        let [lower, upper] = self.config.factor;
        let turn = 2.0 * std::f64::consts::PI;
        let transforms: Vec<Affine> = self.rng.with(ctx, |rng| {
            (0..x.shape()[0])
                .map(|_| rotation(uniform(rng, lower, upper) * turn, height, width))
                .collect()
        });
        let options = WarpOptions {
            output: [height, width],
            interpolation: self.interpolation,
            fill_mode: self.fill_mode,
            fill_value: self.config.fill_value,
        };
        self.layout.warp("RandomRotation", x, &transforms, &options)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomRotation",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomRotation::build(
                parse_config("RandomRotation", config)?,
                input_shapes,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_turn_moves_the_top_right_corner_to_the_top_left() {
        // Counter-clockwise by 90 degrees: the output's top-left reads the input's top-right.
        let t = rotation(std::f64::consts::FRAC_PI_2, 3, 3);
        let (x_in, y_in) = (t[2], t[5]);
        assert!((x_in - 2.0).abs() < 1e-12 && y_in.abs() < 1e-12, "{t:?}");
    }
}

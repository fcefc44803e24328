//! `RandomTranslation`: images shifted by a random fraction of their size while training.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{
    ImageLayout, LayerRng, check_factor, check_tensor, parse_sampling, uniform,
};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::ops::image_warp::{Affine, FillMode, WarpOptions};
use crate::tensor::Tensor;

pub(crate) fn reflect() -> String {
    "reflect".into()
}
pub(crate) fn bilinear() -> String {
    "bilinear".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomTranslationConfig {
    /// `(lower, upper)` fractions of the height; positive shifts down.
    pub height_factor: [f64; 2],
    /// `(lower, upper)` fractions of the width; positive shifts right.
    pub width_factor: [f64; 2],
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

/// Shifts each image by `dy = u * height`, `dx = v * width` pixels, with `u` and `v` drawn
/// uniformly from the factors, while training; the identity at inference. The gradient passes
/// to the input.
pub struct RandomTranslation {
    config: RandomTranslationConfig,
    fill_mode: FillMode,
    interpolation: Interpolation,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomTranslation {
    pub fn build(
        config: RandomTranslationConfig,
        input_shapes: &[Shape],
    ) -> Result<RandomTranslation> {
        let kind = "RandomTranslation";
        check_factor(
            kind,
            "height_factor",
            config.height_factor,
            Some((-1.0, 1.0)),
        )?;
        check_factor(kind, "width_factor", config.width_factor, Some((-1.0, 1.0)))?;
        let (fill_mode, interpolation) =
            parse_sampling(kind, &config.fill_mode, &config.interpolation)?;
        let layout = ImageLayout::new(kind, &config.data_format)?;
        layout.spatial(kind, input_shapes)?;
        Ok(RandomTranslation {
            rng: LayerRng::new(config.seed),
            config,
            fill_mode,
            interpolation,
            layout,
        })
    }
}

impl Layer for RandomTranslation {
    fn kind(&self) -> &'static str {
        "RandomTranslation"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomTranslation", input)?;
        Ok(input[0].clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomTranslation", inputs)?;
        check_tensor("RandomTranslation", &self.layout, x)?;
        if !ctx.training || x.shape()[0] == 0 {
            return Ok(x.clone());
        }
        let [height, width] = self.layout.size_of(x);
        let [h_lo, h_hi] = self.config.height_factor;
        let [w_lo, w_hi] = self.config.width_factor;
        let transforms: Vec<Affine> = self.rng.with(ctx, |rng| {
            (0..x.shape()[0])
                .map(|_| {
                    let dy = uniform(rng, h_lo, h_hi) * height as f64;
                    let dx = uniform(rng, w_lo, w_hi) * width as f64;
                    // The output at (x, y) reads the input at (x - dx, y - dy).
                    [1.0, 0.0, -dx, 0.0, 1.0, -dy]
                })
                .collect()
        });
        let options = WarpOptions {
            output: [height, width],
            interpolation: self.interpolation,
            fill_mode: self.fill_mode,
            fill_value: self.config.fill_value,
        };
        self.layout
            .warp("RandomTranslation", x, &transforms, &options)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomTranslation",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomTranslation::build(
                parse_config("RandomTranslation", config)?,
                input_shapes,
            )?))
        },
    }
}

//! `RandomZoom`: images zoomed in or out about their centre by a random factor while training.

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
pub struct RandomZoomConfig {
    /// `(lower, upper)`: a positive value zooms out, a negative one zooms in.
    pub height_factor: [f64; 2],
    /// As `height_factor`, for the width; `None`: the height's zoom, keeping the aspect ratio.
    #[serde(default)]
    pub width_factor: Option<[f64; 2]>,
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

/// Zooms each image about its centre while training: the output at `p` reads the input at
/// `c + z (p - c)` with `z = 1 + u`, `u` drawn from the factor (so `z > 1` shows more of the
/// image: zooms out); the identity at inference. The gradient passes to the input.
pub struct RandomZoom {
    config: RandomZoomConfig,
    fill_mode: FillMode,
    interpolation: Interpolation,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomZoom {
    pub fn build(config: RandomZoomConfig, input_shapes: &[Shape]) -> Result<RandomZoom> {
        let kind = "RandomZoom";
        check_factor(
            kind,
            "height_factor",
            config.height_factor,
            Some((-1.0, 1.0)),
        )?;
        if let Some(width) = config.width_factor {
            check_factor(kind, "width_factor", width, Some((-1.0, 1.0)))?;
        }
        let (fill_mode, interpolation) =
            parse_sampling(kind, &config.fill_mode, &config.interpolation)?;
        let layout = ImageLayout::new(kind, &config.data_format)?;
        layout.spatial(kind, input_shapes)?;
        Ok(RandomZoom {
            rng: LayerRng::new(config.seed),
            config,
            fill_mode,
            interpolation,
            layout,
        })
    }
}

impl Layer for RandomZoom {
    fn kind(&self) -> &'static str {
        "RandomZoom"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomZoom", input)?;
        Ok(input[0].clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomZoom", inputs)?;
        check_tensor("RandomZoom", &self.layout, x)?;
        if !ctx.training || x.shape()[0] == 0 {
            return Ok(x.clone());
        }
        let [height, width] = self.layout.size_of(x);
        let (cx, cy) = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
        let [h_lo, h_hi] = self.config.height_factor;
        let transforms: Vec<Affine> = self.rng.with(ctx, |rng| {
            (0..x.shape()[0])
                .map(|_| {
                    let zoom_y = 1.0 + uniform(rng, h_lo, h_hi);
                    let zoom_x = match self.config.width_factor {
                        Some([w_lo, w_hi]) => 1.0 + uniform(rng, w_lo, w_hi),
                        None => zoom_y,
                    };
                    [
                        zoom_x,
                        0.0,
                        cx * (1.0 - zoom_x),
                        0.0,
                        zoom_y,
                        cy * (1.0 - zoom_y),
                    ]
                })
                .collect()
        });
        let options = WarpOptions {
            output: [height, width],
            interpolation: self.interpolation,
            fill_mode: self.fill_mode,
            fill_value: self.config.fill_value,
        };
        self.layout.warp("RandomZoom", x, &transforms, &options)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomZoom",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomZoom::build(parse_config("RandomZoom", config)?, input_shapes)?))
        },
    }
}

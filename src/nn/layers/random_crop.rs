//! `RandomCrop`: a random window of a fixed size cut from each image while training.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{
    ImageLayout, LayerRng, centred_aspect_window, check_size, check_tensor, uniform, window_map,
};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::ops::image_warp::{Affine, FillMode, WarpOptions};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomCropConfig {
    pub height: usize,
    pub width: usize,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Cuts a `height` x `width` window at a uniformly random position from each image while
/// training. At inference, and in training when an image is smaller than the window, it
/// takes the largest centred window of the target's aspect ratio and resizes it (bilinear) to
/// `height` x `width`, as Keras documents; an image of the target size passes unchanged.
/// Keras draws one position per batch; this layer draws one per image. The gradient passes to
/// the input.
pub struct RandomCrop {
    config: RandomCropConfig,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomCrop {
    pub fn build(config: RandomCropConfig, input_shapes: &[Shape]) -> Result<RandomCrop> {
        check_size("RandomCrop", config.height, config.width)?;
        let layout = ImageLayout::new("RandomCrop", &config.data_format)?;
        layout.spatial("RandomCrop", input_shapes)?;
        Ok(RandomCrop {
            rng: LayerRng::new(config.seed),
            config,
            layout,
        })
    }
}

impl Layer for RandomCrop {
    fn kind(&self) -> &'static str {
        "RandomCrop"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomCrop", input)?;
        Ok(self
            .layout
            .with_spatial(&input[0], self.config.height, self.config.width))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomCrop", inputs)?;
        check_tensor("RandomCrop", &self.layout, x)?;
        let [height, width] = self.layout.size_of(x);
        let target = [self.config.height, self.config.width];
        if [height, width] == target {
            return Ok(x.clone());
        }
        let fits = height >= target[0] && width >= target[1];
        if !(ctx.training && fits) {
            let window = centred_aspect_window([height, width], target);
            return self.layout.crop_and_resize(
                "RandomCrop",
                x,
                window,
                target,
                Interpolation::Bilinear,
            );
        }
        let window = target.map(|v| v as f64);
        let transforms: Vec<Affine> = self.rng.with(ctx, |rng| {
            (0..x.shape()[0])
                .map(|_| {
                    // A uniform integer in 0..=slack along each axis.
                    let slack = [height - target[0], width - target[1]];
                    let offset =
                        slack.map(|s| uniform(rng, 0.0, (s + 1) as f64).floor().min(s as f64));
                    window_map(offset, window, target)
                })
                .collect()
        });
        let options = WarpOptions {
            output: target,
            interpolation: Interpolation::Nearest,
            fill_mode: FillMode::Nearest,
            fill_value: 0.0,
        };
        self.layout.warp("RandomCrop", x, &transforms, &options)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomCrop",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomCrop::build(parse_config("RandomCrop", config)?, input_shapes)?))
        },
    }
}

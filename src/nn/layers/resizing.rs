//! `Resizing`: images resized to a fixed height and width, in training and at inference.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{ImageLayout, centred_aspect_window, check_size, check_tensor};
use super::random_translation::bilinear;
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResizingConfig {
    pub height: usize,
    pub width: usize,
    #[serde(default = "bilinear")]
    pub interpolation: String,
    #[serde(default)]
    pub crop_to_aspect_ratio: bool,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Resizes each image to `height` x `width` with half-pixel centres: `"bilinear"` equals
/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False)`,
/// `"nearest"` its `mode="nearest-exact"`. With `crop_to_aspect_ratio`, the largest centred
/// window of the target's aspect ratio is resized instead of the whole image. The gradient
/// passes to the input.
pub struct Resizing {
    config: ResizingConfig,
    interpolation: Interpolation,
    layout: ImageLayout,
}

impl Resizing {
    pub fn build(config: ResizingConfig, input_shapes: &[Shape]) -> Result<Resizing> {
        check_size("Resizing", config.height, config.width)?;
        let interpolation = Interpolation::parse(&config.interpolation)
            .map_err(|e| Error::value(format!("Resizing: {e}")))?;
        let layout = ImageLayout::new("Resizing", &config.data_format)?;
        layout.spatial("Resizing", input_shapes)?;
        Ok(Resizing {
            config,
            interpolation,
            layout,
        })
    }
}

impl Layer for Resizing {
    fn kind(&self) -> &'static str {
        "Resizing"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("Resizing", input)?;
        Ok(self
            .layout
            .with_spatial(&input[0], self.config.height, self.config.width))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Resizing", inputs)?;
        check_tensor("Resizing", &self.layout, x)?;
        let [height, width] = self.layout.size_of(x);
        let target = [self.config.height, self.config.width];
        let window = if self.config.crop_to_aspect_ratio {
            centred_aspect_window([height, width], target)
        } else {
            ([0.0, 0.0], [height as f64, width as f64])
        };
        if window.1 == target.map(|v| v as f64) && window.0 == [0.0, 0.0] {
            return Ok(x.clone());
        }
        self.layout
            .crop_and_resize("Resizing", x, window, target, self.interpolation)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Resizing",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Resizing::build(parse_config("Resizing", config)?, input_shapes)?))
        },
    }
}

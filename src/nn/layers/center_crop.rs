//! `CenterCrop`: the centred window of a fixed size, in training and at inference.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{ImageLayout, centred_aspect_window, check_size, check_tensor};
use crate::error::Result;
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterCropConfig {
    pub height: usize,
    pub width: usize,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Cuts the `height` x `width` window starting at `((H - height) / 2, (W - width) / 2)`
/// (rounded down). An image smaller than the window along either axis is cropped to the
/// target's aspect ratio and resized (bilinear) instead, as Keras does. The gradient passes to
/// the input.
pub struct CenterCrop {
    config: CenterCropConfig,
    layout: ImageLayout,
}

impl CenterCrop {
    pub fn build(config: CenterCropConfig, input_shapes: &[Shape]) -> Result<CenterCrop> {
        check_size("CenterCrop", config.height, config.width)?;
        let layout = ImageLayout::new("CenterCrop", &config.data_format)?;
        layout.spatial("CenterCrop", input_shapes)?;
        Ok(CenterCrop { config, layout })
    }
}

impl Layer for CenterCrop {
    fn kind(&self) -> &'static str {
        "CenterCrop"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("CenterCrop", input)?;
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
        let x = single_input("CenterCrop", inputs)?;
        check_tensor("CenterCrop", &self.layout, x)?;
        let [height, width] = self.layout.size_of(x);
        let target = [self.config.height, self.config.width];
        if [height, width] == target {
            return Ok(x.clone());
        }
        let window = if height >= target[0] && width >= target[1] {
            let offset = [(height - target[0]) / 2, (width - target[1]) / 2].map(|v| v as f64);
            (offset, target.map(|v| v as f64))
        } else {
            centred_aspect_window([height, width], target)
        };
        self.layout
            .crop_and_resize("CenterCrop", x, window, target, Interpolation::Bilinear)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "CenterCrop",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(CenterCrop::build(parse_config("CenterCrop", config)?, input_shapes)?))
        },
    }
}

//! `AveragePooling2D`: the mean over windows of images (with `"same"` padding each window
//! averages only the input positions it covers, as TensorFlow does). Shares `Pooling2D` with
//! `MaxPooling2D`.

use super::max_pooling2d::Pooling2D;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "AveragePooling2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Pooling2D::build(
                "AveragePooling2D",
                false,
                parse_config("AveragePooling2D", config)?,
                input_shapes,
            )?))
        },
    }
}

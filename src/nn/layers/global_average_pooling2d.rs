//! `GlobalAveragePooling2D`: the mean over the height and width of images (`keepdims` keeps the
//! spatial axes as size 1). Shares `GlobalPooling` with `GlobalMaxPooling2D`.

use super::global_max_pooling2d::GlobalPooling;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "GlobalAveragePooling2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(GlobalPooling::build(
                "GlobalAveragePooling2D",
                2,
                false,
                parse_config("GlobalAveragePooling2D", config)?,
                input_shapes,
            )?))
        },
    }
}

//! `GlobalMaxPooling1D`: the maximum over the steps of sequences (`keepdims` keeps the
//! spatial axes as size 1). Shares `GlobalPooling` with `GlobalMaxPooling2D`.

use super::global_max_pooling2d::GlobalPooling;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "GlobalMaxPooling1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(GlobalPooling::build(
                "GlobalMaxPooling1D",
                1,
                true,
                parse_config("GlobalMaxPooling1D", config)?,
                input_shapes,
            )?))
        },
    }
}

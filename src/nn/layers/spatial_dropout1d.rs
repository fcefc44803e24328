//! `SpatialDropout1D`: during training, whole channels of sequences are zeroed with
//! probability `rate` (the others scaled by `1 / (1 - rate)`); the identity at inference.
//! Shares `SpatialDropout` with `SpatialDropout2D`.

use super::spatial_dropout2d::SpatialDropout;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "SpatialDropout1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(SpatialDropout::build(
                "SpatialDropout1D",
                1,
                parse_config("SpatialDropout1D", config)?,
                input_shapes,
            )?))
        },
    }
}

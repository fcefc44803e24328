//! `AveragePooling1D`: the mean over windows of sequences (`pool_size=2`, `strides=None`,
//! `padding="valid"` by default). Shares `Pooling2D` with the 2-D poolings.

use super::max_pooling2d::Pooling2D;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "AveragePooling1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Pooling2D::build_rank(
                "AveragePooling1D",
                1,
                false,
                parse_config("AveragePooling1D", config)?,
                input_shapes,
            )?))
        },
    }
}

//! `MaxPooling1D`: the maximum over windows of sequences (`pool_size=2`, `strides=None`,
//! `padding="valid"` by default). Shares `Pooling2D` with the 2-D poolings.

use super::max_pooling2d::Pooling2D;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "MaxPooling1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Pooling2D::build_rank(
                "MaxPooling1D",
                1,
                true,
                parse_config("MaxPooling1D", config)?,
                input_shapes,
            )?))
        },
    }
}

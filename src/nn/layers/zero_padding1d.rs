//! `ZeroPadding1D`: zeros added before and after each sequence (Keras's arguments and
//! defaults). Shares `ZeroPadding` with `ZeroPadding2D`.

use super::zero_padding2d::ZeroPadding;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "ZeroPadding1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(ZeroPadding::build(
                "ZeroPadding1D",
                1,
                parse_config("ZeroPadding1D", config)?,
                input_shapes,
            )?))
        },
    }
}

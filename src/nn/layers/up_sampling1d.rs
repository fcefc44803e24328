//! `UpSampling1D`: each step of a sequence repeated `size` times (default 2). Shares
//! `UpSampling` with `UpSampling2D`.

use super::up_sampling2d::UpSampling;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "UpSampling1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(UpSampling::build(
                "UpSampling1D",
                1,
                parse_config("UpSampling1D", config)?,
                input_shapes,
            )?))
        },
    }
}

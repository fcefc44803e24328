//! `Cropping1D`: steps removed from the start and end of each sequence (Keras's arguments and
//! defaults). Shares `Cropping` with `Cropping2D`.

use super::cropping2d::Cropping;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "Cropping1D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Cropping::build(
                "Cropping1D",
                1,
                parse_config("Cropping1D", config)?,
                input_shapes,
            )?))
        },
    }
}

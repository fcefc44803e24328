//! `GRU`: a gated recurrent unit, Keras 3's `reset_after=True` form. The layer is the shared
//! `Recurrent` machinery (`rnn.rs`) with the GRU cell.

use super::rnn::Recurrent;
use crate::nn::{LayerRegistration, parse_config};
use crate::ops::recurrent::CellKind;

inventory::submit! {
    LayerRegistration {
        kind: "GRU",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Recurrent::build(
                CellKind::Gru,
                parse_config("GRU", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

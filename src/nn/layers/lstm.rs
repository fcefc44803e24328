//! `LSTM`: long short-term memory, Keras's gates (i, f, c, o). The layer is the shared
//! `Recurrent` machinery (`rnn.rs`) with the LSTM cell.

use super::rnn::Recurrent;
use crate::nn::{LayerRegistration, parse_config};
use crate::ops::recurrent::CellKind;

inventory::submit! {
    LayerRegistration {
        kind: "LSTM",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Recurrent::build(
                CellKind::Lstm,
                parse_config("LSTM", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

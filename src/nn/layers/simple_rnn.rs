//! `SimpleRNN`: a simple (Elman) recurrent layer, `h = activation(x W + h U + b)`. The layer is the shared
//! `Recurrent` machinery (`rnn.rs`) with the SimpleRNN cell.

use super::rnn::Recurrent;
use crate::nn::{LayerRegistration, parse_config};
use crate::ops::recurrent::CellKind;

inventory::submit! {
    LayerRegistration {
        kind: "SimpleRNN",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Recurrent::build(
                CellKind::SimpleRnn,
                parse_config("SimpleRNN", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

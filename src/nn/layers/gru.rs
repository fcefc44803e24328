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

#[cfg(test)]
mod tests {
    use crate::dtype::DType;
    use crate::nn::build_layer;

    #[test]
    fn builds_from_the_registry_with_keras_weight_shapes_and_states() {
        let input = vec![vec![None, Some(5), Some(3)]];
        let layer = build_layer(
            "GRU",
            &serde_json::json!({"units": 4, "return_state": true}),
            &input,
            DType::F64,
        )
        .unwrap();
        assert_eq!(layer.kind(), "GRU");
        let shapes: Vec<Vec<usize>> = layer
            .weights()
            .iter()
            .map(|w| w.tensor.shape().to_vec())
            .collect();
        assert_eq!(shapes, vec![vec![3, 12], vec![4, 12], vec![2, 12]]);
        // The output, then 1 final state(s).
        assert_eq!(layer.output_shapes(&input).unwrap().len(), 1 + 1);
    }
}

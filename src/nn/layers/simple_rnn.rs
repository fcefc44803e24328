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

#[cfg(test)]
mod tests {
    use crate::dtype::DType;
    use crate::nn::build_layer;

    #[test]
    fn builds_from_the_registry_with_keras_weight_shapes_and_states() {
        let input = vec![vec![None, Some(5), Some(3)]];
        let layer = build_layer(
            "SimpleRNN",
            &serde_json::json!({"units": 4, "return_state": true}),
            &input,
            DType::F64,
        )
        .unwrap();
        assert_eq!(layer.kind(), "SimpleRNN");
        let shapes: Vec<Vec<usize>> = layer
            .weights()
            .iter()
            .map(|w| w.tensor.shape().to_vec())
            .collect();
        assert_eq!(shapes, vec![vec![3, 4], vec![4, 4], vec![4]]);
        // The output, then 1 final state(s).
        assert_eq!(layer.output_shapes(&input).unwrap().len(), 1 + 1);
    }
}

//! `Conv1D`: a 1-D convolution over sequences, Keras's arguments and defaults, `"causal"`
//! padding included. The kernel is `(kernel_size, in_channels / groups, filters)` (PyTorch's
//! `Conv1d.weight` is its permutation `(filters, in / groups, kernel_size)`). Shares `Conv`
//! with `Conv2D`.

use super::conv2d::Conv;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "Conv1D",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Conv::build_rank(
                "Conv1D",
                1,
                parse_config("Conv1D", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::dtype::DType;
    use crate::nn::{Layer, Shape, build_layer};

    fn layer(config: serde_json::Value, shape: Shape) -> crate::error::Result<Box<dyn Layer>> {
        build_layer("Conv1D", &config, &[shape], DType::F64)
    }

    #[test]
    fn shapes_follow_keras_and_causal_padding_keeps_the_length() {
        let l = layer(
            serde_json::json!({"filters": 4, "kernel_size": [3], "padding": "causal",
                "dilation_rate": [2]}),
            vec![None, Some(10), Some(2)],
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[vec![None, Some(10), Some(2)]]).unwrap(),
            vec![None, Some(10), Some(4)]
        );
        assert_eq!(l.weights()[0].tensor.shape(), &[3, 2, 4]);
        let l = layer(
            serde_json::json!({"filters": 3, "kernel_size": [4], "strides": [2],
                "data_format": "channels_first"}),
            vec![None, Some(2), Some(9)],
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[vec![None, Some(2), Some(9)]]).unwrap(),
            vec![None, Some(3), Some(3)]
        );
        let e = layer(
            serde_json::json!({"filters": 3, "kernel_size": [4]}),
            vec![None, Some(3), Some(2)],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("Conv1D") && e.contains("(None, 3, 2)"), "{e}");
        let e = layer(
            serde_json::json!({"filters": 3, "kernel_size": [2, 2]}),
            vec![None, Some(3), Some(2)],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("Conv1D: kernel_size must have 1 entries"), "{e}");
    }
}

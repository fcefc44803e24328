//! `Conv1DTranspose`: a transposed 1-D convolution over sequences, Keras's arguments and
//! defaults. The kernel is `(kernel_size, filters, in_channels)` (PyTorch's
//! `ConvTranspose1d.weight` is its permutation `(in_channels, filters, kernel_size)`). Shares
//! `ConvTranspose` with `Conv2DTranspose`.

use super::conv2d_transpose::ConvTranspose;
use crate::nn::{LayerRegistration, parse_config};

inventory::submit! {
    LayerRegistration {
        kind: "Conv1DTranspose",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(ConvTranspose::build(
                "Conv1DTranspose",
                1,
                parse_config("Conv1DTranspose", config)?,
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
        build_layer("Conv1DTranspose", &config, &[shape], DType::F64)
    }

    #[test]
    fn shapes_follow_keras() {
        // Valid: 10 * 2 + max(3 - 2, 0) = 21; same: 10 * 2 = 20.
        for (padding, expected) in [("valid", 21), ("same", 20)] {
            let l = layer(
                serde_json::json!({"filters": 4, "kernel_size": [3], "strides": [2],
                    "padding": padding}),
                vec![None, Some(10), Some(2)],
            )
            .unwrap();
            assert_eq!(
                l.output_shape(&[vec![None, Some(10), Some(2)]]).unwrap(),
                vec![None, Some(expected), Some(4)]
            );
            assert_eq!(l.weights()[0].tensor.shape(), &[3, 4, 2]);
        }
        // An unknown length stays unknown.
        let l = layer(
            serde_json::json!({"filters": 1, "kernel_size": [2]}),
            vec![None, None, Some(3)],
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[vec![None, None, Some(3)]]).unwrap(),
            vec![None, None, Some(1)]
        );
    }
}

//! `Masking`: marks the time steps whose features all equal `mask_value` as padding, so that the
//! recurrent layers downstream skip them, and zeroes those steps.

use std::sync::Arc;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::storage::Storage;
use crate::tensor::Tensor;

fn zero() -> f64 {
    0.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingConfig {
    #[serde(default = "zero")]
    pub mask_value: f64,
}

/// For a (batch, time, features) input, a step is kept when any of its features differs from
/// `mask_value`; the output is the input with the other steps zeroed (Keras's
/// `inputs * any(inputs != mask_value, axis=-1, keepdims=True)`), and the (batch, time) mask
/// goes to the layers downstream.
pub struct Masking {
    config: MaskingConfig,
}

impl Masking {
    pub fn build(config: MaskingConfig, input_shapes: &[Shape]) -> Result<Masking> {
        if config.mask_value.is_nan() {
            return Err(Error::value(
                "Masking: mask_value must be a number, received mask_value=NaN",
            ));
        }
        let layer = Masking { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    /// The (batch, time) steps to keep.
    fn keep(&self, x: &Tensor) -> Result<Array2<bool>> {
        let &[batch, steps, features] = x.shape() else {
            return Err(Error::shape(
                "Masking",
                format!(
                    "expected a 3-D input (batch, time, features), received shape {:?}",
                    x.shape()
                ),
            ));
        };
        let values = x.to_f64_vec();
        let value = self.config.mask_value;
        let mut keep = Array2::from_elem((batch, steps), false);
        for (row, step) in values.chunks(features.max(1)).zip(keep.iter_mut()) {
            *step = features > 0 && row.iter().any(|&v| v != value);
        }
        Ok(keep)
    }
}

impl Layer for Masking {
    fn kind(&self) -> &'static str {
        "Masking"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let shape = single_shape("Masking", input)?;
        if shape.len() != 3 {
            return Err(Error::shape(
                "Masking",
                format!(
                    "expected a 3-D input (batch, time, features), received input shape {}",
                    format_shape(shape)
                ),
            ));
        }
        Ok(shape.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Masking", inputs)?;
        let keep = self.keep(x)?;
        let (batch, steps) = keep.dim();
        let factors = keep.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect();
        let factors = Tensor::new(
            Storage::from_f64_vec(x.dtype(), &[batch, steps, 1], factors)?,
            false,
        );
        x.mul(&factors)
    }

    /// The mask is computed from the input; any mask arriving with it is replaced, as in Keras.
    fn compute_mask(&self, inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        let x = single_input("Masking", inputs)?;
        Ok(Some(Arc::new(self.keep(x)?)))
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Masking",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Masking::build(parse_config("Masking", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::dtype::DType;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn masks_the_steps_equal_to_the_value_and_zeroes_them() {
        let shape = vec![None, Some(3), Some(2)];
        let layer = Masking::build(MaskingConfig { mask_value: -1.0 }, &[shape]).unwrap();
        let values = vec![
            1.0, 2.0, -1.0, -1.0, -1.0, 0.5, -1.0, -1.0, 3.0, 4.0, 5.0, 6.0,
        ];
        let x = Tensor::new(
            Storage::from_f64_vec(DType::F64, &[2, 3, 2], values).unwrap(),
            false,
        );
        let mask = layer
            .compute_mask(std::slice::from_ref(&x), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            mask.iter().copied().collect::<Vec<_>>(),
            vec![true, false, true, false, true, true]
        );
        let run = |x: &Tensor| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            let mut ctx = Context {
                training: false,
                rng: &mut rng,
                packed_kernels: None,
            };
            layer
                .forward(std::slice::from_ref(x), None, &mut ctx)
                .unwrap()
        };
        assert_eq!(
            run(&x).to_f64_vec(),
            vec![1.0, 2.0, 0.0, 0.0, -1.0, 0.5, 0.0, 0.0, 3.0, 4.0, 5.0, 6.0]
        );
        // Away from the padding value the mask is a constant and the gradient is the keep.
        check_gradients(&[randn(&[2, 3, 2], 5)], |t| run(&t[0]));
        assert!(Masking::build(MaskingConfig { mask_value: 0.0 }, &[vec![None, Some(2)]]).is_err());
    }
}

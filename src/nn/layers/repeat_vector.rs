//! `RepeatVector`: repeats a (batch, features) input `n` times along a new time axis.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatVectorConfig {
    pub n: usize,
}

/// Repeats a (batch, features) input `n` times: the output is (batch, n, features).
pub struct RepeatVector {
    config: RepeatVectorConfig,
}

impl RepeatVector {
    pub fn build(config: RepeatVectorConfig, input_shapes: &[Shape]) -> Result<RepeatVector> {
        if config.n == 0 {
            return Err(Error::value(
                "RepeatVector: n must be a positive integer, received n=0",
            ));
        }
        let layer = RepeatVector { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for RepeatVector {
    fn kind(&self) -> &'static str {
        "RepeatVector"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        match single_shape("RepeatVector", input)?.as_slice() {
            [batch, features] => Ok(vec![*batch, Some(self.config.n), *features]),
            other => Err(Error::shape(
                "RepeatVector",
                format!(
                    "expected a 2-D input (batch, features), received input shape {}",
                    format_shape(other)
                ),
            )),
        }
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RepeatVector", inputs)?;
        let &[batch, features] = x.shape() else {
            return Err(Error::shape(
                "RepeatVector",
                format!("expected a 2-D input, received shape {:?}", x.shape()),
            ));
        };
        // The broadcast's backward sums the gradient over the repeats.
        x.reshape(&[batch as isize, 1, features as isize])?
            .broadcast_to(&[batch, self.config.n, features])
    }

    /// The input has no time axis, so it has no mask to repeat.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RepeatVector",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RepeatVector::build(parse_config("RepeatVector", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &RepeatVector, x: &Tensor) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer
            .forward(std::slice::from_ref(x), None, &mut ctx)
            .unwrap()
    }

    #[test]
    fn repeats_along_a_new_time_axis() {
        let input = vec![None, Some(2)];
        let repeat =
            RepeatVector::build(RepeatVectorConfig { n: 3 }, std::slice::from_ref(&input)).unwrap();
        assert_eq!(
            repeat.output_shape(&[input]).unwrap(),
            vec![None, Some(3), Some(2)]
        );
        let x = randn(&[2, 2], 1);
        let y = run(&repeat, &x);
        assert_eq!(y.shape(), &[2, 3, 2]);
        let (xs, ys) = (x.to_f64_vec(), y.to_f64_vec());
        assert_eq!(&ys[0..6], &[xs[0], xs[1], xs[0], xs[1], xs[0], xs[1]]);
        check_gradients(&[x], |t| run(&repeat, &t[0]));
    }

    #[test]
    fn zero_repeats_and_3d_inputs_are_refused() {
        let err = RepeatVector::build(RepeatVectorConfig { n: 0 }, &[vec![None, Some(2)]])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("RepeatVector: n must be a positive integer, received n=0"));
        let err = RepeatVector::build(RepeatVectorConfig { n: 2 }, &[vec![None, Some(2), Some(2)]])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("(None, 2, 2)"), "{err}");
    }
}

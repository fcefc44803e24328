//! `Permute`: reorders the axes of every sample.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermuteConfig {
    /// A permutation of `1..=rank` (1-based, the batch axis is 0 and stays first).
    pub dims: Vec<usize>,
}

/// Reorders the axes of every sample: output axis `i` is input axis `dims[i - 1]`.
pub struct Permute {
    config: PermuteConfig,
    axes: Vec<isize>,
}

impl Permute {
    pub fn build(config: PermuteConfig, input_shapes: &[Shape]) -> Result<Permute> {
        let dims = &config.dims;
        let mut sorted = dims.clone();
        sorted.sort_unstable();
        if sorted != (1..=dims.len()).collect::<Vec<_>>() {
            return Err(Error::value(format!(
                "Permute: dims must be a permutation of 1..={} (the batch axis is not \
                 included), received dims={dims:?}",
                dims.len()
            )));
        }
        let input = single_shape("Permute", input_shapes)?;
        if input.len() != dims.len() + 1 {
            return Err(Error::shape(
                "Permute",
                format!(
                    "dims={dims:?} needs inputs of rank {}, received input shape {}",
                    dims.len() + 1,
                    format_shape(input)
                ),
            ));
        }
        let axes = std::iter::once(0)
            .chain(dims.iter().map(|&d| d as isize))
            .collect();
        Ok(Permute { config, axes })
    }
}

impl Layer for Permute {
    fn kind(&self) -> &'static str {
        "Permute"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("Permute", input)?;
        if input.len() != self.axes.len() {
            return Err(Error::shape(
                "Permute",
                format!(
                    "expected inputs of rank {}, received input shape {}",
                    self.axes.len(),
                    format_shape(input)
                ),
            ));
        }
        Ok(self.axes.iter().map(|&a| input[a as usize]).collect())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        single_input("Permute", inputs)?.transpose(Some(&self.axes))
    }

    /// The time axis may move, so a mask over it no longer applies.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Permute",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Permute::build(parse_config("Permute", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Permute, x: &Tensor) -> Tensor {
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
    fn moves_sample_axes_with_their_gradient() {
        let input = vec![None, Some(2), Some(3)];
        let permute = Permute::build(
            PermuteConfig { dims: vec![2, 1] },
            std::slice::from_ref(&input),
        )
        .unwrap();
        assert_eq!(
            permute.output_shape(&[input]).unwrap(),
            vec![None, Some(3), Some(2)]
        );
        let x = randn(&[2, 2, 3], 1);
        let y = run(&permute, &x);
        assert_eq!(y.shape(), &[2, 3, 2]);
        let (xs, ys) = (x.to_f64_vec(), y.to_f64_vec());
        // y[b, j, i] == x[b, i, j]
        assert_eq!(ys[6 + 2 + 1], xs[6 + 3 + 1]);
        check_gradients(&[x], |t| run(&permute, &t[0]));
    }

    #[test]
    fn repeated_or_out_of_range_dims_are_refused() {
        let input = vec![None, Some(2), Some(3)];
        for dims in [vec![1, 1], vec![0, 1], vec![2, 3]] {
            let err = Permute::build(
                PermuteConfig { dims: dims.clone() },
                std::slice::from_ref(&input),
            )
            .err()
            .unwrap()
            .to_string();
            assert!(err.contains("Permute: dims must be a permutation"), "{err}");
            assert!(err.contains(&format!("{dims:?}")), "{err}");
        }
        let err = Permute::build(PermuteConfig { dims: vec![1] }, &[input])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("rank 2"), "{err}");
    }
}

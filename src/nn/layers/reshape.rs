//! `Reshape`: gives every sample a new shape holding the same values.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReshapeConfig {
    /// The shape of one sample; one entry may be -1 (inferred from the others).
    pub target_shape: Vec<i64>,
}

/// Reshapes every sample to `target_shape` (the batch axis stays).
pub struct Reshape {
    config: ReshapeConfig,
}

fn shape_text(dims: &[i64]) -> String {
    let parts: Vec<String> = dims.iter().map(i64::to_string).collect();
    match parts.len() {
        1 => format!("({},)", parts[0]),
        _ => format!("({})", parts.join(", ")),
    }
}

impl Reshape {
    pub fn build(config: ReshapeConfig, input_shapes: &[Shape]) -> Result<Reshape> {
        let target = &config.target_shape;
        let inferred = target.iter().filter(|&&d| d == -1).count();
        if inferred > 1 || target.iter().any(|&d| d == 0 || d < -1) {
            return Err(Error::value(format!(
                "Reshape: target_shape must hold positive integers and at most one -1, \
                 received target_shape={}",
                shape_text(target)
            )));
        }
        let layer = Reshape { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    /// The target shape with its -1 resolved for a sample of `size` values (when known).
    fn resolve(&self, input: &Shape) -> Result<Vec<Option<usize>>> {
        let target = &self.config.target_shape;
        let known: usize = target
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .product();
        let size = input
            .iter()
            .skip(1)
            .try_fold(1usize, |acc, d| d.and_then(|d| acc.checked_mul(d)));
        let incompatible = || {
            Error::value(format!(
                "Reshape: the total size of the input ({}) is not compatible with \
                 target_shape={} (input shape {})",
                size.map_or("unknown".into(), |s| s.to_string()),
                shape_text(target),
                format_shape(input)
            ))
        };
        let mut resolved = Vec::with_capacity(target.len());
        for &d in target {
            resolved.push(if d > 0 {
                Some(d as usize)
            } else {
                match size {
                    Some(size) if known > 0 && size % known == 0 => Some(size / known),
                    Some(_) => return Err(incompatible()),
                    None => None,
                }
            });
        }
        if let Some(size) = size
            && !target.contains(&-1)
            && size != known
        {
            return Err(incompatible());
        }
        Ok(resolved)
    }
}

impl Layer for Reshape {
    fn kind(&self) -> &'static str {
        "Reshape"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("Reshape", input)?;
        if input.is_empty() {
            return Err(Error::shape(
                "Reshape",
                "the input must have a batch axis, received a 0-d shape",
            ));
        }
        let mut shape = vec![input[0]];
        shape.extend(self.resolve(input)?);
        Ok(shape)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Reshape", inputs)?;
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        let resolved = self.output_shape(&[shape])?;
        let target: Vec<isize> = resolved
            .iter()
            .map(|d| d.map_or(-1, |d| d as isize))
            .collect();
        x.reshape(&target)
    }

    /// A mask over time steps means nothing once the time axis is reshaped.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Reshape",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Reshape::build(parse_config("Reshape", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn layer(target: &[i64], input: &Shape) -> Result<Reshape> {
        Reshape::build(
            ReshapeConfig {
                target_shape: target.to_vec(),
            },
            std::slice::from_ref(input),
        )
    }

    fn run(layer: &Reshape, x: &Tensor) -> Tensor {
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
    fn reshapes_each_sample_and_infers_one_axis() {
        let input = vec![None, Some(2), Some(6)];
        let reshape = layer(&[3, -1], &input).unwrap();
        assert_eq!(
            reshape.output_shape(&[input]).unwrap(),
            vec![None, Some(3), Some(4)]
        );
        let x = randn(&[2, 2, 6], 1);
        let y = run(&reshape, &x);
        assert_eq!(y.shape(), &[2, 3, 4]);
        assert_eq!(y.to_f64_vec(), x.to_f64_vec());
        check_gradients(&[x], |t| run(&reshape, &t[0]));
    }

    #[test]
    fn incompatible_or_malformed_targets_are_refused() {
        let err = layer(&[5], &vec![None, Some(6)]).err().unwrap().to_string();
        assert!(err.contains("Reshape"), "{err}");
        assert!(
            err.contains("(6)") && err.contains("target_shape=(5,)"),
            "{err}"
        );
        let err = layer(&[-1, -1], &vec![None, Some(6)])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("target_shape=(-1, -1)"), "{err}");
        assert!(layer(&[0, 6], &vec![None, Some(6)]).is_err());
        assert!(layer(&[4, -1], &vec![None, Some(6)]).is_err());
        // An unknown sample size defers the check and leaves the -1 unknown.
        let open = layer(&[2, -1], &vec![None, None]).unwrap();
        assert_eq!(
            open.output_shape(&[vec![None, None]]).unwrap(),
            vec![None, Some(2), None]
        );
    }
}

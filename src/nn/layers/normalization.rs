//! `Normalization`: `(x - mean) / sqrt(variance)` with a mean and variance fixed before training
//! (given, or computed by `adapt` on data), or the inverse with `invert`.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, format_shape, parse_config,
    single_input, single_shape,
};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Keras's `backend.epsilon()`: the floor of the standard deviation divided by.
const EPSILON: f64 = 1e-7;

fn last_axis() -> Option<Vec<i64>> {
    Some(vec![-1])
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizationConfig {
    /// The axes that keep their own mean and variance; `None` for one mean over everything.
    #[serde(default = "last_axis")]
    pub axis: Option<Vec<i64>>,
    /// Given statistics, flattened over the kept axes (or one value for all); `None` for the
    /// `mean`, `variance` and `count` weights that `adapt` fills.
    #[serde(default)]
    pub mean: Option<Vec<f64>>,
    #[serde(default)]
    pub variance: Option<Vec<f64>>,
    #[serde(default)]
    pub invert: bool,
}

/// Normalises each position of the kept axes with its mean and variance: the statistics have the
/// input's shape with 1 on the other axes, and broadcast over them.
pub struct Normalization {
    config: NormalizationConfig,
    /// The shape the statistics broadcast from: the kept axes' sizes, 1 elsewhere.
    broadcast_shape: Vec<usize>,
    /// `mean`, `variance` and `count` (non-trainable, set by `adapt`); or the given constants.
    mean: Tensor,
    variance: Tensor,
    count: Option<Tensor>,
}

fn statistic(
    name: &str,
    values: &[f64],
    kept: usize,
    shape: &[usize],
    dtype: DType,
) -> Result<Tensor> {
    let values = match values.len() {
        1 => vec![values[0]; kept],
        n if n == kept => values.to_vec(),
        n => {
            return Err(Error::value(format!(
                "Normalization: {name} must hold one value or {kept} (one per position of the \
                 kept axes), received {n}"
            )));
        }
    };
    Ok(Tensor::new(
        Storage::from_f64_vec(dtype, shape, values)?,
        false,
    ))
}

impl Normalization {
    pub fn build(
        config: NormalizationConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Normalization> {
        let input = single_shape("Normalization", input_shapes)?;
        let rank = input.len();
        let mut kept = Vec::new();
        for &axis in config.axis.as_deref().unwrap_or(&[]) {
            let resolved = if axis < 0 { axis + rank as i64 } else { axis };
            if resolved <= 0 || resolved >= rank as i64 {
                return Err(Error::value(format!(
                    "Normalization: axis {axis} is out of range (or the batch axis) for input \
                     shape {}",
                    format_shape(input)
                )));
            }
            kept.push(resolved as usize);
        }
        let mut broadcast_shape = vec![1; rank];
        for &axis in &kept {
            broadcast_shape[axis] = input[axis].ok_or_else(|| {
                Error::value(format!(
                    "Normalization: all kept axes must have known sizes; axis {axis} of input \
                     shape {} is None",
                    format_shape(input)
                ))
            })?;
        }
        let positions: usize = broadcast_shape.iter().product();
        // The statistics' own shape (Keras's): the kept axes' sizes only.
        let kept_shape: Vec<usize> = kept.iter().map(|&axis| broadcast_shape[axis]).collect();
        let (mean, variance, count) = match (&config.mean, &config.variance) {
            (Some(mean), Some(variance)) => {
                if variance.iter().any(|&v| v < 0.0 || v.is_nan()) {
                    return Err(Error::value("Normalization: variance must be non-negative"));
                }
                (
                    statistic("mean", mean, positions, &kept_shape, dtype)?,
                    statistic("variance", variance, positions, &kept_shape, dtype)?,
                    None,
                )
            }
            (None, None) => (
                Tensor::zeros(&kept_shape, dtype)?,
                Tensor::full(&kept_shape, 1.0, dtype)?,
                Some(Tensor::zeros(&[], dtype)?),
            ),
            _ => {
                return Err(Error::value(
                    "Normalization: when setting values directly, both mean and variance must \
                     be set",
                ));
            }
        };
        Ok(Normalization {
            config,
            broadcast_shape,
            mean,
            variance,
            count,
        })
    }
}

impl Layer for Normalization {
    fn kind(&self) -> &'static str {
        "Normalization"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("Normalization", input)?;
        if input.len() != self.broadcast_shape.len() {
            return Err(Error::shape(
                "Normalization",
                format!(
                    "the layer was built for inputs of rank {}, received input shape {}",
                    self.broadcast_shape.len(),
                    format_shape(input)
                ),
            ));
        }
        Ok(input.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Normalization", inputs)?;
        // The statistics are constants of the pass: the standard deviation, floored at epsilon.
        let deviation: Vec<f64> = self
            .variance
            .to_f64_vec()
            .iter()
            .map(|&v| v.sqrt().max(EPSILON))
            .collect();
        let target: Vec<isize> = self.broadcast_shape.iter().map(|&d| d as isize).collect();
        let mean = self.mean.detach().reshape(&target)?;
        if self.config.invert {
            let scale = Tensor::new(
                Storage::from_f64_vec(x.dtype(), &self.broadcast_shape, deviation)?,
                false,
            );
            return x.mul(&scale)?.add(&mean);
        }
        let inverse = deviation.iter().map(|d| 1.0 / d).collect();
        let inverse = Tensor::new(
            Storage::from_f64_vec(x.dtype(), &self.broadcast_shape, inverse)?,
            false,
        );
        x.sub(&mean)?.mul(&inverse)
    }

    fn weights(&self) -> Vec<Weight> {
        let Some(count) = &self.count else {
            return Vec::new();
        };
        [
            ("mean", &self.mean),
            ("variance", &self.variance),
            ("count", count),
        ]
        .into_iter()
        .map(|(name, tensor)| Weight {
            name: name.into(),
            tensor: tensor.clone(),
            trainable: false,
        })
        .collect()
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Normalization",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Normalization::build(
                parse_config("Normalization", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn normalizes_with_given_statistics_and_inverts() {
        let config = |invert| NormalizationConfig {
            axis: Some(vec![-1]),
            mean: Some(vec![1.0, -2.0]),
            variance: Some(vec![4.0, 0.0]),
            invert,
        };
        let shape = vec![None, Some(2)];
        let forward =
            Normalization::build(config(false), std::slice::from_ref(&shape), DType::F64).unwrap();
        let inverse =
            Normalization::build(config(true), std::slice::from_ref(&shape), DType::F64).unwrap();
        let run = |layer: &Normalization, x: &Tensor| {
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
        let x = randn(&[3, 2], 4);
        let y = run(&forward, &x).to_f64_vec();
        let xs = x.to_f64_vec();
        assert!((y[0] - (xs[0] - 1.0) / 2.0).abs() < 1e-12);
        assert!((y[1] - (xs[1] + 2.0) / EPSILON).abs() < 1e-3);
        let back = run(&inverse, &run(&forward, &x)).to_f64_vec();
        for (a, b) in back.iter().zip(&xs) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
        // (The floored deviation of 1e-7 would drown finite differences: checked on the
        // inverse, which multiplies by it.)
        check_gradients(&[x], |t| run(&inverse, &t[0]));
        assert!(forward.weights().is_empty());
        let adaptable = Normalization::build(
            NormalizationConfig {
                axis: Some(vec![-1]),
                mean: None,
                variance: None,
                invert: false,
            },
            &[shape],
            DType::F32,
        )
        .unwrap();
        assert_eq!(adaptable.weights().len(), 3);
    }
}

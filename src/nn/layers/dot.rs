//! `Dot`: the dot product of two inputs along an axis of each (Keras's merge layer; the batch
//! axis is kept), optionally of the L2-normalised inputs (the cosine proximity). Built from
//! tensor ops, so gradients are automatic.

use serde::{Deserialize, Serialize};

use super::merge::{dims_agree, list_shapes};
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::ops::binary::BinaryOp;
use crate::tensor::Tensor;

/// `axes` of Keras's `Dot`: one axis for both inputs, or one per input.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DotAxes {
    Same(isize),
    Pair([isize; 2]),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DotConfig {
    pub axes: DotAxes,
    #[serde(default)]
    pub normalize: bool,
}

/// The dot product of two inputs of rank 2 or 3 along `axes`.
pub struct Dot {
    config: DotConfig,
}

impl Dot {
    pub fn build(config: DotConfig, input_shapes: &[Shape]) -> Result<Dot> {
        let layer = Dot { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    /// The contracted axis of each input, non-negative, refusing the batch axis.
    fn axes(&self, ranks: [usize; 2]) -> Result<[usize; 2]> {
        let given = match self.config.axes {
            DotAxes::Same(a) => [a, a],
            DotAxes::Pair(p) => p,
        };
        let mut out = [0; 2];
        for i in 0..2 {
            let rank = ranks[i] as isize;
            let axis = if given[i] < 0 {
                given[i] + rank
            } else {
                given[i]
            };
            if axis < 1 || axis >= rank {
                return Err(Error::value(format!(
                    "Dot: axes={:?} names axis {} of input {i}, which is not a non-batch axis of \
                     an input of rank {rank}",
                    self.config.axes, given[i]
                )));
            }
            out[i] = axis as usize;
        }
        Ok(out)
    }

    fn normalized(x: &Tensor, axis: usize) -> Result<Tensor> {
        let norm = x
            .square()?
            .sum(Some(&[axis as isize]), true)?
            .scalar_op(BinaryOp::Maximum, 1e-12, false)?
            .sqrt()?;
        x.div(&norm)
    }
}

impl Layer for Dot {
    fn kind(&self) -> &'static str {
        "Dot"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        if input.len() != 2 {
            return Err(Error::value(format!(
                "a Dot layer should be called on exactly 2 inputs, received {} (shapes {})",
                input.len(),
                list_shapes(input)
            )));
        }
        let (a, b) = (&input[0], &input[1]);
        if !(a.len() == b.len() && (a.len() == 2 || a.len() == 3)) {
            return Err(Error::value(format!(
                "Dot supports two inputs of rank 2 or two of rank 3, received shapes {}",
                list_shapes(input)
            )));
        }
        let [ia, ib] = self.axes([a.len(), b.len()])?;
        if !dims_agree(a[ia], b[ib]) || !dims_agree(a[0], b[0]) {
            return Err(Error::shape(
                "Dot",
                format!(
                    "incompatible input shapes for axes={:?}: axis {ia} of {} differs from axis \
                     {ib} of {}",
                    self.config.axes,
                    crate::nn::format_shape(a),
                    crate::nn::format_shape(b)
                ),
            ));
        }
        let mut out: Shape = vec![a[0].or(b[0])];
        out.extend(
            a.iter()
                .enumerate()
                .skip(1)
                .filter(|(i, _)| *i != ia)
                .map(|(_, d)| *d),
        );
        out.extend(
            b.iter()
                .enumerate()
                .skip(1)
                .filter(|(i, _)| *i != ib)
                .map(|(_, d)| *d),
        );
        if out.len() == 1 {
            out.push(Some(1));
        }
        Ok(out)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let shapes: Vec<Shape> = inputs
            .iter()
            .map(|t| t.shape().iter().map(|&d| Some(d)).collect())
            .collect();
        self.output_shape(&shapes)?;
        let [ia, ib] = self.axes([inputs[0].ndim(), inputs[1].ndim()])?;
        let (mut x, mut y) = (inputs[0].clone(), inputs[1].clone());
        if self.config.normalize {
            x = Self::normalized(&x, ia)?;
            y = Self::normalized(&y, ib)?;
        }
        if x.ndim() == 2 {
            return x.mul(&y)?.sum(Some(&[1]), true);
        }
        // Rank 3: the contracted axis last in x and first (after the batch) in y.
        if ia == 1 {
            x = x.transpose(Some(&[0, 2, 1]))?;
        }
        if ib == 2 {
            y = y.transpose(Some(&[0, 2, 1]))?;
        }
        x.matmul(&y)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Dot",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Dot::build(parse_config("Dot", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &Dot, inputs: &[Tensor]) -> Result<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(inputs, None, &mut ctx)
    }

    fn dot(axes: DotAxes, normalize: bool, shapes: &[Shape]) -> Dot {
        Dot::build(DotConfig { axes, normalize }, shapes).unwrap()
    }

    #[test]
    fn rank_two_is_a_row_dot_product() {
        let layer = dot(
            DotAxes::Same(1),
            false,
            &[vec![None, Some(3)], vec![None, Some(3)]],
        );
        let (a, b) = (randn(&[2, 3], 1), randn(&[2, 3], 2));
        let out = run(&layer, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(out.shape(), &[2, 1]);
        let (av, bv) = (a.to_f64_vec(), b.to_f64_vec());
        for r in 0..2 {
            let e: f64 = (0..3).map(|j| av[r * 3 + j] * bv[r * 3 + j]).sum();
            assert!((out.to_f64_vec()[r] - e).abs() < 1e-12);
        }
        check_gradients(&[a.clone(), b.clone()], |t| run(&layer, t).unwrap());
        let cosine = dot(
            DotAxes::Same(1),
            true,
            &[vec![None, Some(3)], vec![None, Some(3)]],
        );
        let same = run(&cosine, &[a.clone(), a.clone()]).unwrap().to_f64_vec();
        assert!(same.iter().all(|v| (v - 1.0).abs() < 1e-12), "{same:?}");
        check_gradients(&[a, b], |t| run(&cosine, t).unwrap());
    }

    #[test]
    fn rank_three_contracts_the_named_axes() {
        let shapes = [vec![None, Some(4), Some(3)], vec![None, Some(4), Some(5)]];
        let layer = dot(DotAxes::Same(1), false, &shapes);
        assert_eq!(
            layer.output_shape(&shapes).unwrap(),
            vec![None, Some(3), Some(5)]
        );
        let (a, b) = (randn(&[2, 4, 3], 1), randn(&[2, 4, 5], 2));
        let out = run(&layer, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(out.shape(), &[2, 3, 5]);
        let (av, bv, ov) = (a.to_f64_vec(), b.to_f64_vec(), out.to_f64_vec());
        let e: f64 = (0..4)
            .map(|k| av[12 + k * 3 + 2] * bv[20 + k * 5 + 4])
            .sum();
        assert!((ov[15 + 2 * 5 + 4] - e).abs() < 1e-12);
        check_gradients(&[a, b], |t| run(&layer, t).unwrap());
        let pair = dot(
            DotAxes::Pair([2, 1]),
            true,
            &[vec![None, Some(4), Some(3)], vec![None, Some(3), Some(5)]],
        );
        check_gradients(&[randn(&[2, 4, 3], 3), randn(&[2, 3, 5], 4)], |t| {
            run(&pair, t).unwrap()
        });
    }

    #[test]
    fn bad_axes_and_shapes_are_refused() {
        let err = Dot::build(
            DotConfig {
                axes: DotAxes::Same(1),
                normalize: false,
            },
            &[vec![None, Some(3)], vec![None, Some(4)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("(None, 3)") && err.contains("(None, 4)"),
            "{err}"
        );
        assert!(
            Dot::build(
                DotConfig {
                    axes: DotAxes::Same(0),
                    normalize: false
                },
                &[vec![None, Some(3)], vec![None, Some(3)]]
            )
            .is_err()
        );
        assert!(
            Dot::build(
                DotConfig {
                    axes: DotAxes::Same(1),
                    normalize: false
                },
                &[vec![None, Some(3)]]
            )
            .is_err()
        );
    }
}

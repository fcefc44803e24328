//! `PReLU`: a leaky ReLU whose slopes below zero are trained.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{Initializer, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape, total_penalty,
};
use crate::tensor::Tensor;

fn zeros() -> Initializer {
    Zeros {}.into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PReLUConfig {
    #[serde(default = "zeros")]
    pub alpha_initializer: Initializer,
    #[serde(default)]
    pub alpha_regularizer: Option<Regularizer>,
    /// The axes (1-based, the batch axis is 0) along which one slope is shared.
    #[serde(default)]
    pub shared_axes: Option<Vec<usize>>,
}

/// `x` where `x > 0`, `alpha * x` elsewhere, with a trained `alpha` of one sample's shape
/// (size 1 along `shared_axes`, broadcast there).
pub struct PReLU {
    config: PReLUConfig,
    alpha: Tensor,
}

impl PReLU {
    pub fn build(config: PReLUConfig, input_shapes: &[Shape], dtype: DType) -> Result<PReLU> {
        let input = single_shape("PReLU", input_shapes)?;
        if input.len() < 2 {
            return Err(Error::shape(
                "PReLU",
                format!(
                    "the input must have a batch axis and at least one more, received input \
                     shape {}",
                    format_shape(input)
                ),
            ));
        }
        let shared = config.shared_axes.clone().unwrap_or_default();
        if let Some(&bad) = shared.iter().find(|&&a| a == 0 || a >= input.len()) {
            return Err(Error::value(format!(
                "PReLU: shared_axes must name axes 1..={} of inputs of shape {}, received \
                 shared_axes={shared:?} (axis {bad})",
                input.len() - 1,
                format_shape(input)
            )));
        }
        let mut alpha_shape = Vec::with_capacity(input.len() - 1);
        for (axis, dim) in input.iter().enumerate().skip(1) {
            alpha_shape.push(if shared.contains(&axis) {
                1
            } else {
                dim.ok_or_else(|| {
                    Error::shape(
                        "PReLU",
                        format!(
                            "axis {axis} of the input shape {} must be known or listed in \
                             shared_axes",
                            format_shape(input)
                        ),
                    )
                })?
            });
        }
        let alpha = config.alpha_initializer.tensor(&alpha_shape, dtype)?;
        alpha.set_requires_grad(true)?;
        Ok(PReLU { config, alpha })
    }
}

impl Layer for PReLU {
    fn kind(&self) -> &'static str {
        "PReLU"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("PReLU", input)?.clone())
    }

    /// Keras's `relu(x) - alpha * relu(-x)`.
    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("PReLU", inputs)?;
        x.relu()?.sub(&self.alpha.mul(&x.neg()?.relu()?)?)
    }

    fn weights(&self) -> Vec<Weight> {
        vec![Weight {
            name: "alpha".into(),
            tensor: self.alpha.clone(),
            trainable: true,
        }]
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        total_penalty(&[(self.config.alpha_regularizer, Some(&self.alpha))])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "PReLU",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(PReLU::build(parse_config("PReLU", config)?, input_shapes, dtype)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &PReLU, x: &Tensor) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: true,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer
            .forward(std::slice::from_ref(x), None, &mut ctx)
            .unwrap()
    }

    fn config(shared_axes: Option<Vec<usize>>) -> PReLUConfig {
        PReLUConfig {
            alpha_initializer: zeros(),
            alpha_regularizer: None,
            shared_axes,
        }
    }

    #[test]
    fn slopes_are_trained_and_shared_along_the_shared_axes() {
        let input = vec![None, Some(3), Some(2)];
        let layer = PReLU::build(config(Some(vec![1])), &[input], DType::F64).unwrap();
        assert_eq!(layer.alpha.shape(), &[1, 2]);
        let alpha = randn(&[1, 2], 7);
        let layer = PReLU {
            alpha: alpha.clone(),
            ..layer
        };
        let x = randn(&[2, 3, 2], 1);
        let (xs, ys, a) = (
            x.to_f64_vec(),
            run(&layer, &x).to_f64_vec(),
            alpha.to_f64_vec(),
        );
        for (i, (x, y)) in xs.iter().zip(&ys).enumerate() {
            let expected = if *x > 0.0 { *x } else { a[i % 2] * x };
            assert!((y - expected).abs() < 1e-12);
        }
        check_gradients(&[x, alpha], |t| {
            let layer = PReLU {
                config: config(Some(vec![1])),
                alpha: t[1].clone(),
            };
            run(&layer, &t[0])
        });
    }

    #[test]
    fn bad_shared_axes_and_unknown_axes_are_refused() {
        let input = vec![None, Some(3), Some(2)];
        let err = PReLU::build(config(Some(vec![3])), &[input], DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("PReLU: shared_axes") && err.contains("[3]"),
            "{err}"
        );
        assert!(PReLU::build(config(None), &[vec![None, None, Some(2)]], DType::F32).is_err());
        let layer = PReLU::build(
            config(Some(vec![1])),
            &[vec![None, None, Some(2)]],
            DType::F32,
        );
        assert_eq!(layer.unwrap().alpha.shape(), &[1, 2]);
    }
}

//! `LayerNormalization`: normalises each sample over its feature axes.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{Initializer, Ones, Zeros};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Regularizer, Shape, Weight, format_shape,
    parse_config, single_input, single_shape, total_penalty,
};
use crate::tensor::Tensor;

/// One axis or several, as Keras accepts (and as a model file stores it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Axes {
    One(i64),
    Many(Vec<i64>),
}

impl Axes {
    fn list(&self) -> Vec<i64> {
        match self {
            Axes::One(axis) => vec![*axis],
            Axes::Many(axes) => axes.clone(),
        }
    }

    /// As Python writes it: `-1` or `[1, 2]`.
    fn text(&self) -> String {
        match self {
            Axes::One(axis) => axis.to_string(),
            Axes::Many(axes) => format!("{axes:?}"),
        }
    }
}

fn last_axis() -> Axes {
    Axes::One(-1)
}

fn keras_epsilon() -> f64 {
    1e-3
}

fn default_true() -> bool {
    true
}

fn zeros() -> Initializer {
    Zeros {}.into()
}

fn ones() -> Initializer {
    Ones {}.into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNormalizationConfig {
    #[serde(default = "last_axis")]
    pub axis: Axes,
    #[serde(default = "keras_epsilon")]
    pub epsilon: f64,
    #[serde(default = "default_true")]
    pub center: bool,
    #[serde(default = "default_true")]
    pub scale: bool,
    #[serde(default = "zeros")]
    pub beta_initializer: Initializer,
    #[serde(default = "ones")]
    pub gamma_initializer: Initializer,
    #[serde(default)]
    pub beta_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub gamma_regularizer: Option<Regularizer>,
}

/// `(x - mean) / sqrt(variance + epsilon) * gamma + beta`, with the mean and variance of each
/// sample over `axis`, and `gamma`, `beta` of the shape of those axes.
pub struct LayerNormalization {
    config: LayerNormalizationConfig,
    /// The normalised axes, non-negative and sorted.
    axes: Vec<isize>,
    gamma: Option<Tensor>,
    beta: Option<Tensor>,
}

impl LayerNormalization {
    pub fn build(
        config: LayerNormalizationConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<LayerNormalization> {
        let input = single_shape("LayerNormalization", input_shapes)?;
        let rank = input.len() as i64;
        if !config.epsilon.is_finite() || config.epsilon <= 0.0 {
            return Err(Error::value(format!(
                "LayerNormalization: epsilon must be a positive number, received epsilon={}",
                config.epsilon
            )));
        }
        let mut axes = Vec::new();
        for axis in config.axis.list() {
            let resolved = if axis < 0 { axis + rank } else { axis };
            if resolved < 1 || resolved >= rank || axes.contains(&(resolved as isize)) {
                return Err(Error::value(format!(
                    "LayerNormalization: axis={} must name distinct non-batch axes of inputs \
                     of shape {}",
                    config.axis.text(),
                    format_shape(input)
                )));
            }
            axes.push(resolved as isize);
        }
        if axes.is_empty() {
            return Err(Error::value(
                "LayerNormalization: axis must name at least one axis, received axis=[]",
            ));
        }
        axes.sort_unstable();
        let mut param_shape = Vec::with_capacity(axes.len());
        for &axis in &axes {
            param_shape.push(input[axis as usize].ok_or_else(|| {
                Error::shape(
                    "LayerNormalization",
                    format!(
                        "axis {axis} of the input shape {} must be known",
                        format_shape(input)
                    ),
                )
            })?);
        }
        let parameter = |wanted: bool, initializer: &Initializer| -> Result<Option<Tensor>> {
            if !wanted {
                return Ok(None);
            }
            let t = initializer.tensor(&param_shape, dtype)?;
            t.set_requires_grad(true)?;
            Ok(Some(t))
        };
        let gamma = parameter(config.scale, &config.gamma_initializer)?;
        let beta = parameter(config.center, &config.beta_initializer)?;
        Ok(LayerNormalization {
            config,
            axes,
            gamma,
            beta,
        })
    }

    /// `param` (of the normalised axes' shape) reshaped to broadcast against a rank-`rank`
    /// input.
    fn broadcastable(&self, param: &Tensor, input: &[usize]) -> Result<Tensor> {
        let shape: Vec<isize> = (0..input.len())
            .map(|axis| {
                if self.axes.contains(&(axis as isize)) {
                    input[axis] as isize
                } else {
                    1
                }
            })
            .collect();
        param.reshape(&shape)
    }
}

impl Layer for LayerNormalization {
    fn kind(&self) -> &'static str {
        "LayerNormalization"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("LayerNormalization", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("LayerNormalization", inputs)?;
        if x.ndim() <= *self.axes.last().unwrap_or(&0) as usize {
            return Err(Error::shape(
                "LayerNormalization",
                format!("input of shape {:?} lacks axis {:?}", x.shape(), self.axes),
            ));
        }
        let mean = x.mean(Some(&self.axes), true)?;
        let centered = x.sub(&mean)?;
        let variance = centered.square()?.mean(Some(&self.axes), true)?;
        let std = variance
            .add(&Tensor::scalar(self.config.epsilon, x.dtype()))?
            .sqrt()?;
        let mut y = centered.div(&std)?;
        if let Some(gamma) = &self.gamma {
            y = y.mul(&self.broadcastable(gamma, x.shape())?)?;
        }
        if let Some(beta) = &self.beta {
            y = y.add(&self.broadcastable(beta, x.shape())?)?;
        }
        Ok(y)
    }

    fn weights(&self) -> Vec<Weight> {
        let named = [("gamma", &self.gamma), ("beta", &self.beta)];
        named
            .into_iter()
            .filter_map(|(name, t)| {
                t.as_ref().map(|t| Weight {
                    name: name.into(),
                    tensor: t.clone(),
                    trainable: true,
                })
            })
            .collect()
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        total_penalty(&[
            (self.config.gamma_regularizer, self.gamma.as_ref()),
            (self.config.beta_regularizer, self.beta.as_ref()),
        ])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "LayerNormalization",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(LayerNormalization::build(
                parse_config("LayerNormalization", config)?,
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

    fn config(axis: Vec<i64>) -> LayerNormalizationConfig {
        let axis = if axis.len() == 1 {
            Axes::One(axis[0])
        } else {
            Axes::Many(axis)
        };
        serde_json::from_value(serde_json::json!({ "axis": axis })).unwrap()
    }

    fn run(layer: &LayerNormalization, x: &Tensor) -> Tensor {
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

    #[test]
    fn normalises_each_sample_over_its_axes() {
        let input = vec![None, Some(3), Some(4)];
        let layer = LayerNormalization::build(config(vec![-1]), &[input], DType::F64).unwrap();
        assert_eq!(layer.config.epsilon, 1e-3);
        let x = randn(&[2, 3, 4], 1);
        let (xs, ys) = (x.to_f64_vec(), run(&layer, &x).to_f64_vec());
        for row in 0..6 {
            let v = &xs[row * 4..row * 4 + 4];
            let mean = v.iter().sum::<f64>() / 4.0;
            let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 4.0;
            for i in 0..4 {
                let expected = (v[i] - mean) / (var + 1e-3).sqrt();
                assert!((ys[row * 4 + i] - expected).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn gradients_reach_input_gamma_and_beta() {
        let input = vec![None, Some(3), Some(2)];
        let built = LayerNormalization::build(config(vec![1, 2]), &[input], DType::F64).unwrap();
        assert_eq!(built.gamma.as_ref().unwrap().shape(), &[3, 2]);
        let (x, gamma, beta) = (randn(&[2, 3, 2], 1), randn(&[3, 2], 2), randn(&[3, 2], 3));
        check_gradients(&[x, gamma, beta], |t| {
            let layer = LayerNormalization {
                config: built.config.clone(),
                axes: built.axes.clone(),
                gamma: Some(t[1].clone()),
                beta: Some(t[2].clone()),
            };
            run(&layer, &t[0])
        });
    }

    #[test]
    fn bad_axes_and_epsilons_are_refused() {
        let input = vec![None, Some(3)];
        for axis in [vec![0], vec![2], vec![1, -1]] {
            let err = LayerNormalization::build(
                config(axis.clone()),
                std::slice::from_ref(&input),
                DType::F32,
            )
            .err()
            .unwrap()
            .to_string();
            assert!(err.contains("LayerNormalization: axis="), "{err}");
            assert!(
                err.contains(&format!("{:?}", axis.last().unwrap())),
                "{err}"
            );
        }
        let mut bad = config(vec![-1]);
        bad.epsilon = 0.0;
        let err = LayerNormalization::build(bad, &[input], DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("epsilon=0"), "{err}");
    }
}

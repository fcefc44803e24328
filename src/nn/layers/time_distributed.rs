//! `TimeDistributed`: applies one layer to every time step of a sequence, with the same weights
//! at every step.

use serde::{Deserialize, Serialize};

use super::bidirectional::WrappedLayer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, build_layer, format_shape,
    parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeDistributedConfig {
    pub layer: WrappedLayer,
}

/// Applies the wrapped layer to each step of a `(batch, time, ...)` input: the batch and time
/// axes are folded into one, the layer runs once on `(batch * time, ...)`, and the result is
/// unfolded to `(batch, time, ...)`. Every step shares the wrapped layer's weights, and the
/// input's mask passes through.
pub struct TimeDistributed {
    config: TimeDistributedConfig,
    inner: Box<dyn Layer>,
}

/// `shape` without its time axis: `(batch, time, rest...)` to `(batch, rest...)`.
fn step_shape(shape: &Shape) -> Result<Shape> {
    if shape.len() < 3 {
        return Err(Error::shape(
            "TimeDistributed",
            format!(
                "expected an input of at least 3 dimensions (batch, time, ...), received input \
                 shape {}",
                format_shape(shape)
            ),
        ));
    }
    let mut step = vec![None];
    step.extend_from_slice(&shape[2..]);
    Ok(step)
}

impl TimeDistributed {
    pub fn build(
        config: TimeDistributedConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<TimeDistributed> {
        let input = single_shape("TimeDistributed", input_shapes)?;
        let step = step_shape(input)?;
        let inner = build_layer(
            &config.layer.class_name,
            &config.layer.config,
            std::slice::from_ref(&step),
            dtype,
        )
        .map_err(|e| Error::value(format!("TimeDistributed: the wrapped layer: {e}")))?;
        if inner.output_shapes(std::slice::from_ref(&step))?.len() != 1 {
            return Err(Error::value(format!(
                "TimeDistributed wraps a layer of one output; the {} layer has several",
                config.layer.class_name
            )));
        }
        let layer = TimeDistributed { config, inner };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for TimeDistributed {
    fn kind(&self) -> &'static str {
        "TimeDistributed"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("TimeDistributed", input)?;
        let step = self.inner.output_shape(&[step_shape(input)?])?;
        let mut shape = vec![input[0], input[1]];
        shape.extend_from_slice(&step[1..]);
        Ok(shape)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("TimeDistributed", inputs)?;
        let shape = x.shape();
        if shape.len() < 3 {
            return Err(Error::shape(
                "TimeDistributed",
                format!("expected an input of at least 3 dimensions, received shape {shape:?}"),
            ));
        }
        let (batch, steps) = (shape[0], shape[1]);
        let mut folded: Vec<isize> = vec![(batch * steps) as isize];
        folded.extend(shape[2..].iter().map(|&d| d as isize));
        // The wrapped layer sees every step of every sample as one batch of rows.
        let y = self.inner.forward(&[x.reshape(&folded)?], None, ctx)?;
        let mut unfolded: Vec<isize> = vec![batch as isize, steps as isize];
        unfolded.extend(y.shape()[1..].iter().map(|&d| d as isize));
        y.reshape(&unfolded)
    }

    fn weights(&self) -> Vec<Weight> {
        self.inner.weights()
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        self.inner.regularization_loss()
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "TimeDistributed",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(TimeDistributed::build(
                parse_config("TimeDistributed", config)?,
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
    fn dense_at_every_step_shares_its_weights() {
        let config = TimeDistributedConfig {
            layer: WrappedLayer {
                class_name: "Dense".into(),
                config: serde_json::json!({"units": 2}),
            },
        };
        let input = vec![None, Some(3), Some(4)];
        let layer =
            TimeDistributed::build(config, std::slice::from_ref(&input), DType::F64).unwrap();
        assert_eq!(
            layer.output_shape(&[input]).unwrap(),
            vec![None, Some(3), Some(2)]
        );
        assert_eq!(layer.weights().len(), 2);
        let x = randn(&[2, 3, 4], 1);
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
        let y = run(&x);
        assert_eq!(y.shape(), &[2, 3, 2]);
        // Step 1 of sample 1 is the Dense layer applied to that row alone.
        let kernel = layer.weights()[0].tensor.to_f64_vec();
        let xs = x.to_f64_vec();
        let row = &xs[(3 + 1) * 4..(3 + 2) * 4];
        let expected: f64 = (0..4).map(|i| row[i] * kernel[i * 2]).sum();
        assert!((y.to_f64_vec()[(3 + 1) * 2] - expected).abs() < 1e-12);
        check_gradients(&[x], |t| run(&t[0]));
        let err = TimeDistributed::build(
            TimeDistributedConfig {
                layer: WrappedLayer {
                    class_name: "Dense".into(),
                    config: serde_json::json!({"units": 2}),
                },
            },
            &[vec![None, Some(4)]],
            DType::F64,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("TimeDistributed"), "{err}");
    }
}

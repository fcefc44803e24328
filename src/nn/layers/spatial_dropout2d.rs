//! `SpatialDropout2D`: during training, whole feature maps (channels) are zeroed with
//! probability `rate` and the others scaled by `1 / (1 - rate)`; the identity at inference.
//! Shares `SpatialDropout` with `SpatialDropout1D`.
//!
//! The mask is one draw per (sample, channel), from the library generator (`fg.set_seed`),
//! broadcast over the spatial axes: Keras's `Dropout` with `noise_shape=(batch, 1, 1,
//! channels)`.

use serde::{Deserialize, Serialize};

use super::conv2d::{channels_last, in_layer, is_channels_first};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::dropout::dropout;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpatialDropoutConfig {
    pub rate: f64,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Drops whole channels of inputs with `rank` spatial axes.
pub struct SpatialDropout {
    kind: &'static str,
    rank: usize,
    config: SpatialDropoutConfig,
    channels_first: bool,
}

impl SpatialDropout {
    pub fn build(
        kind: &'static str,
        rank: usize,
        config: SpatialDropoutConfig,
        input_shapes: &[Shape],
    ) -> Result<SpatialDropout> {
        if !(0.0..1.0).contains(&config.rate) {
            return Err(Error::value(format!(
                "{kind}: rate must be in [0, 1), received rate={}",
                config.rate
            )));
        }
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = SpatialDropout {
            kind,
            rank,
            config,
            channels_first,
        };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for SpatialDropout {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape(self.kind, input)?;
        if input.len() != self.rank + 2 {
            return Err(Error::value(format!(
                "{}: expects inputs of rank {}, received input shape {}",
                self.kind,
                self.rank + 2,
                format_shape(input)
            )));
        }
        Ok(input.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input(self.kind, inputs)?;
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.output_shape(&[shape])?;
        if !ctx.training || self.config.rate == 0.0 {
            return Ok(x.clone());
        }
        // One value per (sample, channel), ones along the spatial axes.
        let channel_axis = if self.channels_first {
            1
        } else {
            self.rank + 1
        };
        let noise: Vec<usize> = (0..x.ndim())
            .map(|a| {
                if a == 0 || a == channel_axis {
                    x.shape()[a]
                } else {
                    1
                }
            })
            .collect();
        let keep = dropout(
            &Tensor::full(&noise, 1.0, x.dtype())?,
            self.config.rate,
            ctx.rng,
        )?;
        x.mul(&keep).map_err(in_layer(self.kind, x))
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "SpatialDropout2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(SpatialDropout::build(
                "SpatialDropout2D",
                2,
                parse_config("SpatialDropout2D", config)?,
                input_shapes,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::nn::build_layer;
    use rand::SeedableRng;

    #[test]
    fn drops_whole_channels_in_training_only() {
        let shape = vec![None, Some(3), Some(4), Some(64)];
        let l = build_layer(
            "SpatialDropout2D",
            &serde_json::json!({"rate": 0.5}),
            &[shape],
            DType::F64,
        )
        .unwrap();
        let x = Tensor::full(&[2, 3, 4, 64], 1.0, DType::F64).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        let y = l.forward(std::slice::from_ref(&x), None, &mut ctx).unwrap();
        assert_eq!(y.to_f64_vec(), x.to_f64_vec());
        ctx.training = true;
        let y = l.forward(&[x], None, &mut ctx).unwrap().to_f64_vec();
        let mut dropped = 0;
        for n in 0..2 {
            for c in 0..64 {
                let values: Vec<f64> = (0..12).map(|p| y[(n * 12 + p) * 64 + c]).collect();
                assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
                assert!(values[0] == 0.0 || values[0] == 2.0);
                dropped += usize::from(values[0] == 0.0);
            }
        }
        assert!((32..96).contains(&dropped), "{dropped}");
    }
}

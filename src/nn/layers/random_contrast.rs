//! `RandomContrast`: each image's contrast scaled by a random factor while training.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{ImageLayout, LayerRng, check_factor, check_tensor, uniform};
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::storage::Storage;
use crate::tensor::Tensor;

fn byte_range() -> [f64; 2] {
    [0.0, 255.0]
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomContrastConfig {
    /// `(lower, upper)`, each in [0, 1]: the contrast factor is drawn from
    /// `[1 - lower, 1 + upper]`.
    pub factor: [f64; 2],
    #[serde(default = "byte_range")]
    pub value_range: [f64; 2],
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// While training, maps each image to `(x - mean) * f + mean`, clipped to `value_range`, with
/// `mean` the image's mean per channel and `f` drawn per image uniformly from
/// `[1 - lower, 1 + upper]`; the identity at inference. Made of differentiable ops, so the
/// gradient passes to the input.
pub struct RandomContrast {
    config: RandomContrastConfig,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomContrast {
    pub fn build(config: RandomContrastConfig, input_shapes: &[Shape]) -> Result<RandomContrast> {
        check_factor("RandomContrast", "factor", config.factor, None)?;
        let [lower, upper] = config.factor;
        let [low, high] = config.value_range;
        if !(0.0..=1.0).contains(&lower) || !(0.0..=1.0).contains(&upper) {
            return Err(Error::value(format!(
                "RandomContrast: factor must be (lower, upper) with both in [0, 1], received \
                 factor={:?}",
                config.factor
            )));
        }
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(Error::value(format!(
                "RandomContrast: value_range must be (low, high) with low < high, received \
                 value_range={:?}",
                config.value_range
            )));
        }
        let layout = ImageLayout::new("RandomContrast", &config.data_format)?;
        layout.spatial("RandomContrast", input_shapes)?;
        Ok(RandomContrast {
            rng: LayerRng::new(config.seed),
            config,
            layout,
        })
    }
}

impl Layer for RandomContrast {
    fn kind(&self) -> &'static str {
        "RandomContrast"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomContrast", input)?;
        Ok(input[0].clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomContrast", inputs)?;
        check_tensor("RandomContrast", &self.layout, x)?;
        let batch = x.shape()[0];
        if !ctx.training || batch == 0 {
            return Ok(x.clone());
        }
        let [lower, upper] = self.config.factor;
        let factors: Vec<f64> = self.rng.with(ctx, |rng| {
            (0..batch)
                .map(|_| uniform(rng, 1.0 - lower, 1.0 + upper))
                .collect()
        });
        let factors = Tensor::new(
            Storage::from_f64_vec(x.dtype(), &[batch, 1, 1, 1], factors)?,
            false,
        );
        let spatial: [isize; 2] = if self.layout.channels_first {
            [2, 3]
        } else {
            [1, 2]
        };
        let mean = x.mean(Some(&spatial), true)?;
        let y = x.sub(&mean)?.mul(&factors)?.add(&mean)?;
        let [low, high] = self.config.value_range;
        y.clip(Some(low), Some(high))
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomContrast",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomContrast::build(
                parse_config("RandomContrast", config)?,
                input_shapes,
            )?))
        },
    }
}

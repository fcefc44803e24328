//! `RandomFlip`: images flipped left-right and/or top-bottom at random while training.

use serde::{Deserialize, Serialize};

use super::conv2d::channels_last;
use super::image_preprocessing::{ImageLayout, LayerRng, check_tensor, uniform};
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input};
use crate::ops::conv::Interpolation;
use crate::ops::image_warp::{Affine, FillMode, IDENTITY, WarpOptions};
use crate::tensor::Tensor;

fn both() -> String {
    "horizontal_and_vertical".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFlipConfig {
    #[serde(default = "both")]
    pub mode: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Flips each image with probability 1/2 while training (Keras: one draw per image; in
/// `"horizontal_and_vertical"` mode that draw flips both ways); the identity at inference.
/// The gradient passes to the input, flipped back.
pub struct RandomFlip {
    config: RandomFlipConfig,
    horizontal: bool,
    vertical: bool,
    layout: ImageLayout,
    rng: LayerRng,
}

impl RandomFlip {
    pub fn build(config: RandomFlipConfig, input_shapes: &[Shape]) -> Result<RandomFlip> {
        let (horizontal, vertical) = match config.mode.as_str() {
            "horizontal" => (true, false),
            "vertical" => (false, true),
            "horizontal_and_vertical" => (true, true),
            other => {
                return Err(Error::value(format!(
                    "RandomFlip: mode must be 'horizontal', 'vertical' or \
                     'horizontal_and_vertical', received mode={other:?}"
                )));
            }
        };
        let layout = ImageLayout::new("RandomFlip", &config.data_format)?;
        layout.spatial("RandomFlip", input_shapes)?;
        Ok(RandomFlip {
            rng: LayerRng::new(config.seed),
            config,
            horizontal,
            vertical,
            layout,
        })
    }
}

impl Layer for RandomFlip {
    fn kind(&self) -> &'static str {
        "RandomFlip"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.layout.spatial("RandomFlip", input)?;
        Ok(input[0].clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("RandomFlip", inputs)?;
        check_tensor("RandomFlip", &self.layout, x)?;
        if !ctx.training || x.shape()[0] == 0 {
            return Ok(x.clone());
        }
        let [height, width] = self.layout.size_of(x);
        let batch = x.shape()[0];
        // Flipping maps column x to (width - 1 - x), row y to (height - 1 - y).
        let transforms: Vec<Affine> = self.rng.with(ctx, |rng| {
            (0..batch)
                .map(|_| {
                    let mut t = IDENTITY;
                    if uniform(rng, 0.0, 1.0) < 0.5 {
                        if self.horizontal {
                            t[0] = -1.0;
                            t[2] = (width - 1) as f64;
                        }
                        if self.vertical {
                            t[4] = -1.0;
                            t[5] = (height - 1) as f64;
                        }
                    }
                    t
                })
                .collect()
        });
        let options = WarpOptions {
            output: [height, width],
            interpolation: Interpolation::Nearest,
            fill_mode: FillMode::Nearest,
            fill_value: 0.0,
        };
        self.layout.warp("RandomFlip", x, &transforms, &options)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "RandomFlip",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(RandomFlip::build(parse_config("RandomFlip", config)?, input_shapes)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::randn;

    #[test]
    fn flips_some_images_and_leaves_the_rest() {
        let config = RandomFlipConfig {
            mode: "horizontal".into(),
            seed: Some(3),
            data_format: "channels_last".into(),
        };
        let layer = RandomFlip::build(config, &[vec![None, Some(3), Some(4), Some(2)]]).unwrap();
        let x = randn(&[16, 3, 4, 2], 1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: true,
            rng: &mut rng,
            packed_kernels: None,
        };
        let y = layer
            .forward(std::slice::from_ref(&x), None, &mut ctx)
            .unwrap();
        let (xs, ys) = (x.to_f64_vec(), y.to_f64_vec());
        let mut flipped = 0;
        for (a, b) in xs.chunks(24).zip(ys.chunks(24)) {
            let mirrored = (0..3).all(|r| {
                (0..4).all(|c| (0..2).all(|k| b[(r * 4 + c) * 2 + k] == a[(r * 4 + 3 - c) * 2 + k]))
            });
            assert!(mirrored || a == b);
            flipped += usize::from(mirrored);
        }
        assert!((1..16).contains(&flipped), "{flipped}");
        ctx.training = false;
        let same = layer
            .forward(std::slice::from_ref(&x), None, &mut ctx)
            .unwrap();
        assert_eq!(same.to_f64_vec(), xs);
    }
}

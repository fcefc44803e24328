//! `UpSampling2D`: images enlarged by integer factors, nearest or bilinear (Keras's arguments
//! and defaults). The machinery is shared with `UpSampling1D`.

use serde::{Deserialize, Serialize};

use super::conv2d::{
    channels_last, check_sizes, in_layer, is_channels_first, move_channels, move_shape,
};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::conv::{Interpolation, upsampling1d, upsampling2d};
use crate::tensor::Tensor;

fn nearest() -> String {
    "nearest".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpSamplingConfig {
    /// One factor per spatial axis (empty: 2 along each).
    #[serde(default)]
    pub size: Vec<usize>,
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default = "nearest")]
    pub interpolation: String,
}

/// Repeats (nearest) or interpolates (bilinear, 2-D only) along every spatial axis.
pub struct UpSampling {
    kind: &'static str,
    rank: usize,
    config: UpSamplingConfig,
    interpolation: Interpolation,
    channels_first: bool,
}

impl UpSampling {
    /// An upsampling of kind `kind` over `rank` spatial axes.
    pub fn build(
        kind: &'static str,
        rank: usize,
        mut config: UpSamplingConfig,
        input_shapes: &[Shape],
    ) -> Result<UpSampling> {
        if config.size.is_empty() {
            config.size = vec![2; rank];
        }
        if config.size.len() != rank {
            return Err(Error::value(format!(
                "{kind}: size must have {rank} entries, received size={:?}",
                config.size
            )));
        }
        check_sizes(kind, "size", &config.size)?;
        let interpolation = Interpolation::parse(&config.interpolation)
            .map_err(|e| Error::value(format!("{kind}: {e}")))?;
        if rank == 1 && interpolation != Interpolation::Nearest {
            return Err(Error::value(format!(
                "{kind}: only interpolation='nearest' is defined for 1-D upsampling"
            )));
        }
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = UpSampling {
            kind,
            rank,
            config,
            interpolation,
            channels_first,
        };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for UpSampling {
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
        let mut last = move_shape(input, self.channels_first, true);
        for axis in 0..self.rank {
            last[axis + 1] = last[axis + 1].map(|d| d * self.config.size[axis]);
        }
        Ok(move_shape(&last, self.channels_first, false))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input(self.kind, inputs)?;
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.output_shape(&[shape])?;
        let xl = if self.channels_first {
            move_channels(x, true)?
        } else {
            x.clone()
        };
        let size = &self.config.size;
        let y = if self.rank == 1 {
            upsampling1d(&xl, size[0])
        } else {
            upsampling2d(&xl, [size[0], size[1]], self.interpolation)
        }
        .map_err(in_layer(self.kind, x))?;
        if self.channels_first {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "UpSampling2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(UpSampling::build(
                "UpSampling2D",
                2,
                parse_config("UpSampling2D", config)?,
                input_shapes,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn run(layer: &UpSampling, x: &Tensor) -> Tensor {
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

    fn config(size: Vec<usize>, format: &str, interpolation: &str) -> UpSamplingConfig {
        UpSamplingConfig {
            size,
            data_format: format.into(),
            interpolation: interpolation.into(),
        }
    }

    #[test]
    fn shapes_errors_and_gradients() {
        let shape = vec![None, Some(2), Some(3), Some(4)];
        let l = UpSampling::build(
            "UpSampling2D",
            2,
            config(vec![2, 3], "channels_first", "bilinear"),
            std::slice::from_ref(&shape),
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[shape]).unwrap(),
            vec![None, Some(2), Some(6), Some(12)]
        );
        let x = randn(&[2, 2, 3, 4], 1);
        x.set_requires_grad(true).unwrap();
        check_gradients(&[x], |ts| run(&l, &ts[0]));
        let e = UpSampling::build(
            "UpSampling1D",
            1,
            config(vec![0], "channels_last", "nearest"),
            &[vec![None, Some(2), Some(3)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("UpSampling1D") && e.contains("size"), "{e}");
        let l = UpSampling::build(
            "UpSampling1D",
            1,
            config(vec![], "channels_last", "nearest"),
            &[vec![None, Some(2), Some(3)]],
        )
        .unwrap();
        let x = randn(&[1, 2, 3], 2);
        let y = run(&l, &x);
        assert_eq!(y.shape(), &[1, 4, 3]);
        let (xs, ys) = (x.to_f64_vec(), y.to_f64_vec());
        assert_eq!(&ys[..6], &[xs[0], xs[1], xs[2], xs[0], xs[1], xs[2]]);
    }
}

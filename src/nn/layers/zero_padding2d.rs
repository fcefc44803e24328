//! `ZeroPadding2D`: rows and columns of zeros added around images, Keras's arguments and
//! defaults. Shares `ZeroPadding` with `ZeroPadding1D`.
//!
//! The padded tensor is the input concatenated with zero blocks along each spatial axis, so
//! its gradient is the input's slice of the output gradient (from `concat`'s backward).

use serde::{Deserialize, Serialize};

use super::conv2d::{channels_last, in_layer, is_channels_first};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::join::concat;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZeroPaddingConfig {
    /// `[before, after]` for each spatial axis.
    pub padding: Vec<[usize; 2]>,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Zeros added before and after each of `rank` spatial axes.
pub struct ZeroPadding {
    kind: &'static str,
    rank: usize,
    config: ZeroPaddingConfig,
    channels_first: bool,
}

impl ZeroPadding {
    pub fn build(
        kind: &'static str,
        rank: usize,
        config: ZeroPaddingConfig,
        input_shapes: &[Shape],
    ) -> Result<ZeroPadding> {
        if config.padding.len() != rank {
            return Err(Error::value(format!(
                "{kind}: padding must have {rank} (before, after) pairs, received padding={:?}",
                config.padding
            )));
        }
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = ZeroPadding {
            kind,
            rank,
            config,
            channels_first,
        };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    /// The tensor axis of spatial axis `axis`.
    fn axis(&self, axis: usize) -> usize {
        axis + if self.channels_first { 2 } else { 1 }
    }
}

impl Layer for ZeroPadding {
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
        let mut out = input.clone();
        for (axis, [before, after]) in self.config.padding.iter().enumerate() {
            let a = self.axis(axis);
            out[a] = out[a].map(|d| d + before + after);
        }
        Ok(out)
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
        let mut y = x.clone();
        for (axis, &[before, after]) in self.config.padding.iter().enumerate() {
            if before + after == 0 {
                continue;
            }
            let a = self.axis(axis);
            let block = |size: usize| -> Result<Option<Tensor>> {
                if size == 0 {
                    return Ok(None);
                }
                let mut shape = y.shape().to_vec();
                shape[a] = size;
                Tensor::full(&shape, 0.0, x.dtype()).map(Some)
            };
            let parts: Vec<Tensor> = [block(before)?, Some(y.clone()), block(after)?]
                .into_iter()
                .flatten()
                .collect();
            y = concat(&parts, a as isize).map_err(in_layer(self.kind, x))?;
        }
        Ok(y)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "ZeroPadding2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(ZeroPadding::build(
                "ZeroPadding2D",
                2,
                parse_config("ZeroPadding2D", config)?,
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
    use crate::ops::test_util::check_gradients;
    use crate::storage::Storage;

    #[test]
    fn pads_with_zeros_and_passes_the_gradient_through() {
        let config = serde_json::json!({"padding": [[1, 0], [0, 2]]});
        let l = build_layer(
            "ZeroPadding2D",
            &config,
            &[vec![None, Some(2), Some(2), Some(1)]],
            DType::F64,
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[vec![None, Some(2), Some(2), Some(1)]])
                .unwrap(),
            vec![None, Some(3), Some(4), Some(1)]
        );
        let x = Tensor::new(
            Storage::from_f64_vec(DType::F64, &[1, 2, 2, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
            false,
        );
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        let y = l.forward(std::slice::from_ref(&x), None, &mut ctx).unwrap();
        #[rustfmt::skip]
        let expected = vec![
            0.0, 0.0, 0.0, 0.0,
            1.0, 2.0, 0.0, 0.0,
            3.0, 4.0, 0.0, 0.0,
        ];
        assert_eq!(y.to_f64_vec(), expected);
        x.set_requires_grad(true).unwrap();
        check_gradients(&[x], |ts| {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
            let mut ctx = Context {
                training: true,
                rng: &mut rng,
                packed_kernels: None,
            };
            l.forward(&[ts[0].clone()], None, &mut ctx).unwrap()
        });
    }
}

//! `Cropping2D`: rows and columns removed from the borders of images, Keras's arguments and
//! defaults. Shares `Cropping` with `Cropping1D`. The crop is a slice (`ops::index`), whose
//! backward scatters the gradient back into the uncropped shape.

use serde::{Deserialize, Serialize};

use super::conv2d::{channels_last, in_layer, is_channels_first};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::index::IndexItem;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CroppingConfig {
    /// `[before, after]` for each spatial axis.
    pub cropping: Vec<[usize; 2]>,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Positions removed before and after each of `rank` spatial axes.
pub struct Cropping {
    kind: &'static str,
    rank: usize,
    config: CroppingConfig,
    channels_first: bool,
}

impl Cropping {
    pub fn build(
        kind: &'static str,
        rank: usize,
        config: CroppingConfig,
        input_shapes: &[Shape],
    ) -> Result<Cropping> {
        if config.cropping.len() != rank {
            return Err(Error::value(format!(
                "{kind}: cropping must have {rank} (before, after) pairs, received \
                 cropping={:?}",
                config.cropping
            )));
        }
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = Cropping {
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

impl Layer for Cropping {
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
        for (axis, &[before, after]) in self.config.cropping.iter().enumerate() {
            let a = self.axis(axis);
            if let Some(d) = input[a] {
                if before + after >= d {
                    return Err(Error::value(format!(
                        "{}: cropping {:?} removes all of axis {a} (size {d}) of input shape \
                         {}; each pair must sum to less than the axis's size",
                        self.kind,
                        self.config.cropping,
                        format_shape(input)
                    )));
                }
                out[a] = Some(d - before - after);
            }
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
        let full = IndexItem::Slice {
            start: None,
            stop: None,
            step: None,
        };
        let mut items = vec![full; x.ndim()];
        for (axis, &[before, after]) in self.config.cropping.iter().enumerate() {
            let a = self.axis(axis);
            items[a] = IndexItem::Slice {
                start: Some(before as isize),
                stop: Some((x.shape()[a] - after) as isize),
                step: None,
            };
        }
        x.index(&items).map_err(in_layer(self.kind, x))
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Cropping2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Cropping::build(
                "Cropping2D",
                2,
                parse_config("Cropping2D", config)?,
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
    use crate::storage::Storage;

    #[test]
    fn crops_and_refuses_to_crop_everything() {
        let config = serde_json::json!({"cropping": [[1, 0], [1, 1]],
            "data_format": "channels_first"});
        let shape = vec![None, Some(1), Some(3), Some(3)];
        let l = build_layer(
            "Cropping2D",
            &config,
            std::slice::from_ref(&shape),
            DType::F64,
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[shape]).unwrap(),
            vec![None, Some(1), Some(2), Some(1)]
        );
        let x = Tensor::new(
            Storage::from_f64_vec(DType::F64, &[1, 1, 3, 3], (0..9).map(f64::from).collect())
                .unwrap(),
            false,
        );
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        let y = l.forward(&[x], None, &mut ctx).unwrap();
        assert_eq!(y.to_f64_vec(), vec![4.0, 7.0]);
        let e = build_layer(
            "Cropping2D",
            &serde_json::json!({"cropping": [[2, 1], [0, 0]]}),
            &[vec![None, Some(3), Some(3), Some(1)]],
            DType::F64,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("Cropping2D") && e.contains("(None, 3, 3, 1)"),
            "{e}"
        );
    }
}

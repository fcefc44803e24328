//! `Concatenate`: joins two or more inputs along one axis (Keras's merge layer, default the
//! last axis).

use std::sync::Arc;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::merge::{and_masks, check_several, dims_agree, list_shapes};
use crate::error::{Error, Result};
use crate::nn::{Context, Layer, LayerRegistration, Mask, Shape, parse_config};
use crate::ops::join::concat;
use crate::tensor::Tensor;

fn last_axis() -> isize {
    -1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcatenateConfig {
    /// The axis to join along; negative counts from the end.
    #[serde(default = "last_axis")]
    pub axis: isize,
}

/// Joins its inputs along `axis`; they agree on every other dimension. The output mask keeps a
/// step where every masked input does, or, joining along the time axis, is the inputs' masks
/// joined in time.
pub struct Concatenate {
    config: ConcatenateConfig,
}

impl Concatenate {
    pub fn build(config: ConcatenateConfig, input_shapes: &[Shape]) -> Result<Concatenate> {
        let layer = Concatenate { config };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    /// The axis as an index for inputs of `rank`, refusing the batch axis and axes outside.
    fn axis(&self, rank: usize) -> Result<usize> {
        let axis = self.config.axis;
        let resolved = if axis < 0 { rank as isize + axis } else { axis };
        if resolved < 1 || resolved >= rank as isize {
            return Err(Error::value(format!(
                "Concatenate: axis={axis} is not a non-batch axis of inputs of rank {rank}"
            )));
        }
        Ok(resolved as usize)
    }
}

impl Layer for Concatenate {
    fn kind(&self) -> &'static str {
        "Concatenate"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        check_several("Concatenate", input.len())?;
        let first = &input[0];
        let axis = self.axis(first.len())?;
        let fits = input.iter().all(|s| {
            s.len() == first.len()
                && s.iter()
                    .zip(first)
                    .enumerate()
                    .all(|(i, (&a, &b))| i == axis || dims_agree(a, b))
        });
        if !fits {
            return Err(Error::shape(
                "Concatenate",
                format!(
                    "a Concatenate layer with axis={} needs inputs that agree on every other \
                     dimension, received shapes {}",
                    self.config.axis,
                    list_shapes(input)
                ),
            ));
        }
        Ok((0..first.len())
            .map(|i| {
                if i == axis {
                    input.iter().try_fold(0usize, |sum, s| Some(sum + s[i]?))
                } else {
                    input.iter().find_map(|s| s[i])
                }
            })
            .collect())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        check_several("Concatenate", inputs.len())?;
        let axis = self.axis(inputs[0].ndim())?;
        concat(inputs, axis as isize)
    }

    fn output_masks(&self, inputs: &[Tensor], masks: &[Option<Mask>]) -> Result<Vec<Option<Mask>>> {
        if masks.iter().all(Option::is_none) {
            return Ok(vec![None]);
        }
        let joins_time =
            inputs.first().is_some_and(|x| x.ndim() >= 3) && self.axis(inputs[0].ndim())? == 1;
        if !joins_time {
            return Ok(vec![and_masks("Concatenate", masks)?]);
        }
        // Joined in time: each input's mask (all kept where it has none) in turn.
        let batch = inputs[0].shape()[0];
        let steps: usize = inputs.iter().map(|x| x.shape()[1]).sum();
        let mut joined = Array2::from_elem((batch, steps), true);
        let mut start = 0;
        for (x, mask) in inputs.iter().zip(masks) {
            let len = x.shape()[1];
            if let Some(mask) = mask {
                if mask.dim() != (batch, len) {
                    return Err(Error::shape(
                        "Concatenate",
                        format!(
                            "a mask of shape {:?} does not fit an input of shape {:?}",
                            mask.dim(),
                            x.shape()
                        ),
                    ));
                }
                joined
                    .slice_mut(ndarray::s![.., start..start + len])
                    .assign(&**mask);
            }
            start += len;
        }
        Ok(vec![Some(Arc::new(joined))])
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Concatenate",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Concatenate::build(
                parse_config("Concatenate", config)?,
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

    fn run(layer: &Concatenate, inputs: &[Tensor]) -> Result<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(inputs, None, &mut ctx)
    }

    fn layer(axis: isize, shapes: &[Shape]) -> Result<Concatenate> {
        Concatenate::build(ConcatenateConfig { axis }, shapes)
    }

    #[test]
    fn joins_along_the_axis_with_gradients() {
        let shapes = [vec![None, Some(2), Some(3)], vec![None, Some(2), Some(1)]];
        let last = layer(-1, &shapes).unwrap();
        assert_eq!(
            last.output_shape(&shapes).unwrap(),
            vec![None, Some(2), Some(4)]
        );
        let (a, b) = (randn(&[2, 2, 3], 1), randn(&[2, 2, 1], 2));
        let out = run(&last, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(out.shape(), &[2, 2, 4]);
        let mut first_row = a.to_f64_vec()[..3].to_vec();
        first_row.push(b.to_f64_vec()[0]);
        assert_eq!(&out.to_f64_vec()[..4], &first_row[..]);
        check_gradients(&[a, b], |t| run(&last, t).unwrap());
        let time = layer(
            1,
            &[vec![None, Some(2), Some(3)], vec![None, None, Some(3)]],
        )
        .unwrap();
        let (c, d) = (randn(&[2, 2, 3], 3), randn(&[2, 4, 3], 4));
        check_gradients(&[c, d], |t| run(&time, t).unwrap());
    }

    #[test]
    fn mismatched_shapes_and_axes_are_refused() {
        let err = layer(
            -1,
            &[vec![None, Some(2), Some(3)], vec![None, Some(5), Some(3)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("(None, 2, 3), (None, 5, 3)"), "{err}");
        assert!(layer(0, &[vec![None, Some(2)], vec![None, Some(2)]]).is_err());
        assert!(layer(2, &[vec![None, Some(2)], vec![None, Some(2)]]).is_err());
        assert!(layer(-1, &[vec![None, Some(2)]]).is_err());
    }

    #[test]
    fn masks_are_anded_across_features_and_joined_in_time() {
        let x = [randn(&[1, 3, 2], 1), randn(&[1, 3, 2], 2)];
        let m: Mask = Arc::new(ndarray::arr2(&[[true, true, false]]));
        let shapes = [vec![None, Some(3), Some(2)], vec![None, Some(3), Some(2)]];
        let features = layer(-1, &shapes).unwrap();
        let out = features.output_masks(&x, &[Some(m.clone()), None]).unwrap();
        assert_eq!(out[0].as_deref(), Some(&*m));
        let time = layer(1, &shapes).unwrap();
        let out = time.output_masks(&x, &[None, Some(m)]).unwrap();
        assert_eq!(
            out[0].as_deref(),
            Some(&ndarray::arr2(&[[true, true, true, true, true, false]]))
        );
    }
}

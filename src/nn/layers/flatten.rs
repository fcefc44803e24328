//! `Flatten`: folds every axis but the batch axis into one.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlattenConfig {}

/// Flattens every axis but the batch axis.
pub struct Flatten {
    config: FlattenConfig,
}

impl Flatten {
    pub fn build(config: FlattenConfig) -> Result<Flatten> {
        Ok(Flatten { config })
    }
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("Flatten", input)?;
        let features = input
            .iter()
            .skip(1)
            .try_fold(1usize, |acc, d| d.and_then(|d| acc.checked_mul(d)));
        Ok(vec![input.first().copied().flatten(), features])
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Flatten", inputs)?;
        if x.ndim() == 0 {
            return Err(Error::shape("Flatten", "cannot flatten a 0-d tensor"));
        }
        let batch = x.shape()[0] as isize;
        let features: usize = x.shape()[1..].iter().product();
        x.reshape(&[batch, features as isize])
    }

    /// A mask over time steps means nothing once time is folded into features.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Flatten",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(Flatten::build(parse_config("Flatten", config)?)?))
        },
    }
}

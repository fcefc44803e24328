//! `Dropout`: zeroes a fraction of its inputs during training.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::dropout::dropout;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutConfig {
    pub rate: f64,
}

/// Zeroes a fraction `rate` of its inputs during training (scaling the rest by 1/(1-rate));
/// the identity at inference.
pub struct Dropout {
    config: DropoutConfig,
}

impl Dropout {
    pub fn build(config: DropoutConfig) -> Result<Dropout> {
        if !(0.0..1.0).contains(&config.rate) {
            return Err(Error::value(format!(
                "Dropout: rate must be in [0, 1), received rate={}",
                config.rate
            )));
        }
        Ok(Dropout { config })
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "Dropout"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("Dropout", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("Dropout", inputs)?;
        if ctx.training {
            dropout(x, self.config.rate, ctx.rng)
        } else {
            Ok(x.clone())
        }
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Dropout",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(Dropout::build(parse_config("Dropout", config)?)?))
        },
    }
}

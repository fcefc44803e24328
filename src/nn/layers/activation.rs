//! `Activation`: applies an activation function to its input.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationConfig {
    pub activation: String,
}

/// Applies an activation function to its input.
pub struct ActivationLayer {
    config: ActivationConfig,
    activation: Activation,
}

impl ActivationLayer {
    pub fn build(config: ActivationConfig) -> Result<ActivationLayer> {
        let activation = Activation::parse(&config.activation)?;
        Ok(ActivationLayer { config, activation })
    }
}

impl Layer for ActivationLayer {
    fn kind(&self) -> &'static str {
        "Activation"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("Activation", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.activation.apply(single_input("Activation", inputs)?)
    }

    fn forward_without_activation(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        Ok(single_input("Activation", inputs)?.clone())
    }

    fn output_activation(&self) -> Activation {
        self.activation
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Activation",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(ActivationLayer::build(parse_config("Activation", config)?)?))
        },
    }
}

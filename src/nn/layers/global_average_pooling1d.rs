//! `GlobalAveragePooling1D`: the mean over time, counting only the steps the mask keeps.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::ops::masked_mean::{TimeAxis, masked_mean_over_time};
use crate::tensor::Tensor;

fn channels_last() -> String {
    "channels_last".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalAveragePooling1DConfig {
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default)]
    pub keepdims: bool,
}

pub struct GlobalAveragePooling1D {
    config: GlobalAveragePooling1DConfig,
    axis: TimeAxis,
}

impl GlobalAveragePooling1D {
    pub fn build(config: GlobalAveragePooling1DConfig) -> Result<GlobalAveragePooling1D> {
        let axis = match config.data_format.as_str() {
            "channels_last" => TimeAxis::BeforeFeatures,
            "channels_first" => TimeAxis::AfterFeatures,
            other => {
                return Err(Error::value(format!(
                    "GlobalAveragePooling1D: data_format must be 'channels_last' or \
                     'channels_first', received data_format={other:?}"
                )));
            }
        };
        Ok(GlobalAveragePooling1D { config, axis })
    }
}

impl Layer for GlobalAveragePooling1D {
    fn kind(&self) -> &'static str {
        "GlobalAveragePooling1D"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("GlobalAveragePooling1D", input)?;
        let &[batch, a, b] = input.as_slice() else {
            return Err(Error::shape(
                "GlobalAveragePooling1D",
                format!("expected a 3-D input (batch, time, features), received {input:?}"),
            ));
        };
        Ok(match (self.axis, self.config.keepdims) {
            (TimeAxis::BeforeFeatures, false) => vec![batch, b],
            (TimeAxis::BeforeFeatures, true) => vec![batch, Some(1), b],
            (TimeAxis::AfterFeatures, false) => vec![batch, a],
            (TimeAxis::AfterFeatures, true) => vec![batch, a, Some(1)],
        })
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("GlobalAveragePooling1D", inputs)?;
        let mean = masked_mean_over_time(x, mask.map(|m| &**m), self.axis)?;
        if !self.config.keepdims {
            return Ok(mean);
        }
        let (batch, features) = (mean.shape()[0] as isize, mean.shape()[1] as isize);
        match self.axis {
            TimeAxis::BeforeFeatures => mean.reshape(&[batch, 1, features]),
            TimeAxis::AfterFeatures => mean.reshape(&[batch, features, 1]),
        }
    }

    /// The time axis is gone, and the mask with it.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "GlobalAveragePooling1D",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(GlobalAveragePooling1D::build(parse_config(
                "GlobalAveragePooling1D",
                config,
            )?)?))
        },
    }
}

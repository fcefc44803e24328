//! `GlobalMaxPooling2D`: the maximum over the height and width of images. The global
//! pooling machinery here is shared with `GlobalMaxPooling1D` and `GlobalAveragePooling2D`.

use serde::{Deserialize, Serialize};

use super::conv2d::{channels_last, in_layer, is_channels_first, move_channels, move_shape};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::conv::{global_avg_pool, global_max_pool};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalPoolingConfig {
    #[serde(default = "channels_last")]
    pub data_format: String,
    #[serde(default)]
    pub keepdims: bool,
}

/// The maximum or the mean over every spatial axis (1 or 2 of them).
pub struct GlobalPooling {
    kind: &'static str,
    rank: usize,
    max: bool,
    config: GlobalPoolingConfig,
    channels_first: bool,
}

impl GlobalPooling {
    /// A global pooling of kind `kind` over `rank` spatial axes (`max` or the mean).
    pub fn build(
        kind: &'static str,
        rank: usize,
        max: bool,
        config: GlobalPoolingConfig,
        input_shapes: &[Shape],
    ) -> Result<GlobalPooling> {
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = GlobalPooling {
            kind,
            rank,
            max,
            config,
            channels_first,
        };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for GlobalPooling {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape(self.kind, input)?;
        if input.len() != self.rank + 2 || input[1..].contains(&Some(0)) {
            return Err(Error::value(format!(
                "{}: expects inputs of rank {} with no empty axis but the batch, received input \
                 shape {}",
                self.kind,
                self.rank + 2,
                format_shape(input)
            )));
        }
        let last = move_shape(input, self.channels_first, true);
        if self.config.keepdims {
            let mut out = vec![Some(1); self.rank + 2];
            out[0] = last[0];
            out[self.rank + 1] = last[self.rank + 1];
            Ok(move_shape(&out, self.channels_first, false))
        } else {
            Ok(vec![last[0], last[self.rank + 1]])
        }
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
        let keepdims = self.config.keepdims;
        let y = if self.max {
            global_max_pool(&xl, keepdims)
        } else {
            global_avg_pool(&xl, keepdims)
        }
        .map_err(in_layer(self.kind, x))?;
        if self.channels_first && keepdims {
            move_channels(&y, false)
        } else {
            Ok(y)
        }
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "GlobalMaxPooling2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(GlobalPooling::build(
                "GlobalMaxPooling2D",
                2,
                true,
                parse_config("GlobalMaxPooling2D", config)?,
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

    fn run(layer: &GlobalPooling, x: &Tensor) -> Tensor {
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

    fn config(data_format: &str, keepdims: bool) -> GlobalPoolingConfig {
        GlobalPoolingConfig {
            data_format: data_format.into(),
            keepdims,
        }
    }

    #[test]
    fn shapes_and_values() {
        let shape = vec![None, Some(3), Some(4), Some(5)];
        let l = GlobalPooling::build(
            "GlobalMaxPooling2D",
            2,
            true,
            config("channels_first", true),
            std::slice::from_ref(&shape),
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[shape]).unwrap(),
            vec![None, Some(3), Some(1), Some(1)]
        );
        let x = randn(&[2, 3, 4, 5], 3);
        let y = run(&l, &x);
        assert_eq!(y.shape(), &[2, 3, 1, 1]);
        let xs = x.to_f64_vec();
        let expected = xs[..20].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(y.to_f64_vec()[0], expected);
        let l = GlobalPooling::build(
            "GlobalAveragePooling2D",
            2,
            false,
            config("channels_last", false),
            &[vec![None, Some(2), Some(2), Some(3)]],
        )
        .unwrap();
        assert_eq!(
            l.output_shape(&[vec![None, Some(2), Some(2), Some(3)]])
                .unwrap(),
            vec![None, Some(3)]
        );
        let e = GlobalPooling::build(
            "GlobalMaxPooling1D",
            1,
            true,
            config("channels_last", false),
            &[vec![None, Some(2), Some(2), Some(3)]],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("GlobalMaxPooling1D") && e.contains("(None, 2, 2, 3)"),
            "{e}"
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for (max, format) in [(true, "channels_last"), (false, "channels_first")] {
            let l = GlobalPooling::build(
                "G",
                2,
                max,
                config(format, true),
                &[vec![None, Some(3), Some(4), Some(2)]],
            )
            .unwrap();
            let x = randn(&[2, 3, 4, 2], 5);
            x.set_requires_grad(true).unwrap();
            check_gradients(&[x], |ts| run(&l, &ts[0]));
        }
    }
}

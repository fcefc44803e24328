//! `MaxPooling2D`: the maximum over windows of images, Keras's arguments and defaults. The
//! pooling machinery here is shared with `AveragePooling2D`.

use serde::{Deserialize, Serialize};

use super::conv2d::{
    axis_output, channels_last, check_sizes, in_layer, is_channels_first, move_channels, move_shape,
};
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::ops::conv::{
    Padding, Pool1dOptions, Pool2dOptions, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
};
use crate::tensor::Tensor;

/// Keras's default pool size, 2 along every axis.
fn twos() -> Vec<usize> {
    Vec::new()
}

fn valid() -> String {
    "valid".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pooling2DConfig {
    /// One entry per spatial axis (empty: 2 along each).
    #[serde(default = "twos")]
    pub pool_size: Vec<usize>,
    /// `None`: the pool size.
    #[serde(default)]
    pub strides: Option<Vec<usize>>,
    #[serde(default = "valid")]
    pub padding: String,
    #[serde(default = "channels_last")]
    pub data_format: String,
}

/// Max or average pooling over windows of 1 (`steps`) or 2 (`height, width`) spatial axes.
pub struct Pooling2D {
    kind: &'static str,
    rank: usize,
    max: bool,
    config: Pooling2DConfig,
    padding: Padding,
    channels_first: bool,
}

impl Pooling2D {
    /// `kind` is `"MaxPooling2D"` (`max`) or `"AveragePooling2D"`.
    pub fn build(
        kind: &'static str,
        max: bool,
        config: Pooling2DConfig,
        input_shapes: &[Shape],
    ) -> Result<Pooling2D> {
        Pooling2D::build_rank(kind, 2, max, config, input_shapes)
    }

    /// A pooling layer of kind `kind` over `rank` spatial axes.
    pub fn build_rank(
        kind: &'static str,
        rank: usize,
        max: bool,
        mut config: Pooling2DConfig,
        input_shapes: &[Shape],
    ) -> Result<Pooling2D> {
        if config.pool_size.is_empty() {
            config.pool_size = vec![2; rank];
        }
        for (name, values) in [
            ("pool_size", Some(&config.pool_size)),
            ("strides", config.strides.as_ref()),
        ] {
            let Some(values) = values else { continue };
            if values.len() != rank {
                return Err(Error::value(format!(
                    "{kind}: {name} must have {rank} entries, received {name}={values:?}"
                )));
            }
            check_sizes(kind, name, values)?;
        }
        let padding = match config.padding.to_ascii_lowercase().as_str() {
            "valid" => Padding::Valid,
            "same" => Padding::Same,
            other => {
                return Err(Error::value(format!(
                    "{kind}: padding must be 'valid' or 'same', received padding={other:?}"
                )));
            }
        };
        let channels_first = is_channels_first(kind, &config.data_format)?;
        let layer = Pooling2D {
            kind,
            rank,
            max,
            padding,
            config,
            channels_first,
        };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }

    fn output_last(&self, input: &Shape) -> Result<Shape> {
        let rank = self.rank;
        if input.len() != rank + 2 {
            let layout = if rank == 1 {
                "(batch, steps, channels)"
            } else {
                "(batch, height, width, channels)"
            };
            return Err(Error::value(format!(
                "{}: expects inputs of rank {} {layout}, received input shape {}",
                self.kind,
                rank + 2,
                format_shape(input)
            )));
        }
        let last = move_shape(input, self.channels_first, true);
        let strides = self
            .config
            .strides
            .as_ref()
            .unwrap_or(&self.config.pool_size);
        let mut out = vec![last[0]];
        for axis in 0..rank {
            out.push(axis_output(
                self.kind,
                "pool_size",
                input,
                last[axis + 1],
                self.config.pool_size[axis],
                strides[axis],
                1,
                self.padding,
            )?);
        }
        out.push(last[rank + 1]);
        Ok(out)
    }
}

impl Layer for Pooling2D {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let out = self.output_last(single_shape(self.kind, input)?)?;
        Ok(move_shape(&out, self.channels_first, false))
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input(self.kind, inputs)?;
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        self.output_last(&shape)?;
        let xl = if self.channels_first {
            move_channels(x, true)?
        } else {
            x.clone()
        };
        let c = &self.config;
        let y = if self.rank == 1 {
            let options = Pool1dOptions {
                pool_size: c.pool_size[0],
                strides: c.strides.as_ref().map(|s| s[0]),
                padding: self.padding,
            };
            if self.max {
                max_pool1d(&xl, &options)
            } else {
                avg_pool1d(&xl, &options)
            }
        } else {
            let options = Pool2dOptions {
                pool_size: [c.pool_size[0], c.pool_size[1]],
                strides: c.strides.as_ref().map(|s| [s[0], s[1]]),
                padding: self.padding,
            };
            if self.max {
                max_pool2d(&xl, &options)
            } else {
                avg_pool2d(&xl, &options)
            }
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
        kind: "MaxPooling2D",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(Pooling2D::build(
                "MaxPooling2D",
                true,
                parse_config("MaxPooling2D", config)?,
                input_shapes,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::dtype::DType;
    use crate::ops::test_util::{check_gradients, randn};

    fn pool(
        kind: &'static str,
        max: bool,
        config: serde_json::Value,
        shape: &[usize],
    ) -> Result<Pooling2D> {
        let shape: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        Pooling2D::build(kind, max, parse_config(kind, &config)?, &[shape])
    }

    fn run(layer: &Pooling2D, x: &Tensor) -> Tensor {
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

    #[test]
    fn pools_windows_with_keras_shapes() {
        let l = pool(
            "MaxPooling2D",
            true,
            serde_json::json!({}),
            &[1, 26, 26, 32],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(26), Some(26), Some(32)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(13), Some(13), Some(32)]);
        let l = pool(
            "MaxPooling2D",
            true,
            serde_json::json!({"pool_size": [2, 2], "data_format": "channels_first"}),
            &[1, 1, 2, 2],
        )
        .unwrap();
        let x = Tensor::new(
            crate::storage::Storage::from_f64_vec(
                DType::F64,
                &[1, 1, 2, 2],
                vec![1.0, 4.0, 3.0, 2.0],
            )
            .unwrap(),
            false,
        );
        assert_eq!(run(&l, &x).to_f64_vec(), vec![4.0]);
        let l = pool(
            "AveragePooling2D",
            false,
            serde_json::json!({"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}),
            &[1, 5, 5, 1],
        )
        .unwrap();
        let out = l
            .output_shape(&[vec![None, Some(5), Some(5), Some(1)]])
            .unwrap();
        assert_eq!(out, vec![None, Some(3), Some(3), Some(1)]);
    }

    #[test]
    fn bad_arguments_name_the_layer_and_shapes() {
        let e = pool(
            "MaxPooling2D",
            true,
            serde_json::json!({"pool_size": [5, 5]}),
            &[1, 4, 4, 1],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("MaxPooling2D") && e.contains("(None, 4, 4, 1)"),
            "{e}"
        );
        let e = pool(
            "MaxPooling2D",
            true,
            serde_json::json!({"pool_size": [0, 2]}),
            &[1, 4, 4, 1],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("pool_size"), "{e}");
    }

    #[test]
    fn gradients_through_the_layer_match_finite_differences() {
        for (kind, max, config) in [
            (
                "MaxPooling2D",
                true,
                serde_json::json!({"pool_size": [2, 3], "padding": "same"}),
            ),
            (
                "AveragePooling2D",
                false,
                serde_json::json!({"pool_size": [3, 2], "strides": [1, 2],
                    "data_format": "channels_first"}),
            ),
        ] {
            let l = pool(kind, max, config, &[2, 3, 5, 4]).unwrap();
            let x = randn(&[2, 3, 5, 4], 11);
            x.set_requires_grad(true).unwrap();
            check_gradients(&[x], |ts| run(&l, &ts[0]));
        }
    }
}

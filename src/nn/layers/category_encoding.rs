//! `CategoryEncoding`: integer category ids to one-hot, multi-hot or count vectors.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, format_shape, parse_config, single_input,
    single_shape,
};
use crate::storage::Storage;
use crate::tensor::Tensor;

fn multi_hot() -> String {
    "multi_hot".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEncodingConfig {
    pub num_tokens: usize,
    #[serde(default = "multi_hot")]
    pub output_mode: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    OneHot,
    MultiHot,
    Count,
}

/// Encodes integer ids in `[0, num_tokens)`: `one_hot` gives one vector per id (an input of
/// shape `(batch,)` or `(batch, 1)` gives `(batch, num_tokens)`, `(batch, n)` gives
/// `(batch, n, num_tokens)`); `multi_hot` marks, and `count` counts, the ids of each sample of a
/// `(batch, n)` input in one `(batch, num_tokens)` vector. The output is a constant of the
/// input (ids have no gradient).
pub struct CategoryEncoding {
    config: CategoryEncodingConfig,
    mode: Mode,
}

impl CategoryEncoding {
    pub fn build(
        config: CategoryEncodingConfig,
        input_shapes: &[Shape],
    ) -> Result<CategoryEncoding> {
        if config.num_tokens == 0 {
            return Err(Error::value(
                "CategoryEncoding: num_tokens must be a positive integer, received num_tokens=0",
            ));
        }
        let mode = match config.output_mode.as_str() {
            "one_hot" => Mode::OneHot,
            "multi_hot" => Mode::MultiHot,
            "count" => Mode::Count,
            other => {
                return Err(Error::value(format!(
                    "CategoryEncoding: output_mode must be one of 'one_hot', 'multi_hot', \
                     'count', received output_mode={other:?}"
                )));
            }
        };
        let layer = CategoryEncoding { config, mode };
        layer.output_shape(input_shapes)?;
        Ok(layer)
    }
}

impl Layer for CategoryEncoding {
    fn kind(&self) -> &'static str {
        "CategoryEncoding"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let input = single_shape("CategoryEncoding", input)?;
        let tokens = Some(self.config.num_tokens);
        match (self.mode, input.as_slice()) {
            (Mode::OneHot, [batch]) | (Mode::OneHot, [batch, Some(1)]) => Ok(vec![*batch, tokens]),
            (Mode::OneHot, [batch, n]) => Ok(vec![*batch, *n, tokens]),
            (_, [batch, _]) => Ok(vec![*batch, tokens]),
            _ => Err(Error::shape(
                "CategoryEncoding",
                format!(
                    "expected ids of shape (batch,) or (batch, n) ({} mode), received input \
                     shape {}",
                    self.config.output_mode,
                    format_shape(input)
                ),
            )),
        }
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let x = single_input("CategoryEncoding", inputs)?;
        let tokens = self.config.num_tokens;
        let shape: Shape = x.shape().iter().map(|&d| Some(d)).collect();
        let out_shape: Vec<usize> = self
            .output_shape(&[shape])?
            .into_iter()
            .map(|d| d.unwrap_or(0))
            .collect();
        let ids = x.to_f64_vec();
        let mut out = vec![0.0; out_shape.iter().product()];
        // One-hot gives a row per id; the others a row per sample, over the sample's ids.
        let per_row = match self.mode {
            Mode::OneHot => 1,
            _ => x.shape().get(1).copied().unwrap_or(1),
        };
        for (index, &id) in ids.iter().enumerate() {
            if !(id >= 0.0 && id < tokens as f64 && id.fract() == 0.0) {
                return Err(Error::value(format!(
                    "CategoryEncoding: input values must be integers in the range 0 <= values \
                     < num_tokens={tokens}, received {id}"
                )));
            }
            let slot = &mut out[(index / per_row) * tokens + id as usize];
            match self.mode {
                Mode::Count => *slot += 1.0,
                _ => *slot = 1.0,
            }
        }
        Ok(Tensor::new(
            Storage::from_f64_vec(x.dtype(), &out_shape, out)?,
            false,
        ))
    }

    /// The encoding has no time axis left to mask.
    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "CategoryEncoding",
        build: |config, input_shapes, _dtype| {
            Ok(Box::new(CategoryEncoding::build(
                parse_config("CategoryEncoding", config)?,
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

    fn encode(mode: &str, ids: &[f64], shape: &[usize]) -> Result<Tensor> {
        let input: Shape = std::iter::once(None)
            .chain(shape[1..].iter().map(|&d| Some(d)))
            .collect();
        let layer = CategoryEncoding::build(
            CategoryEncodingConfig {
                num_tokens: 4,
                output_mode: mode.into(),
            },
            &[input],
        )?;
        let x = Tensor::new(
            Storage::from_f64_vec(DType::F32, shape, ids.to_vec())?,
            false,
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        layer.forward(&[x], None, &mut ctx)
    }

    #[test]
    fn keras_documented_encodings() {
        let one_hot = encode("one_hot", &[3.0, 2.0, 0.0, 1.0], &[4]).unwrap();
        assert_eq!(one_hot.shape(), &[4, 4]);
        assert_eq!(
            &one_hot.to_f64_vec()[..8],
            &[0., 0., 0., 1., 0., 0., 1., 0.]
        );
        let ids = [0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 3.0, 1.0];
        let multi = encode("multi_hot", &ids, &[4, 2]).unwrap().to_f64_vec();
        assert_eq!(&multi[..8], &[1., 1., 0., 0., 1., 0., 0., 0.]);
        let count = encode("count", &ids, &[4, 2]).unwrap().to_f64_vec();
        assert_eq!(&count[4..8], &[2., 0., 0., 0.]);
        let err = encode("count", &[4.0, 0.0], &[1, 2])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("num_tokens=4"), "{err}");
        assert!(encode("tf_idf", &[0.0], &[1, 1]).is_err());
    }
}

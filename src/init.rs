//! The initializer type of the layer configs (`kernel_initializer: Initializer`, ...): the
//! built-in initializers as one enum, so that a layer can name its default
//! (`Initializer::GlorotUniform`). Its JSON is `crate::initializers::Initializer`'s, and it draws
//! through that registry (one file per initializer, in `src/initializers/`): this enum holds no
//! math. Layers moving to `crate::initializers::Initializer` (`GlorotUniform {}.into()`) also
//! accept initializers registered after these.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers;
use crate::tensor::Tensor;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Initializer {
    Zeros,
    Ones,
    Constant {
        value: f64,
    },
    RandomNormal {
        #[serde(default)]
        mean: f64,
        #[serde(default = "default_stddev")]
        stddev: f64,
    },
    RandomUniform {
        #[serde(default = "default_minval")]
        minval: f64,
        #[serde(default = "default_maxval")]
        maxval: f64,
    },
    TruncatedNormal {
        #[serde(default)]
        mean: f64,
        #[serde(default = "default_stddev")]
        stddev: f64,
    },
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal {
        #[serde(default = "default_gain")]
        gain: f64,
    },
}

fn default_stddev() -> f64 {
    0.05
}
fn default_minval() -> f64 {
    -0.05
}
fn default_maxval() -> f64 {
    0.05
}
fn default_gain() -> f64 {
    1.0
}

impl Initializer {
    /// The initializer of a Keras name with its default settings.
    pub fn parse(name: &str) -> Result<Initializer> {
        serde_json::from_value(serde_json::json!({ "name": name })).map_err(|_| {
            Error::value(format!(
                "unknown initializer {name:?}; known initializers: {}",
                initializers::names().join(", ")
            ))
        })
    }

    /// A new leaf tensor of `shape`, drawn or filled according to this initializer.
    pub fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        initializers::Initializer::try_from(self)?.tensor(shape, dtype)
    }
}

impl TryFrom<&Initializer> for initializers::Initializer {
    type Error = Error;

    /// The registered initializer of the same config (the two share their JSON).
    fn try_from(init: &Initializer) -> Result<initializers::Initializer> {
        let json = serde_json::to_value(init).map_err(|e| Error::value(e.to_string()))?;
        serde_json::from_value(json).map_err(|e| Error::value(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_is_a_registered_initializer_with_the_same_json() {
        let all = [
            Initializer::Zeros,
            Initializer::Ones,
            Initializer::Constant { value: 0.5 },
            Initializer::RandomNormal {
                mean: 0.0,
                stddev: 0.05,
            },
            Initializer::RandomUniform {
                minval: -0.05,
                maxval: 0.05,
            },
            Initializer::TruncatedNormal {
                mean: 0.0,
                stddev: 0.05,
            },
            Initializer::GlorotUniform,
            Initializer::GlorotNormal,
            Initializer::HeNormal,
            Initializer::HeUniform,
            Initializer::LecunNormal,
            Initializer::LecunUniform,
            Initializer::Orthogonal { gain: 1.0 },
        ];
        for init in &all {
            let open = initializers::Initializer::try_from(init).unwrap();
            assert_eq!(
                serde_json::to_value(&open).unwrap(),
                serde_json::to_value(init).unwrap()
            );
        }
        assert_eq!(all.len(), initializers::names().len());
    }

    #[test]
    fn draws_as_the_registered_initializer() {
        crate::rng::set_seed(3);
        let a = Initializer::HeNormal.tensor(&[5, 4], DType::F32).unwrap();
        crate::rng::set_seed(3);
        let b = initializers::WeightInitializer::tensor(
            &initializers::HeNormal {},
            &[5, 4],
            DType::F32,
        );
        assert_eq!(a.to_f64_vec(), b.unwrap().to_f64_vec());
        assert!(
            Initializer::parse("xavier")
                .unwrap_err()
                .to_string()
                .contains("glorot_uniform")
        );
    }
}

//! Keras's `RandomUniform`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::creation;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Uniform draws in `[minval, maxval)` (defaults -0.05 and 0.05).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{RandomUniform, WeightInitializer};
/// use ferrograd::DType;
///
/// let w = RandomUniform { minval: 0.0, maxval: 1.0 }.tensor(&[100], DType::F64).unwrap();
/// assert!(w.to_f64_vec().iter().all(|v| (0.0..1.0).contains(v)));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomUniform {
    #[serde(default = "default_minval")]
    pub minval: f64,
    #[serde(default = "default_maxval")]
    pub maxval: f64,
}

fn default_minval() -> f64 {
    -0.05
}

fn default_maxval() -> f64 {
    0.05
}

impl Default for RandomUniform {
    fn default() -> RandomUniform {
        RandomUniform {
            minval: default_minval(),
            maxval: default_maxval(),
        }
    }
}

impl WeightInitializer for RandomUniform {
    const NAME: &'static str = "random_uniform";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        creation::uniform(shape, self.minval, self.maxval, dtype)
    }
}

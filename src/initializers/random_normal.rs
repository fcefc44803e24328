//! Keras's `RandomNormal`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::creation;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Normal draws of mean `mean` (default 0) and standard deviation `stddev` (default 0.05).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{RandomNormal, WeightInitializer};
/// use ferrograd::DType;
///
/// let w = RandomNormal::default().tensor(&[8], DType::F32).unwrap();
/// assert_eq!(w.shape(), &[8]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomNormal {
    #[serde(default)]
    pub mean: f64,
    #[serde(default = "default_stddev")]
    pub stddev: f64,
}

pub(crate) fn default_stddev() -> f64 {
    0.05
}

impl Default for RandomNormal {
    fn default() -> RandomNormal {
        RandomNormal {
            mean: 0.0,
            stddev: default_stddev(),
        }
    }
}

impl WeightInitializer for RandomNormal {
    const NAME: &'static str = "random_normal";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        creation::normal(shape, self.mean, self.stddev, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_fields() {
        let init: RandomNormal = serde_json::from_str(r#"{"mean": 1}"#).unwrap();
        assert_eq!((init.mean, init.stddev), (1.0, 0.05));
    }
}

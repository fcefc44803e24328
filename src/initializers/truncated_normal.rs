//! Keras's `TruncatedNormal`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use super::random_normal::default_stddev;
use crate::creation;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Normal draws (mean `mean`, default 0; standard deviation `stddev`, default 0.05) redrawn
/// until within two standard deviations of the mean.
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{TruncatedNormal, WeightInitializer};
/// use ferrograd::DType;
///
/// let w = TruncatedNormal::default().tensor(&[100], DType::F64).unwrap();
/// assert!(w.to_f64_vec().iter().all(|v| v.abs() <= 0.1));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruncatedNormal {
    #[serde(default)]
    pub mean: f64,
    #[serde(default = "default_stddev")]
    pub stddev: f64,
}

impl Default for TruncatedNormal {
    fn default() -> TruncatedNormal {
        TruncatedNormal {
            mean: 0.0,
            stddev: default_stddev(),
        }
    }
}

impl WeightInitializer for TruncatedNormal {
    const NAME: &'static str = "truncated_normal";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        creation::truncated_normal(shape, self.mean, self.stddev, dtype)
    }
}

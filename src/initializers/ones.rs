//! Keras's `Ones`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Every element 1 (Keras's default for normalization scales).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{Ones, WeightInitializer};
/// use ferrograd::DType;
///
/// assert_eq!(Ones {}.tensor(&[2], DType::F32).unwrap().to_f64_vec(), vec![1.0, 1.0]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ones {}

impl WeightInitializer for Ones {
    const NAME: &'static str = "ones";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, 1.0, dtype)
    }
}

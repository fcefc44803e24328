//! Keras's `Zeros`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Every element 0 (Keras's default for biases).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{WeightInitializer, Zeros};
/// use ferrograd::DType;
///
/// assert_eq!(Zeros {}.tensor(&[2], DType::F32).unwrap().to_f64_vec(), vec![0.0, 0.0]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zeros {}

impl WeightInitializer for Zeros {
    const NAME: &'static str = "zeros";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::zeros(shape, dtype)
    }
}

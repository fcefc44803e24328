//! Keras's `Constant`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Every element `value`.
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{Constant, WeightInitializer};
/// use ferrograd::DType;
///
/// assert_eq!(Constant { value: 2.0 }.tensor(&[1], DType::F64).unwrap().to_f64_vec(), vec![2.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub value: f64,
}

impl WeightInitializer for Constant {
    const NAME: &'static str = "constant";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, self.value, dtype)
    }
}

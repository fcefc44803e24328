//! Keras's `GlorotUniform`, a variance-scaling initializer.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use super::variance_scaling::{fans, uniform};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Uniform in `[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))` (Keras's default for
/// kernels).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{GlorotUniform, WeightInitializer};
/// use ferrograd::DType;
///
/// let w = GlorotUniform {}.tensor(&[64, 32], DType::F32).unwrap();
/// assert_eq!(w.shape(), &[64, 32]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlorotUniform {}

impl WeightInitializer for GlorotUniform {
    const NAME: &'static str = "glorot_uniform";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let (fan_in, fan_out) = fans(shape);
        uniform(shape, 2.0 / (fan_in + fan_out), dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initializers::variance_scaling::tests::stats;

    #[test]
    fn bounded_by_its_limit_with_the_matching_spread() {
        crate::rng::set_seed(0);
        let t = GlorotUniform {}.tensor(&[400, 300], DType::F64).unwrap();
        let (_, std, max) = stats(&t);
        let (fan_in, fan_out) = (400.0f64, 300.0f64);
        let variance = 2.0 / (fan_in + fan_out);
        let limit = (3.0 * variance).sqrt();
        assert!(max <= limit, "{max} > {limit}");
        assert!(
            (std - variance.sqrt()).abs() < 0.02 * variance.sqrt(),
            "{std}"
        );
    }
}

//! Keras's `LecunNormal`, a variance-scaling initializer.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use super::variance_scaling::{fans, truncated};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// A truncated normal with `stddev = sqrt(1 / fan_in)`.
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{LecunNormal, WeightInitializer};
/// use ferrograd::DType;
///
/// let w = LecunNormal {}.tensor(&[64, 32], DType::F32).unwrap();
/// assert_eq!(w.shape(), &[64, 32]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LecunNormal {}

impl WeightInitializer for LecunNormal {
    const NAME: &'static str = "lecun_normal";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let (fan_in, _) = fans(shape);
        truncated(shape, 1.0 / fan_in, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initializers::variance_scaling::TRUNCATED_NORMAL_STDDEV;
    use crate::initializers::variance_scaling::tests::stats;

    #[test]
    fn truncated_with_the_matching_spread() {
        crate::rng::set_seed(0);
        let t = LecunNormal {}.tensor(&[400, 300], DType::F64).unwrap();
        let (_, std, max) = stats(&t);
        let fan_in = 400.0f64;
        let target = (1.0 / fan_in).sqrt();
        assert!((std - target).abs() < 0.02 * target, "{std} vs {target}");
        assert!(max <= 2.0 * target / TRUNCATED_NORMAL_STDDEV + 1e-12);
    }
}

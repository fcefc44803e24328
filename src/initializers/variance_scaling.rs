//! What the variance-scaling initializers (Glorot, He, LeCun) share, as Keras's
//! `VarianceScaling`: the fans of a shape, and a uniform or truncated normal draw of a given
//! variance.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::creation;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Keras's `VarianceScaling`: draws of variance `scale / n`, `n` being the fan in, the fan out
/// or their mean (`mode`), from a truncated normal, a normal or a uniform (`distribution`).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{VarianceScaling, WeightInitializer};
/// use ferrograd::DType;
///
/// let init = VarianceScaling { scale: 2.0, mode: "fan_in".into(), distribution: "uniform".into() };
/// assert_eq!(init.tensor(&[8, 4], DType::F32).unwrap().shape(), &[8, 4]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarianceScaling {
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default = "fan_in")]
    pub mode: String,
    #[serde(default = "truncated_normal")]
    pub distribution: String,
}

fn one() -> f64 {
    1.0
}

fn fan_in() -> String {
    "fan_in".to_string()
}

fn truncated_normal() -> String {
    "truncated_normal".to_string()
}

impl WeightInitializer for VarianceScaling {
    const NAME: &'static str = "variance_scaling";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::value(format!(
                "VarianceScaling: scale must be a positive number, received scale={}",
                self.scale
            )));
        }
        let (fan_in, fan_out) = fans(shape);
        let n = match self.mode.as_str() {
            "fan_in" => fan_in,
            "fan_out" => fan_out,
            "fan_avg" => (fan_in + fan_out) / 2.0,
            other => {
                return Err(Error::value(format!(
                    "VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', received \
                     mode={other:?}"
                )));
            }
        };
        let variance = self.scale / n;
        match self.distribution.as_str() {
            "truncated_normal" => truncated(shape, variance, dtype),
            "untruncated_normal" => creation::normal(shape, 0.0, variance.sqrt(), dtype),
            "uniform" => uniform(shape, variance, dtype),
            other => Err(Error::value(format!(
                "VarianceScaling: distribution must be 'truncated_normal', \
                 'untruncated_normal' or 'uniform', received distribution={other:?}"
            ))),
        }
    }
}

/// The standard deviation of a standard normal truncated at two standard deviations; the
/// truncated draws divide by it so that they have the wanted spread.
pub(crate) const TRUNCATED_NORMAL_STDDEV: f64 = 0.879_625_661_034_239_8;

/// Keras's fans, at least 1 each: the last axis is the output, the one before it the input, and
/// any leading axes (a convolution's receptive field) multiply both.
pub(crate) fn fans(shape: &[usize]) -> (f64, f64) {
    let (fan_in, fan_out) = match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [fan_in, fan_out] => (*fan_in, *fan_out),
        _ => {
            let receptive: usize = shape[..shape.len() - 2].iter().product();
            (
                shape[shape.len() - 2] * receptive,
                shape[shape.len() - 1] * receptive,
            )
        }
    };
    (fan_in.max(1) as f64, fan_out.max(1) as f64)
}

/// Uniform in `[-limit, limit]`, `limit = sqrt(3 * scale)` (variance `scale`).
pub(crate) fn uniform(shape: &[usize], scale: f64, dtype: DType) -> Result<Tensor> {
    let limit = (3.0 * scale).sqrt();
    creation::uniform(shape, -limit, limit, dtype)
}

/// A normal truncated at two standard deviations, with variance `scale` after truncation.
pub(crate) fn truncated(shape: &[usize], scale: f64, dtype: DType) -> Result<Tensor> {
    creation::truncated_normal(shape, 0.0, scale.sqrt() / TRUNCATED_NORMAL_STDDEV, dtype)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The mean, the standard deviation and the largest magnitude of `t`.
    pub(crate) fn stats(t: &Tensor) -> (f64, f64, f64) {
        let v = t.to_f64_vec();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        (mean, var.sqrt(), max)
    }

    #[test]
    fn variance_scaling_matches_its_named_forms() {
        let init = VarianceScaling {
            scale: 2.0,
            mode: "fan_in".into(),
            distribution: "untruncated_normal".into(),
        };
        crate::rng::set_seed(0);
        let (mean, std, _) = stats(&init.tensor(&[400, 300], DType::F64).unwrap());
        assert!(
            mean.abs() < 0.01 && (std - (2.0f64 / 400.0).sqrt()).abs() < 0.002,
            "{std}"
        );
        let uniform = VarianceScaling {
            scale: 1.0,
            mode: "fan_avg".into(),
            distribution: "uniform".into(),
        };
        let (_, _, max) = stats(&uniform.tensor(&[400, 300], DType::F64).unwrap());
        assert!(max <= (3.0f64 / 350.0).sqrt() && max > 0.9 * (3.0f64 / 350.0).sqrt());
        let bad = VarianceScaling {
            scale: 1.0,
            mode: "fan_sideways".into(),
            distribution: "uniform".into(),
        };
        assert!(bad.tensor(&[2, 2], DType::F32).is_err());
    }

    #[test]
    fn fans_follow_keras() {
        assert_eq!(fans(&[]), (1.0, 1.0));
        assert_eq!(fans(&[5]), (5.0, 5.0));
        assert_eq!(fans(&[3, 4]), (3.0, 4.0));
        assert_eq!(fans(&[2, 2, 3, 4]), (12.0, 16.0));
        assert_eq!(fans(&[0, 4]), (1.0, 4.0));
    }
}

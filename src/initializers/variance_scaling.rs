//! What the variance-scaling initializers (Glorot, He, LeCun) share, as Keras's
//! `VarianceScaling`: the fans of a shape, and a uniform or truncated normal draw of a given
//! variance.

use crate::creation;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

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
    fn fans_follow_keras() {
        assert_eq!(fans(&[]), (1.0, 1.0));
        assert_eq!(fans(&[5]), (5.0, 5.0));
        assert_eq!(fans(&[3, 4]), (3.0, 4.0));
        assert_eq!(fans(&[2, 2, 3, 4]), (12.0, 16.0));
        assert_eq!(fans(&[0, 4]), (1.0, 4.0));
    }
}

//! Reductions composed from the primitive ones: variance, standard deviation and vector norms.
//! Their gradients come from the ops they are made of.

use crate::error::Result;
use crate::ops::binary::BinaryOp;
use crate::ops::compare::Comparison;
use crate::shape::normalize_axes;
use crate::tensor::Tensor;

impl Tensor {
    /// The variance over `axes`, dividing by `n - correction` (0: the population variance, as
    /// numpy and Keras; 1: the sample variance, PyTorch's default).
    pub fn var(&self, axes: Option<&[isize]>, keepdims: bool, correction: f64) -> Result<Tensor> {
        let resolved = normalize_axes("var", axes, self.ndim())?;
        let count: usize = resolved.iter().map(|&a| self.shape()[a]).product();
        let centered = self.sub(&self.mean(axes, true)?)?;
        let total = centered.square()?.sum(axes, keepdims)?;
        total.scalar_op(BinaryOp::Div, (count as f64 - correction).max(0.0), false)
    }

    /// The square root of `var`.
    pub fn std(&self, axes: Option<&[isize]>, keepdims: bool, correction: f64) -> Result<Tensor> {
        self.var(axes, keepdims, correction)?.sqrt()
    }

    /// The `ord`-norm of the elements over `axes` taken as one vector: `(sum |x|^ord)^(1/ord)`,
    /// the largest (`inf`) or smallest (`-inf`) magnitude, or the count of nonzeros (`0`).
    pub fn vector_norm(&self, ord: f64, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        if ord == 2.0 {
            return self.square()?.sum(axes, keepdims)?.sqrt();
        }
        if ord == 0.0 {
            let zero = Tensor::scalar(0.0, self.dtype());
            return self
                .compare(Comparison::NotEqual, &zero)?
                .sum(axes, keepdims);
        }
        let magnitude = self.abs()?;
        if ord == 1.0 {
            magnitude.sum(axes, keepdims)
        } else if ord == f64::INFINITY {
            magnitude.max(axes, keepdims)
        } else if ord == f64::NEG_INFINITY {
            magnitude.min(axes, keepdims)
        } else {
            magnitude.powf(ord)?.sum(axes, keepdims)?.powf(1.0 / ord)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_values() {
        let x = Tensor::from_array(ndarray::arr1(&[1.0f64, 2.0, 3.0, 6.0]).into_dyn(), false);
        assert_eq!(x.var(None, false, 0.0).unwrap().to_f64_vec(), vec![3.5]);
        assert_eq!(
            x.var(None, false, 1.0).unwrap().to_f64_vec(),
            vec![14.0 / 3.0]
        );
        assert_eq!(
            x.vector_norm(1.0, None, false).unwrap().to_f64_vec(),
            vec![12.0]
        );
        assert_eq!(
            x.vector_norm(f64::INFINITY, None, false)
                .unwrap()
                .to_f64_vec(),
            vec![6.0]
        );
        assert_eq!(
            x.vector_norm(0.0, None, false).unwrap().to_f64_vec(),
            vec![4.0]
        );
        assert_eq!(
            x.vector_norm(2.0, None, false).unwrap().to_f64_vec(),
            vec![50f64.sqrt()]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for axes in [None, Some(vec![-1]), Some(vec![0, 2])] {
            check_gradients(&[randn(&[2, 3, 4], 21)], |t| {
                t[0].std(axes.as_deref(), false, 1.0).unwrap()
            });
            check_gradients(&[randn(&[2, 3, 4], 22)], |t| {
                t[0].vector_norm(3.0, axes.as_deref(), true).unwrap()
            });
        }
    }
}

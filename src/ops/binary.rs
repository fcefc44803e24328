//! Elementwise binary arithmetic with numpy broadcasting: `+ - * / **`, maximum and minimum.
//!
//! The backward rule of each op computes the gradient at the broadcast shape and sums it back
//! down to each operand's own shape.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD};

use super::layout::promote_pair;
use super::{broadcast_map2, broadcast_map3, sum_to_shape};
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::Result;
use crate::map_storage2;
use crate::shape::broadcast_shapes;
use crate::storage::Storage;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "subtract",
            BinaryOp::Mul => "multiply",
            BinaryOp::Div => "divide",
            BinaryOp::Pow => "power",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
        }
    }

    fn apply<T: Element>(self, a: T, b: T) -> T {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Pow => a.powf(b),
            // `Float::max` returns the other operand for NaN; numpy's `maximum` propagates it.
            BinaryOp::Maximum | BinaryOp::Minimum if a.is_nan() || b.is_nan() => a + b,
            BinaryOp::Maximum => a.max(b),
            BinaryOp::Minimum => a.min(b),
        }
    }

    /// d(a op b)/da and d(a op b)/db at one element.
    fn partials<T: Element>(self, a: T, b: T) -> (T, T) {
        let one = T::one();
        let half = T::of(0.5);
        match self {
            BinaryOp::Add => (one, one),
            BinaryOp::Sub => (one, -one),
            BinaryOp::Mul => (b, a),
            BinaryOp::Div => (one / b, -a / (b * b)),
            BinaryOp::Pow => {
                let da = if b == T::zero() {
                    T::zero()
                } else {
                    b * a.powf(b - one)
                };
                // d/db a^b = a^b ln a, taken as 0 at a = 0 for b >= 0 (PyTorch's convention), where
                // ln 0 would make it NaN (b > 0) or -inf (b = 0, 0 ** 0 = 1).
                let db = if a == T::zero() && b >= T::zero() {
                    T::zero()
                } else {
                    a.powf(b) * a.ln()
                };
                (da, db)
            }
            // Ties split the gradient evenly, as PyTorch does.
            BinaryOp::Maximum | BinaryOp::Minimum => {
                let lhs_wins = if self == BinaryOp::Maximum {
                    a > b
                } else {
                    a < b
                };
                if a == b {
                    (half, half)
                } else if lhs_wins {
                    (one, T::zero())
                } else {
                    (T::zero(), one)
                }
            }
        }
    }
}

pub fn binary(op: BinaryOp, lhs: &Tensor, rhs: &Tensor) -> Result<Tensor> {
    let (lhs, rhs) = &promote_pair(lhs, rhs)?;
    let (a, b) = (lhs.data(), rhs.data());
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let out = map_storage2!(op.name(), &*a, &*b, |x, y| broadcast_map2(
        x,
        y,
        &shape,
        |p, q| op.apply(p, q)
    )?);
    Ok(record(out, &[lhs, rhs], |_| BinaryBackward {
        op,
        lhs: a,
        rhs: b,
    }))
}

struct BinaryBackward {
    op: BinaryOp,
    lhs: Arc<Storage>,
    rhs: Arc<Storage>,
}

impl Backward for BinaryBackward {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let op = self.op;
        for (i, shape) in [(0, self.lhs.shape()), (1, self.rhs.shape())] {
            if !grads.wants(i) {
                continue;
            }
            let g = map_storage2!(op.name(), grad, &*self.lhs, |g, a| {
                let b = self.rhs.typed()?;
                partial_grad(op, i, g, a, b, shape)?
            });
            grads.add(i, g)?;
        }
        Ok(())
    }
}

fn partial_grad<T: Element>(
    op: BinaryOp,
    input: usize,
    g: &ArrayRefD<T>,
    a: &ArrayRefD<T>,
    b: &ArrayRefD<T>,
    shape: &[usize],
) -> Result<ArrayD<T>> {
    let full = broadcast_map3(g, a, b, |g, x, y| {
        let (da, db) = op.partials(x, y);
        g * if input == 0 { da } else { db }
    })?;
    sum_to_shape(full, shape)
}

impl Tensor {
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Add, self, other)
    }

    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Sub, self, other)
    }

    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Mul, self, other)
    }

    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Div, self, other)
    }

    pub fn pow(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Pow, self, other)
    }

    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Maximum, self, other)
    }

    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        binary(BinaryOp::Minimum, self, other)
    }

    /// `self op scalar`, with the scalar taking this tensor's dtype.
    pub fn scalar_op(&self, op: BinaryOp, scalar: f64, scalar_first: bool) -> Result<Tensor> {
        let s = Tensor::scalar(scalar, self.dtype());
        if scalar_first {
            binary(op, &s, self)
        } else {
            binary(op, self, &s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_values_and_gradients() {
        let a = Tensor::from_array(ndarray::arr1(&[1.0f64, 2.0, 3.0]).into_dyn(), true);
        let b = Tensor::from_array(ndarray::arr1(&[4.0f64]).into_dyn(), true);
        let y = a.mul(&b).unwrap();
        assert_eq!(y.to_f64_vec(), vec![4.0, 8.0, 12.0]);
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(a.grad().unwrap().to_f64_vec(), vec![4.0, 4.0, 4.0]);
        assert_eq!(b.grad().unwrap().to_f64_vec(), vec![6.0]);
    }

    #[test]
    fn gradients_match_finite_differences_with_broadcasting() {
        for op in [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Maximum,
            BinaryOp::Minimum,
        ] {
            let a = randn(&[3, 1, 4], 1);
            let b = randn(&[2, 1], 2);
            check_gradients(&[a, b], |t| binary(op, &t[0], &t[1]).unwrap());
        }
        let base = randn(&[2, 3], 3)
            .data()
            .to_f64_vec()
            .iter()
            .map(|v| v.abs() + 0.5)
            .collect();
        let a = Tensor::new(
            Storage::from_f64_vec(crate::dtype::DType::F64, &[2, 3], base).unwrap(),
            true,
        );
        check_gradients(&[a, randn(&[3], 4)], |t| t[0].pow(&t[1]).unwrap());
    }

    #[test]
    fn power_of_zero_has_a_zero_exponent_gradient() {
        assert_eq!(BinaryOp::Pow.partials(0.0f64, 0.0), (0.0, 0.0));
        assert_eq!(BinaryOp::Pow.partials(0.0f64, 2.0), (0.0, 0.0));
        assert_eq!(BinaryOp::Pow.partials(0.0f64, 1.0), (1.0, 0.0));
        let (_, db) = BinaryOp::Pow.partials(2.0f64, 3.0);
        assert!((db - 8.0 * 2.0f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn maximum_and_minimum_propagate_nan() {
        let a = Tensor::from_array(ndarray::arr1(&[f64::NAN, 1.0, 2.0]).into_dyn(), false);
        let b = Tensor::from_array(ndarray::arr1(&[0.0, f64::NAN, 3.0]).into_dyn(), false);
        for y in [a.maximum(&b).unwrap(), a.minimum(&b).unwrap()] {
            let y = y.to_f64_vec();
            assert!(y[0].is_nan() && y[1].is_nan(), "{y:?}");
        }
        assert_eq!(a.maximum(&b).unwrap().to_f64_vec()[2], 3.0);
        assert_eq!(a.minimum(&b).unwrap().to_f64_vec()[2], 2.0);
    }

    #[test]
    fn incompatible_shapes_are_errors() {
        let a = Tensor::zeros(&[3], crate::dtype::DType::F32).unwrap();
        let b = Tensor::zeros(&[4], crate::dtype::DType::F32).unwrap();
        let message = a.add(&b).unwrap_err().to_string();
        assert!(
            message.contains("[3]") && message.contains("[4]"),
            "{message}"
        );
    }
}

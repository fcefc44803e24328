//! Comparisons (which give 0/1 masks and no gradient), `where` and `clip`.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, Zip};
use num_traits::{One, Zero};

use super::layout::promote_pair;
use super::{broadcast_map2, broadcast_view, sum_to_shape};
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::shape::broadcast_shapes;
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;
use crate::{map_storage, map_storage2};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
}

impl Comparison {
    fn holds<T: Element>(self, a: T, b: T) -> bool {
        match self {
            Comparison::Less => a < b,
            Comparison::LessEqual => a <= b,
            Comparison::Greater => a > b,
            Comparison::GreaterEqual => a >= b,
            Comparison::Equal => a == b,
            Comparison::NotEqual => a != b,
        }
    }
}

/// A mask of 1.0 where `lhs cmp rhs` holds and 0.0 elsewhere, broadcast; never differentiable.
pub fn compare(cmp: Comparison, lhs: &Tensor, rhs: &Tensor) -> Result<Tensor> {
    let (lhs, rhs) = promote_pair(lhs, rhs)?;
    let (a, b) = (lhs.data(), rhs.data());
    let shape = broadcast_shapes("compare", a.shape(), b.shape())?;
    let out = map_storage2!("compare", &*a, &*b, |x, y| broadcast_map2(
        x,
        y,
        &shape,
        |p, q| {
            if cmp.holds(p, q) {
                One::one()
            } else {
                Zero::zero()
            }
        }
    )?);
    Ok(Tensor::new(out, false))
}

/// `condition ? a : b` elementwise (nonzero counts as true), all three broadcast together.
pub fn where_(condition: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = &promote_pair(a, b)?;
    let shape = broadcast_shapes("where", condition.shape(), a.shape())?;
    let shape = broadcast_shapes("where", &shape, b.shape())?;
    let mask = condition.data().astype(a.dtype());
    let (x, y) = (a.data(), b.data());
    let out = map_storage2!("where", &*x, &*y, |x, y| {
        let mask = mask.typed()?;
        select(mask, x, y, &shape)?
    });
    let mask = Arc::new(mask);
    Ok(record(out, &[a, b], |_| WhereBackward {
        mask,
        a_shape: a.shape().to_vec(),
        b_shape: b.shape().to_vec(),
    }))
}

fn select<T: Element>(
    mask: &ArrayRefD<T>,
    a: &ArrayRefD<T>,
    b: &ArrayRefD<T>,
    shape: &[usize],
) -> Result<ArrayD<T>> {
    let mut out = try_zeros::<T>(shape)?;
    // Views, not copies: the three operands are read in place at the broadcast shape.
    let (mask, a, b) = (
        broadcast_view(mask, shape)?,
        broadcast_view(a, shape)?,
        broadcast_view(b, shape)?,
    );
    Zip::from(&mut out)
        .and(&mask)
        .and(&a)
        .and(&b)
        .for_each(|o, &m, &x, &y| *o = if m != T::zero() { x } else { y });
    Ok(out)
}

struct WhereBackward {
    mask: Arc<Storage>,
    a_shape: Vec<usize>,
    b_shape: Vec<usize>,
}

impl Backward for WhereBackward {
    fn name(&self) -> &'static str {
        "where"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        for (i, shape, take_true) in [(0, &self.a_shape, true), (1, &self.b_shape, false)] {
            if !grads.wants(i) {
                continue;
            }
            let g = map_storage2!("where", grad, &*self.mask, |g, m| {
                let m = m.broadcast(g.raw_dim()).ok_or_else(|| {
                    Error::Autograd("where: cannot broadcast the condition".into())
                })?;
                let masked = Zip::from(g).and(&m).map_collect(|&g, &m| {
                    if m.is_zero() != take_true {
                        g
                    } else {
                        Zero::zero()
                    }
                });
                sum_to_shape(masked, shape)?
            });
            grads.add(i, g)?;
        }
        Ok(())
    }
}

/// Limits every element to `[lo, hi]`; the gradient passes where the input was inside.
pub fn clip(input: &Tensor, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
    if let (Some(l), Some(h)) = (lo, hi)
        && l > h
    {
        return Err(Error::value(format!(
            "clip: lower bound {l} is above upper bound {h}"
        )));
    }
    let x = input.data();
    let bounds = (lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY));
    let out = map_storage!(&*x, a => crate::kernels::elementwise::map(a, |v| {
        // `Float::max` would turn NaN into the lower bound; numpy's clip keeps it.
        if v.is_nan() {
            v
        } else {
            v.max(Element::of(bounds.0)).min(Element::of(bounds.1))
        }
    }));
    Ok(record(out, &[input], |_| ClipBackward { input: x, bounds }))
}

struct ClipBackward {
    input: Arc<Storage>,
    bounds: (f64, f64),
}

impl Backward for ClipBackward {
    fn name(&self) -> &'static str {
        "clip"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let (lo, hi) = self.bounds;
        let g = map_storage2!("clip", grad, &*self.input, |g, x| Zip::from(g)
            .and(x)
            .map_collect(|&g, &x| {
                let v = x.as_f64();
                if v >= lo && v <= hi { g } else { Zero::zero() }
            }));
        grads.add(0, g)
    }
}

impl Tensor {
    pub fn compare(&self, cmp: Comparison, other: &Tensor) -> Result<Tensor> {
        compare(cmp, self, other)
    }

    pub fn clip(&self, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
        clip(self, lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn masks_and_selection() {
        let a = Tensor::from_array(ndarray::arr1(&[1.0f64, -2.0, 3.0]).into_dyn(), false);
        let zero = Tensor::scalar(0.0, crate::dtype::DType::F64);
        let mask = a.compare(Comparison::Greater, &zero).unwrap();
        assert_eq!(mask.to_f64_vec(), vec![1.0, 0.0, 1.0]);
        let picked = where_(&mask, &a, &zero).unwrap();
        assert_eq!(picked.to_f64_vec(), vec![1.0, 0.0, 3.0]);
        assert_eq!(
            a.clip(Some(-1.0), Some(2.0)).unwrap().to_f64_vec(),
            vec![1.0, -1.0, 2.0]
        );
        assert!(a.clip(Some(2.0), Some(1.0)).is_err());
        let nan = Tensor::from_array(ndarray::arr1(&[f64::NAN]).into_dyn(), false);
        assert!(nan.clip(Some(-1.0), Some(1.0)).unwrap().to_f64_vec()[0].is_nan());
    }

    #[test]
    fn gradients_match_finite_differences() {
        let condition = randn(&[3, 1], 9).detach();
        check_gradients(&[randn(&[3, 4], 1), randn(&[4], 2)], |t| {
            where_(&condition, &t[0], &t[1]).unwrap()
        });
        check_gradients(&[randn(&[3, 4], 3)], |t| {
            t[0].clip(Some(-0.5), Some(0.3)).unwrap()
        });
    }
}

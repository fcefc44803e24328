//! Ops that move elements without changing them: `reshape`, `transpose`, `broadcast_to` and
//! the dtype cast `astype`.

use ndarray::IxDyn;

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::shape::{normalize_axis, resolve_reshape};
use crate::storage::{Storage, standard};
use crate::tensor::Tensor;
use crate::{map_storage, try_map_storage};

pub fn reshape(input: &Tensor, target: &[isize]) -> Result<Tensor> {
    let shape = resolve_reshape(input.shape(), target)?;
    let out = reshape_storage(&input.data(), &shape)?;
    let from = input.shape().to_vec();
    Ok(record(out, &[input], |_| ReshapeBackward { from }))
}

fn reshape_storage(data: &Storage, shape: &[usize]) -> Result<Storage> {
    Ok(try_map_storage!(data, a => a
        .to_shape(IxDyn(shape))
        .map(|v| standard(v.into_owned()))
        .map_err(|e| Error::shape("reshape", e.to_string()))))
}

struct ReshapeBackward {
    from: Vec<usize>,
}

impl Backward for ReshapeBackward {
    fn name(&self) -> &'static str {
        "reshape"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        grads.add(0, reshape_storage(grad, &self.from)?)
    }
}

/// Permutes the axes (`axes[i]` is the input axis that becomes output axis `i`); `None`
/// reverses them, like numpy.
pub fn transpose(input: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let rank = input.ndim();
    let perm: Vec<usize> = match axes {
        None => (0..rank).rev().collect(),
        Some(axes) => {
            if axes.len() != rank {
                return Err(Error::value(format!(
                    "transpose: axes {axes:?} do not match a tensor of rank {rank}"
                )));
            }
            let perm = axes
                .iter()
                .map(|&a| normalize_axis("transpose", a, rank))
                .collect::<Result<Vec<_>>>()?;
            let mut seen = vec![false; rank];
            for &p in &perm {
                if std::mem::replace(&mut seen[p], true) {
                    return Err(Error::value(format!(
                        "transpose: repeated axis in {axes:?}"
                    )));
                }
            }
            perm
        }
    };
    let out = permute_storage(&input.data(), &perm);
    Ok(record(out, &[input], |_| TransposeBackward { perm }))
}

fn permute_storage(data: &Storage, perm: &[usize]) -> Storage {
    map_storage!(data, a => standard(a.view().permuted_axes(IxDyn(perm)).to_owned()))
}

struct TransposeBackward {
    perm: Vec<usize>,
}

impl Backward for TransposeBackward {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inverse[p] = i;
        }
        grads.add(0, permute_storage(grad, &inverse))
    }
}

pub fn broadcast_to(input: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let data = input.data();
    let out = try_map_storage!(&*data, a => a
    .broadcast(IxDyn(shape))
    .map(|v| v.to_owned())
    .ok_or_else(|| Error::ShapeMismatch {
        op: "broadcast_to",
        lhs: a.shape().to_vec(),
        rhs: shape.to_vec(),
        reason: "cannot be broadcast together",
    }));
    let from = input.shape().to_vec();
    Ok(record(out, &[input], |_| BroadcastBackward { from }))
}

struct BroadcastBackward {
    from: Vec<usize>,
}

impl Backward for BroadcastBackward {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = try_map_storage!(grad, g => super::sum_to_shape(g.to_owned(), &self.from));
        grads.add(0, g)
    }
}

pub fn astype(input: &Tensor, dtype: DType) -> Result<Tensor> {
    if input.dtype() == dtype {
        return Ok(input.clone());
    }
    let out = input.data().astype(dtype);
    let from = input.dtype();
    Ok(record(out, &[input], |_| AstypeBackward { from }))
}

struct AstypeBackward {
    from: DType,
}

impl Backward for AstypeBackward {
    fn name(&self) -> &'static str {
        "astype"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        grads.add(0, grad.astype(self.from))
    }
}

/// The inputs of one op cast to their common dtype (see `DType::promote`). The casts are `astype`
/// ops, so each input's gradient flows back in that input's own dtype.
pub fn promote(tensors: &[Tensor]) -> Result<Vec<Tensor>> {
    let Some(first) = tensors.first() else {
        return Ok(Vec::new());
    };
    let common = tensors
        .iter()
        .fold(first.dtype(), |dtype, t| dtype.promote(t.dtype()));
    tensors.iter().map(|t| astype(t, common)).collect()
}

/// `promote` for the two operands of a binary op.
pub fn promote_pair(lhs: &Tensor, rhs: &Tensor) -> Result<(Tensor, Tensor)> {
    let common = lhs.dtype().promote(rhs.dtype());
    Ok((astype(lhs, common)?, astype(rhs, common)?))
}

impl Tensor {
    pub fn reshape(&self, shape: &[isize]) -> Result<Tensor> {
        reshape(self, shape)
    }

    pub fn transpose(&self, axes: Option<&[isize]>) -> Result<Tensor> {
        transpose(self, axes)
    }

    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        broadcast_to(self, shape)
    }

    pub fn astype(&self, dtype: DType) -> Result<Tensor> {
        astype(self, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn transpose_moves_elements() {
        let x = Tensor::from_array(
            ndarray::arr2(&[[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]]).into_dyn(),
            false,
        );
        let t = x.transpose(None).unwrap();
        assert_eq!(t.shape(), &[3, 2]);
        assert_eq!(t.to_f64_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&[randn(&[2, 3, 4], 1)], |t| t[0].reshape(&[4, -1]).unwrap());
        check_gradients(&[randn(&[2, 3, 4], 2)], |t| {
            t[0].transpose(Some(&[1, -1, 0])).unwrap()
        });
        check_gradients(&[randn(&[3, 1], 3)], |t| {
            t[0].broadcast_to(&[2, 3, 4]).unwrap()
        });
    }

    #[test]
    fn mixed_dtypes_promote_to_float64_and_gradients_keep_each_dtype() {
        use crate::ops::{compare, join};
        let single = || Tensor::from_array(ndarray::arr1(&[1.0f32, 2.0]).into_dyn(), true);
        let double = || Tensor::from_array(ndarray::arr1(&[3.0f64, 4.0]).into_dyn(), true);
        let check = |name: &str, f: &dyn Fn(&Tensor, &Tensor) -> Tensor, da: &[f64], db: &[f64]| {
            let (a, b) = (single(), double());
            let y = f(&a, &b);
            assert_eq!(y.dtype(), DType::F64, "{name}");
            y.sum(None, false).unwrap().backward(None, false).unwrap();
            let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
            assert_eq!((ga.dtype(), gb.dtype()), (DType::F32, DType::F64), "{name}");
            assert_eq!(
                (ga.to_f64_vec(), gb.to_f64_vec()),
                (da.to_vec(), db.to_vec()),
                "{name}"
            );
        };
        check("mul", &|a, b| a.mul(b).unwrap(), &[3.0, 4.0], &[1.0, 2.0]);
        check(
            "reflected",
            &|a, b| b.sub(a).unwrap(),
            &[-1.0, -1.0],
            &[1.0, 1.0],
        );
        check(
            "matmul",
            &|a, b| a.matmul(b).unwrap(),
            &[3.0, 4.0],
            &[1.0, 2.0],
        );
        check(
            "concat",
            &|a, b| join::concat(&[a.clone(), b.clone()], 0).unwrap(),
            &[1.0, 1.0],
            &[1.0, 1.0],
        );
        check(
            "stack",
            &|a, b| join::stack(&[a.clone(), b.clone()], 1).unwrap(),
            &[1.0, 1.0],
            &[1.0, 1.0],
        );
        let mask = Tensor::from_array(ndarray::arr1(&[1.0f32, 0.0]).into_dyn(), false);
        check(
            "where",
            &|a, b| compare::where_(&mask, a, b).unwrap(),
            &[1.0, 0.0],
            &[0.0, 1.0],
        );
        let (a, b) = (single(), double());
        let less = a.compare(compare::Comparison::Less, &b).unwrap();
        assert_eq!(less.dtype(), DType::F64);
        assert_eq!(less.to_f64_vec(), vec![1.0, 1.0]);
    }

    #[test]
    fn bad_targets_are_errors() {
        let x = randn(&[2, 3], 1);
        assert!(x.reshape(&[4, 2]).is_err());
        assert!(x.transpose(Some(&[0, 0])).is_err());
        assert!(x.transpose(Some(&[0])).is_err());
        assert!(x.broadcast_to(&[3, 3]).is_err());
    }
}

//! `concat` and `stack` of several tensors along an axis.

use ndarray::{ArrayD, ArrayViewD, Axis, Slice};

use super::layout::promote;
use crate::autograd::{Backward, GradSink, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::map_storage;
use crate::shape::normalize_axis;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Joins `tensors` along an existing `axis`; all other dimensions must agree.
pub fn concat(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::value("concat: expected at least one tensor"))?;
    let rank = first.ndim();
    if rank == 0 {
        return Err(Error::value(
            "concat: zero-dimensional tensors cannot be concatenated; use stack",
        ));
    }
    let axis = normalize_axis("concat", axis, rank)?;
    for t in tensors {
        let same_elsewhere = t.ndim() == rank
            && t.shape()
                .iter()
                .zip(first.shape())
                .enumerate()
                .all(|(i, (a, b))| i == axis || a == b);
        if !same_elsewhere {
            return Err(Error::ShapeMismatch {
                op: "concat",
                lhs: first.shape().to_vec(),
                rhs: t.shape().to_vec(),
                reason: "must agree on every dimension except the concatenation axis",
            });
        }
    }
    let tensors = &promote(tensors)?;
    let dtype = tensors[0].dtype();
    let datas: Vec<_> = tensors.iter().map(Tensor::data).collect();
    let out = match dtype {
        DType::F32 => Storage::from_array(join_arrays::<f32>(&datas, axis, false)?),
        DType::F64 => Storage::from_array(join_arrays::<f64>(&datas, axis, false)?),
    };
    let sizes = tensors.iter().map(|t| t.shape()[axis]).collect();
    let inputs: Vec<&Tensor> = tensors.iter().collect();
    Ok(record(out, &inputs, |_| JoinBackward {
        axis,
        sizes,
        stacked: false,
    }))
}

/// Joins `tensors` of one shape along a new `axis`.
pub fn stack(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::value("stack: expected at least one tensor"))?;
    let axis = normalize_axis("stack", axis, first.ndim() + 1)?;
    if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
        return Err(Error::ShapeMismatch {
            op: "stack",
            lhs: first.shape().to_vec(),
            rhs: t.shape().to_vec(),
            reason: "differ: every tensor must have the same shape",
        });
    }
    let tensors = &promote(tensors)?;
    let dtype = tensors[0].dtype();
    let datas: Vec<_> = tensors.iter().map(Tensor::data).collect();
    let out = match dtype {
        DType::F32 => Storage::from_array(join_arrays::<f32>(&datas, axis, true)?),
        DType::F64 => Storage::from_array(join_arrays::<f64>(&datas, axis, true)?),
    };
    let inputs: Vec<&Tensor> = tensors.iter().collect();
    Ok(record(out, &inputs, |_| JoinBackward {
        axis,
        sizes: vec![1; tensors.len()],
        stacked: true,
    }))
}

fn join_arrays<T: Element>(
    datas: &[std::sync::Arc<Storage>],
    axis: usize,
    stacked: bool,
) -> Result<ArrayD<T>> {
    let views = datas
        .iter()
        .map(|d| d.typed::<T>().map(|a| a.view()))
        .collect::<Result<Vec<ArrayViewD<'_, T>>>>()?;
    let joined = if stacked {
        ndarray::stack(Axis(axis), &views)
    } else {
        ndarray::concatenate(Axis(axis), &views)
    };
    joined.map_err(|e| Error::value(format!("concat: {e}")))
}

struct JoinBackward {
    axis: usize,
    /// The extent of each input along `axis` in the output.
    sizes: Vec<usize>,
    stacked: bool,
}

impl Backward for JoinBackward {
    fn name(&self) -> &'static str {
        if self.stacked { "stack" } else { "concat" }
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let mut start = 0;
        for (i, &size) in self.sizes.iter().enumerate() {
            let range = Slice::from(start as isize..(start + size) as isize);
            start += size;
            if !grads.wants(i) {
                continue;
            }
            let part = map_storage!(grad, g => {
                let part = g.slice_axis(Axis(self.axis), range);
                if self.stacked {
                    part.index_axis(Axis(self.axis), 0).to_owned()
                } else {
                    part.to_owned()
                }
            });
            grads.add(i, part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn shapes_and_errors() {
        let (a, b) = (randn(&[2, 3], 1), randn(&[4, 3], 2));
        assert_eq!(concat(&[a.clone(), b.clone()], 0).unwrap().shape(), &[6, 3]);
        assert!(concat(&[a.clone(), b.clone()], 1).is_err());
        assert!(stack(&[a.clone(), b], 0).is_err());
        assert_eq!(stack(&[a.clone(), a], -1).unwrap().shape(), &[2, 3, 2]);
        assert!(concat(&[], 0).is_err());
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&[randn(&[2, 3], 1), randn(&[2, 1], 2)], |t| {
            concat(t, -1).unwrap()
        });
        check_gradients(&[randn(&[2, 3], 3), randn(&[2, 3], 4)], |t| {
            stack(t, 1).unwrap()
        });
    }
}

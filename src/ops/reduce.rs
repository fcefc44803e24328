//! Reductions over axes: `sum`, `mean`, `max`.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, Axis, IxDyn};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::shape::{normalize_axes, reduced_shape};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{map_storage2, try_map_storage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduction {
    Sum,
    Mean,
    Max,
}

impl Reduction {
    fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Max => "max",
        }
    }
}

fn reduce(
    kind: Reduction,
    input: &Tensor,
    axes: Option<&[isize]>,
    keepdims: bool,
) -> Result<Tensor> {
    let x = input.data();
    let axes = normalize_axes(kind.name(), axes, x.ndim())?;
    if kind == Reduction::Max && axes.iter().any(|&a| x.shape()[a] == 0) {
        return Err(Error::value(format!(
            "max: cannot reduce over an empty axis of a tensor of shape {:?}",
            x.shape()
        )));
    }
    let out_shape = reduced_shape(x.shape(), &axes, keepdims);
    let out = try_map_storage!(&*x, a => reduce_array(kind, a, &axes, &out_shape));
    Ok(record(out, &[input], |output| ReduceBackward {
        kind,
        axes,
        input: x,
        output: output.clone(),
    }))
}

fn reduce_array<T: Element>(
    kind: Reduction,
    a: &ArrayRefD<T>,
    axes: &[usize],
    out_shape: &[usize],
) -> Result<ArrayD<T>> {
    let mut out = a.to_owned();
    for &axis in axes.iter().rev() {
        out = match kind {
            Reduction::Sum | Reduction::Mean => out.sum_axis(Axis(axis)),
            Reduction::Max => out.fold_axis(Axis(axis), T::neg_infinity(), |m, &v| {
                // NaN propagates, as in numpy.
                if v > *m || v.is_nan() { v } else { *m }
            }),
        };
    }
    if kind == Reduction::Mean {
        let count = axes.iter().map(|&axis| a.shape()[axis]).product::<usize>();
        let scale = T::one() / T::of(count as f64);
        out.mapv_inplace(|v| v * scale);
    }
    out.into_shape_with_order(IxDyn(out_shape))
        .map_err(|e| Error::value(format!("{}: {e}", kind.name())))
}

struct ReduceBackward {
    kind: Reduction,
    axes: Vec<usize>,
    input: Arc<Storage>,
    output: Arc<Storage>,
}

impl Backward for ReduceBackward {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = map_storage2!(self.kind.name(), grad, &*self.input, |g, x| {
            let y = self.output.typed()?;
            reduce_grad(self.kind, &self.axes, g, x, y)?
        });
        grads.add(0, g)
    }
}

fn reduce_grad<T: Element>(
    kind: Reduction,
    axes: &[usize],
    g: &ArrayRefD<T>,
    x: &ArrayRefD<T>,
    y: &ArrayRefD<T>,
) -> Result<ArrayD<T>> {
    let kept = reduced_shape(x.shape(), axes, true);
    let reshape = |a: &ArrayRefD<T>| {
        a.to_shape(IxDyn(&kept))
            .map(|v| v.into_owned())
            .map_err(|e| Error::Autograd(format!("{}: {e}", kind.name())))
    };
    let g = reshape(g)?;
    let g = g
        .broadcast(IxDyn(x.shape()))
        .ok_or_else(|| Error::Autograd(format!("{}: cannot broadcast gradient", kind.name())))?;
    Ok(match kind {
        Reduction::Sum => g.to_owned(),
        Reduction::Mean => {
            let count = axes.iter().map(|&a| x.shape()[a]).product::<usize>();
            let scale = T::one() / T::of(count as f64);
            g.mapv(|v| v * scale)
        }
        Reduction::Max => {
            // The gradient goes to the maxima, split evenly between ties.
            let y = reshape(y)?;
            let y = y
                .broadcast(IxDyn(x.shape()))
                .ok_or_else(|| Error::Autograd("max: cannot broadcast the maxima".to_string()))?;
            let is_max = ndarray::Zip::from(x)
                .and(&y)
                .map_collect(|&v, &m| if v == m { T::one() } else { T::zero() });
            let mut ties = is_max.clone();
            for &axis in axes.iter().rev() {
                ties = ties.sum_axis(Axis(axis));
            }
            let ties = reshape(&ties)?;
            let ties = ties.broadcast(IxDyn(x.shape())).ok_or_else(|| {
                Error::Autograd("max: cannot broadcast the tie counts".to_string())
            })?;
            ndarray::Zip::from(&is_max)
                .and(&g)
                .and(&ties)
                .map_collect(|&m, &g, &t| m * g / t)
        }
    })
}

impl Tensor {
    pub fn sum(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        reduce(Reduction::Sum, self, axes, keepdims)
    }

    pub fn mean(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        reduce(Reduction::Mean, self, axes, keepdims)
    }

    pub fn max(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        reduce(Reduction::Max, self, axes, keepdims)
    }

    /// The sum of all elements as an `f64` (no graph), for metrics and losses.
    pub fn sum_value(&self) -> f64 {
        let data = self.data();
        crate::with_storage!(&*data, a => a.iter().map(|v| v.as_f64()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_values() {
        let x = Tensor::from_array(
            ndarray::arr2(&[[1.0f64, 5.0, 3.0], [4.0, 2.0, 6.0]]).into_dyn(),
            false,
        );
        assert_eq!(x.sum(None, false).unwrap().to_f64_vec(), vec![21.0]);
        assert_eq!(
            x.sum(Some(&[0]), false).unwrap().to_f64_vec(),
            vec![5.0, 7.0, 9.0]
        );
        assert_eq!(x.mean(Some(&[-1]), true).unwrap().shape(), &[2, 1]);
        assert_eq!(
            x.max(Some(&[1]), false).unwrap().to_f64_vec(),
            vec![5.0, 6.0]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for axes in [None, Some(vec![0]), Some(vec![-1]), Some(vec![0, 2])] {
            for keepdims in [false, true] {
                let axes = axes.clone();
                check_gradients(&[randn(&[2, 3, 4], 3)], |t| {
                    t[0].sum(axes.as_deref(), keepdims).unwrap()
                });
                check_gradients(&[randn(&[2, 3, 4], 4)], |t| {
                    t[0].mean(axes.as_deref(), keepdims).unwrap()
                });
                check_gradients(&[randn(&[2, 3, 4], 5)], |t| {
                    t[0].max(axes.as_deref(), keepdims).unwrap()
                });
            }
        }
    }

    #[test]
    fn max_splits_the_gradient_between_ties() {
        let x = Tensor::from_array(ndarray::arr1(&[2.0f64, 2.0, 1.0]).into_dyn(), true);
        x.max(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![0.5, 0.5, 0.0]);
    }
}

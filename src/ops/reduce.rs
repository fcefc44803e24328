//! Reductions over axes: `sum`, `mean`, `max`, `min`, `prod`, and the (untracked) `argmax`
//! and `argmin`.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, Axis, IxDyn};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::shape::{normalize_axes, normalize_axis, reduced_shape};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{map_storage2, try_map_storage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
}

impl Reduction {
    fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Max => "max",
            Reduction::Min => "min",
            Reduction::Prod => "prod",
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
    let extremum = matches!(kind, Reduction::Max | Reduction::Min);
    if extremum && axes.iter().any(|&a| x.shape()[a] == 0) {
        return Err(Error::value(format!(
            "{}: cannot reduce over an empty axis of a tensor of shape {:?}",
            kind.name(),
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
            Reduction::Min => out.fold_axis(Axis(axis), T::infinity(), |m, &v| {
                if v < *m || v.is_nan() { v } else { *m }
            }),
            Reduction::Prod => out.fold_axis(Axis(axis), T::one(), |p, &v| *p * v),
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
        Reduction::Prod => prod_grad(axes, &g, x, &kept)?,
        Reduction::Max | Reduction::Min => {
            // The gradient goes to the extrema, split evenly between ties.
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

/// The gradient of a product: each element receives the product of the others in its lane.
/// Dividing the product by the element would fail at zeros, so lanes are told apart by how
/// many zeros they hold: none (divide), one (only the zero gets the product of the rest), more
/// (all zero).
fn prod_grad<T: Element>(
    axes: &[usize],
    g: &ndarray::ArrayViewD<'_, T>,
    x: &ArrayRefD<T>,
    kept: &[usize],
) -> Result<ArrayD<T>> {
    let mut zeros = x.mapv(|v| if v == T::zero() { T::one() } else { T::zero() });
    let mut nonzero_product = x.mapv(|v| if v == T::zero() { T::one() } else { v });
    for &axis in axes.iter().rev() {
        zeros = zeros.sum_axis(Axis(axis));
        nonzero_product = nonzero_product.fold_axis(Axis(axis), T::one(), |p, &v| *p * v);
    }
    let spread = |a: ArrayD<T>| -> Result<ArrayD<T>> {
        let a = a
            .into_shape_with_order(IxDyn(kept))
            .map_err(|e| Error::Autograd(format!("prod: {e}")))?;
        a.broadcast(IxDyn(x.shape()))
            .map(|v| v.to_owned())
            .ok_or_else(|| Error::Autograd("prod: cannot broadcast the lane products".into()))
    };
    let (zeros, nonzero_product) = (spread(zeros)?, spread(nonzero_product)?);
    let mut out = g.to_owned();
    ndarray::Zip::from(&mut out)
        .and(x)
        .and(&zeros)
        .and(&nonzero_product)
        .for_each(|o, &v, &z, &p| {
            let others = if z == T::zero() {
                p / v
            } else if z == T::one() && v == T::zero() {
                p
            } else {
                T::zero()
            };
            *o *= others;
        });
    Ok(out)
}

/// The position of the largest (or smallest) value along `axis`, or in the flattened tensor
/// when `axis` is None; the first one wins ties and NaN counts as the extreme, as in numpy.
/// Positions are returned as floats in the tensor's dtype, with no graph.
pub fn arg_extremum(
    input: &Tensor,
    axis: Option<isize>,
    keepdims: bool,
    largest: bool,
) -> Result<Tensor> {
    let op = if largest { "argmax" } else { "argmin" };
    let x = input.data();
    let (flat, axis) = match axis {
        Some(a) => (x, normalize_axis(op, a, input.ndim())?),
        None => (Arc::new((*x).clone().into_shape(&[input.numel()])?), 0),
    };
    if flat.shape()[axis] == 0 {
        return Err(Error::value(format!(
            "{op}: cannot take the position of an extremum over an empty axis (shape {:?})",
            input.shape()
        )));
    }
    let out = try_map_storage!(&*flat, a => arg_extremum_array(a, axis, largest));
    let out = Tensor::new(out, false);
    match (keepdims, input.ndim()) {
        (false, _) => Ok(out),
        (true, rank) if flat.ndim() == rank => {
            let mut shape: Vec<isize> = input.shape().iter().map(|&d| d as isize).collect();
            shape[axis] = 1;
            out.reshape(&shape)
        }
        (true, rank) => out.reshape(&vec![1; rank]),
    }
}

fn arg_extremum_array<T: Element>(
    a: &ArrayRefD<T>,
    axis: usize,
    largest: bool,
) -> Result<ArrayD<T>> {
    Ok(a.map_axis(Axis(axis), |lane| {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate() {
            let current = lane[best];
            if current.is_nan() {
                break;
            }
            let better = if largest { v > current } else { v < current };
            if v.is_nan() || better {
                best = i;
            }
        }
        T::of(best as f64)
    }))
}

impl Tensor {
    pub fn min(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        reduce(Reduction::Min, self, axes, keepdims)
    }

    pub fn prod(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
        reduce(Reduction::Prod, self, axes, keepdims)
    }

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
    fn min_and_prod_gradients_match_finite_differences() {
        for axes in [None, Some(vec![1]), Some(vec![-1, 0])] {
            let axes = axes.clone();
            check_gradients(&[randn(&[2, 3, 4], 6)], |t| {
                t[0].min(axes.as_deref(), false).unwrap()
            });
            check_gradients(&[randn(&[2, 3, 4], 7)], |t| {
                t[0].prod(axes.as_deref(), true).unwrap()
            });
        }
    }

    #[test]
    fn prod_gradient_at_zeros() {
        let x = Tensor::from_array(
            ndarray::arr2(&[[2.0f64, 0.0, 3.0], [0.0, 0.0, 5.0]]).into_dyn(),
            true,
        );
        x.prod(Some(&[1]), false)
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        assert_eq!(
            x.grad().unwrap().to_f64_vec(),
            vec![0.0, 6.0, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        let x = Tensor::from_array(
            ndarray::arr2(&[[1.0f64, 5.0, 5.0], [7.0, 2.0, 0.0]]).into_dyn(),
            false,
        );
        assert_eq!(
            arg_extremum(&x, Some(1), false, true).unwrap().to_f64_vec(),
            vec![1.0, 0.0]
        );
        assert_eq!(
            arg_extremum(&x, Some(-1), true, false).unwrap().shape(),
            &[2, 1]
        );
        assert_eq!(
            arg_extremum(&x, None, false, true).unwrap().to_f64_vec(),
            vec![3.0]
        );
    }

    #[test]
    fn max_splits_the_gradient_between_ties() {
        let x = Tensor::from_array(ndarray::arr1(&[2.0f64, 2.0, 1.0]).into_dyn(), true);
        x.max(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![0.5, 0.5, 0.0]);
    }
}

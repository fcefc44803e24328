//! `softmax` and `log_softmax` along one axis, shifted by the maximum so that logits of any size
//! give finite results.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, Axis, Zip};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::Result;
use crate::shape::normalize_axis;
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{map_storage, map_storage2};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Softmax,
    LogSoftmax,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Softmax => "softmax",
            Kind::LogSoftmax => "log_softmax",
        }
    }
}

/// Softmax of every lane along `axis`, in place.
pub fn softmax_in_place<T: Element>(a: &mut ArrayRefD<T>, axis: usize) {
    for mut lane in a.lanes_mut(Axis(axis)) {
        let max = lane.fold(T::neg_infinity(), |m, &v| m.max(v));
        let mut total = T::zero();
        lane.mapv_inplace(|v| {
            let e = (v - max).exp();
            total += e;
            e
        });
        let scale = T::one() / total;
        lane.mapv_inplace(|v| v * scale);
    }
}

/// Log-softmax of every lane along `axis`, in place.
pub fn log_softmax_in_place<T: Element>(a: &mut ArrayRefD<T>, axis: usize) {
    for mut lane in a.lanes_mut(Axis(axis)) {
        let max = lane.fold(T::neg_infinity(), |m, &v| m.max(v));
        let total = lane.fold(T::zero(), |s, &v| s + (v - max).exp());
        // (v - max) - ln(total), not v - (max + ln(total)): adding ln(total) to a large max
        // rounds it away (at 1e4 a float32 keeps only three decimals).
        let log_total = total.ln();
        lane.mapv_inplace(|v| (v - max) - log_total);
    }
}

fn softmax_op(kind: Kind, input: &Tensor, axis: isize) -> Result<Tensor> {
    let x = input.data();
    let axis = normalize_axis(kind.name(), axis, x.ndim())?;
    let out = map_storage!(&*x, a => {
        let mut out = a.to_owned();
        match kind {
            Kind::Softmax => softmax_in_place(&mut out, axis),
            Kind::LogSoftmax => log_softmax_in_place(&mut out, axis),
        }
        out
    });
    Ok(record(out, &[input], |output| SoftmaxBackward {
        kind,
        axis,
        output: output.clone(),
    }))
}

struct SoftmaxBackward {
    kind: Kind,
    axis: usize,
    output: Arc<Storage>,
}

impl Backward for SoftmaxBackward {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = map_storage2!(self.kind.name(), grad, &*self.output, |g, y| softmax_grad(
            self.kind, self.axis, g, y
        ));
        grads.add(0, g)
    }
}

fn softmax_grad<T: Element>(
    kind: Kind,
    axis: usize,
    g: &ArrayRefD<T>,
    y: &ArrayRefD<T>,
) -> ArrayD<T> {
    let mut out = g.to_owned();
    for (mut o, y) in out
        .lanes_mut(Axis(axis))
        .into_iter()
        .zip(y.lanes(Axis(axis)))
    {
        match kind {
            // dx = y * (g - sum(g * y))
            Kind::Softmax => {
                let dot = Zip::from(&o).and(&y).fold(T::zero(), |s, &g, &y| s + g * y);
                Zip::from(&mut o)
                    .and(&y)
                    .for_each(|o, &y| *o = y * (*o - dot));
            }
            // dx = g - softmax * sum(g), with softmax = exp(log_softmax)
            Kind::LogSoftmax => {
                let total = o.sum();
                Zip::from(&mut o)
                    .and(&y)
                    .for_each(|o, &y| *o -= y.exp() * total);
            }
        }
    }
    out
}

impl Tensor {
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        softmax_op(Kind::Softmax, self, axis)
    }

    pub fn log_softmax(&self, axis: isize) -> Result<Tensor> {
        softmax_op(Kind::LogSoftmax, self, axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn rows_sum_to_one_and_extremes_stay_finite() {
        let x = Tensor::from_array(ndarray::arr2(&[[1e4f32, -1e4, 0.0]]).into_dyn(), false);
        let p = x.softmax(-1).unwrap().to_f64_vec();
        assert_eq!(p, vec![1.0, 0.0, 0.0]);
        let lp = x.log_softmax(-1).unwrap().to_f64_vec();
        assert!(lp.iter().all(|v| v.is_finite()), "{lp:?}");
        assert_eq!(lp[0], 0.0);
    }

    #[test]
    fn log_softmax_keeps_its_precision_for_large_logits() {
        let x = Tensor::from_array(ndarray::arr1(&[-1e4f32, -1e4, -1e4]).into_dyn(), false);
        let expected = -(3.0f32.ln());
        for v in x.log_softmax(0).unwrap().to_f64_vec() {
            assert_eq!(v as f32, expected);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        for axis in [0, 1, -1] {
            check_gradients(&[randn(&[3, 4, 2], 1)], |t| t[0].softmax(axis).unwrap());
            check_gradients(&[randn(&[3, 4, 2], 2)], |t| t[0].log_softmax(axis).unwrap());
        }
    }
}

//! Running totals along an axis: `cumsum`.
//!
//! The gradient of a running sum is the running sum of the gradient taken from the other end:
//! element `i` contributes to outputs `i..n`.

use ndarray::{ArrayD, ArrayRefD, Axis};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::Result;
use crate::map_storage;
use crate::shape::normalize_axis;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The running sum of `input` along `axis` (`None`: over the flattened tensor, as numpy).
pub fn cumsum(input: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    let (input, axis) = match axis {
        Some(a) => (input.clone(), normalize_axis("cumsum", a, input.ndim())?),
        None => (input.reshape(&[-1])?, 0),
    };
    let x = input.data();
    let out = map_storage!(&*x, a => running_sum(a, axis, false));
    Ok(record(out, &[&input], |_| CumsumBackward { axis }))
}

fn running_sum<T: Element>(a: &ArrayRefD<T>, axis: usize, reversed: bool) -> ArrayD<T> {
    let mut out = a.to_owned();
    for mut lane in out.lanes_mut(Axis(axis)) {
        let mut total = T::zero();
        let n = lane.len();
        for k in 0..n {
            let i = if reversed { n - 1 - k } else { k };
            total += lane[i];
            lane[i] = total;
        }
    }
    out
}

struct CumsumBackward {
    axis: usize,
}

impl Backward for CumsumBackward {
    fn name(&self) -> &'static str {
        "cumsum"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = map_storage!(grad, g => running_sum(g, self.axis, true));
        grads.add(0, g)
    }
}

impl Tensor {
    pub fn cumsum(&self, axis: Option<isize>) -> Result<Tensor> {
        cumsum(self, axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_values() {
        let x = Tensor::from_array(
            ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]).into_dyn(),
            false,
        );
        assert_eq!(
            x.cumsum(Some(0)).unwrap().to_f64_vec(),
            vec![1.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(
            x.cumsum(Some(-1)).unwrap().to_f64_vec(),
            vec![1.0, 3.0, 3.0, 7.0]
        );
        assert_eq!(
            x.cumsum(None).unwrap().to_f64_vec(),
            vec![1.0, 3.0, 6.0, 10.0]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for axis in [Some(0), Some(1), Some(-1), None] {
            check_gradients(&[randn(&[3, 4], 11)], |t| t[0].cumsum(axis).unwrap());
        }
    }
}

//! L1/L2 weight penalties, added to the training loss as in Keras:
//! `l1 * sum(|w|) + l2 * sum(w^2)`, computed as one fused op.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::map_storage;
use crate::storage::Storage;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regularizer {
    #[serde(default)]
    pub l1: f64,
    #[serde(default)]
    pub l2: f64,
}

impl Regularizer {
    pub fn new(l1: f64, l2: f64) -> Result<Regularizer> {
        if !(l1.is_finite() && l2.is_finite() && l1 >= 0.0 && l2 >= 0.0) {
            return Err(Error::value(format!(
                "regularizer factors must be finite and non-negative, received l1={l1}, l2={l2}"
            )));
        }
        Ok(Regularizer { l1, l2 })
    }

    /// The penalty of `w`, a scalar tensor differentiable in `w`.
    pub fn penalty(&self, w: &Tensor) -> Result<Tensor> {
        let (l1, l2) = (self.l1, self.l2);
        let data = w.data();
        let value = crate::with_storage!(&*data, a => a.iter().fold(0.0f64, |s, &v| {
            let v = v.as_f64();
            s + l1 * v.abs() + l2 * v * v
        }));
        let out = Storage::scalar(w.dtype(), value);
        Ok(record(out, &[w], |_| PenaltyBackward {
            weight: data,
            l1,
            l2,
        }))
    }
}

/// The sum of the penalties of the regularized weights, if any, in the order given.
pub fn total_penalty(terms: &[(Option<Regularizer>, Option<&Tensor>)]) -> Result<Option<Tensor>> {
    let mut total: Option<Tensor> = None;
    for (regularizer, weight) in terms {
        if let (Some(r), Some(w)) = (regularizer, weight) {
            let penalty = r.penalty(w)?;
            total = Some(match total {
                Some(t) => t.add(&penalty)?,
                None => penalty,
            });
        }
    }
    Ok(total)
}

struct PenaltyBackward {
    weight: Arc<Storage>,
    l1: f64,
    l2: f64,
}

impl Backward for PenaltyBackward {
    fn name(&self) -> &'static str {
        "regularization"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let scale = grad.item()?;
        let (l1, l2) = (self.l1 * scale, 2.0 * self.l2 * scale);
        let g = map_storage!(&*self.weight, w => w.mapv(|v| {
            let sign = if v > Element::of(0.0) { 1.0 } else if v < Element::of(0.0) { -1.0 } else { 0.0 };
            Element::of(l1 * sign + l2 * v.as_f64())
        }));
        grads.add(0, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn penalty_value_and_gradient() {
        let w = Tensor::from_array(ndarray::arr1(&[1.0f64, -2.0, 0.5]).into_dyn(), true);
        let r = Regularizer::new(0.1, 0.01).unwrap();
        let p = r.penalty(&w).unwrap();
        assert!((p.item().unwrap() - (0.1 * 3.5 + 0.01 * 5.25)).abs() < 1e-12);
        check_gradients(&[randn(&[3, 4], 1)], |t| r.penalty(&t[0]).unwrap());
        assert!(Regularizer::new(-1.0, 0.0).is_err());
    }
}

//! `masked_mean_over_time`: the mean of a sequence's steps, counting only the steps a mask keeps
//! (what `GlobalAveragePooling1D` computes after a masking `Embedding`).

use ndarray::{Array2, ArrayD, ArrayRefD};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::{Storage, array_from_vec};
use crate::tensor::Tensor;

/// Where the time axis of a 3-D sequence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeAxis {
    /// `(batch, time, features)`, Keras's "channels_last".
    BeforeFeatures,
    /// `(batch, features, time)`, Keras's "channels_first".
    AfterFeatures,
}

#[derive(Clone, Copy, Debug)]
struct Layout {
    batch: usize,
    steps: usize,
    features: usize,
    axis: TimeAxis,
}

impl Layout {
    fn offset(&self, b: usize, t: usize, f: usize) -> usize {
        match self.axis {
            TimeAxis::BeforeFeatures => (b * self.steps + t) * self.features + f,
            TimeAxis::AfterFeatures => (b * self.features + f) * self.steps + t,
        }
    }
}

/// The mean over the time axis, `(batch, features)`. With a `(batch, time)` mask only the kept
/// steps count; a sample with no kept step gives zeros (not Keras's 0/0 = NaN).
pub fn masked_mean_over_time(
    x: &Tensor,
    mask: Option<&Array2<bool>>,
    axis: TimeAxis,
) -> Result<Tensor> {
    let layout = match (x.shape(), axis) {
        (&[batch, steps, features], TimeAxis::BeforeFeatures)
        | (&[batch, features, steps], TimeAxis::AfterFeatures) => Layout {
            batch,
            steps,
            features,
            axis,
        },
        (other, _) => {
            return Err(Error::shape(
                "GlobalAveragePooling1D",
                format!("expected a 3-D input, received shape {other:?}"),
            ));
        }
    };
    if let Some(m) = mask
        && m.shape() != [layout.batch, layout.steps]
    {
        return Err(Error::shape(
            "GlobalAveragePooling1D",
            format!(
                "the mask must be (batch, time) = ({}, {}), received {:?}",
                layout.batch,
                layout.steps,
                m.shape()
            ),
        ));
    }
    // The weight of each (sample, step): 1 / kept steps, or 0 for a dropped step.
    let mut weights = vec![0.0; layout.batch * layout.steps];
    for b in 0..layout.batch {
        let kept = |t: usize| mask.is_none_or(|m| m[[b, t]]);
        let count = (0..layout.steps).filter(|&t| kept(t)).count();
        for t in (0..layout.steps).filter(|&t| kept(t)) {
            weights[b * layout.steps + t] = 1.0 / count as f64;
        }
    }
    let data = x.data();
    let out = match &*data {
        Storage::F32(a) => Storage::F32(forward(a, &weights, layout)?.into()),
        Storage::F64(a) => Storage::F64(forward(a, &weights, layout)?.into()),
    };
    Ok(record(out, &[x], |_| MaskedMeanBackward {
        weights,
        layout,
    }))
}

fn forward<T: Element>(x: &ArrayRefD<T>, weights: &[f64], layout: Layout) -> Result<ArrayD<T>> {
    let x = x
        .as_slice()
        .ok_or_else(|| Error::value("GlobalAveragePooling1D: input is not contiguous"))?;
    let mut out = vec![T::zero(); layout.batch * layout.features];
    for b in 0..layout.batch {
        for t in 0..layout.steps {
            let w = T::of(weights[b * layout.steps + t]);
            if w == T::zero() {
                continue;
            }
            for f in 0..layout.features {
                out[b * layout.features + f] += w * x[layout.offset(b, t, f)];
            }
        }
    }
    array_from_vec(&[layout.batch, layout.features], out)
}

struct MaskedMeanBackward {
    weights: Vec<f64>,
    layout: Layout,
}

impl Backward for MaskedMeanBackward {
    fn name(&self) -> &'static str {
        "global_average_pooling1d"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = match grad {
            Storage::F32(g) => Storage::F32(self.spread(g)?.into()),
            Storage::F64(g) => Storage::F64(self.spread(g)?.into()),
        };
        grads.add(0, g)
    }
}

impl MaskedMeanBackward {
    fn spread<T: Element>(&self, grad: &ArrayRefD<T>) -> Result<ArrayD<T>> {
        let grad = grad
            .as_slice()
            .ok_or_else(|| Error::value("GlobalAveragePooling1D: gradient is not contiguous"))?;
        let l = self.layout;
        let mut dx = vec![T::zero(); l.batch * l.steps * l.features];
        for b in 0..l.batch {
            for t in 0..l.steps {
                let w = T::of(self.weights[b * l.steps + t]);
                for f in 0..l.features {
                    dx[l.offset(b, t, f)] = w * grad[b * l.features + f];
                }
            }
        }
        let shape = match l.axis {
            TimeAxis::BeforeFeatures => [l.batch, l.steps, l.features],
            TimeAxis::AfterFeatures => [l.batch, l.features, l.steps],
        };
        array_from_vec(&shape, dx)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn averages_only_the_kept_steps() {
        let x = randn(&[2, 3, 2], 1);
        let v = x.to_f64_vec();
        let mask = array![[true, false, true], [false, false, false]];
        let out = masked_mean_over_time(&x, Some(&mask), TimeAxis::BeforeFeatures)
            .unwrap()
            .to_f64_vec();
        assert!((out[0] - (v[0] + v[4]) / 2.0).abs() < 1e-15);
        assert_eq!(&out[2..], &[0.0, 0.0]);
        let plain = masked_mean_over_time(&x, None, TimeAxis::BeforeFeatures).unwrap();
        let reference = x.mean(Some(&[1]), false).unwrap().to_f64_vec();
        for (a, b) in plain.to_f64_vec().iter().zip(&reference) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mask = array![[true, false, true, true], [false, true, true, false]];
        for axis in [TimeAxis::BeforeFeatures, TimeAxis::AfterFeatures] {
            let shape = match axis {
                TimeAxis::BeforeFeatures => [2, 4, 3],
                TimeAxis::AfterFeatures => [2, 3, 4],
            };
            check_gradients(&[randn(&shape, 2)], |t| {
                masked_mean_over_time(&t[0], Some(&mask), axis).unwrap()
            });
        }
    }
}

//! Differentiable operations, one file per family. Each file holds the forward kernel, the
//! backward rule beside it, the `Tensor` methods that expose them, and their tests.

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod binary;
pub mod compare;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod image_warp;
pub mod in_place;
pub mod index;
pub mod join;
pub mod layout;
pub mod linear;
pub mod masked_mean;
pub mod matmul;
pub mod recurrent;
pub mod reduce;
pub mod scan;
pub mod softmax;
pub mod statistics;
pub mod unary;

use ndarray::{ArrayD, ArrayRefD, Axis, IxDyn, Zip};

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::shape::broadcast_reduction_axes;
use crate::storage::try_zeros;

/// Sums a gradient computed at a broadcast shape back down to the shape of the operand that was
/// broadcast (the adjoint of broadcasting).
pub(crate) fn sum_to_shape<T: Element>(grad: ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>> {
    if grad.shape() == shape {
        return Ok(grad);
    }
    let mut reduced = grad;
    for axis in broadcast_reduction_axes(shape, reduced.shape())
        .into_iter()
        .rev()
    {
        reduced = reduced.sum_axis(Axis(axis));
    }
    reduced
        .into_shape_with_order(IxDyn(shape))
        .map_err(|e| Error::Autograd(format!("internal error reducing a gradient: {e}")))
}

/// `f(a, b)` elementwise at the broadcast `shape` of `a` and `b`.
pub(crate) fn broadcast_map2<T: Element>(
    a: &ArrayRefD<T>,
    b: &ArrayRefD<T>,
    shape: &[usize],
    f: impl Fn(T, T) -> T + Sync,
) -> Result<ArrayD<T>> {
    if a.shape() == shape && b.shape() == shape {
        let mut out = a.to_owned();
        crate::kernels::elementwise::zip_in_place(&mut out, b, f);
        return Ok(out);
    }
    let mut out = try_zeros::<T>(shape)?;
    let (a, b) = (broadcast_view(a, shape)?, broadcast_view(b, shape)?);
    Zip::from(&mut out)
        .and(&a)
        .and(&b)
        .for_each(|o, &x, &y| *o = f(x, y));
    Ok(out)
}

/// `f(g, a, b)` elementwise, where `g` has the broadcast `shape` of `a` and `b` (the form of
/// every binary op's backward rule).
pub(crate) fn broadcast_map3<T: Element>(
    g: &ArrayRefD<T>,
    a: &ArrayRefD<T>,
    b: &ArrayRefD<T>,
    f: impl Fn(T, T, T) -> T,
) -> Result<ArrayD<T>> {
    let shape = g.shape().to_vec();
    let mut out = try_zeros::<T>(&shape)?;
    let (a, b) = (broadcast_view(a, &shape)?, broadcast_view(b, &shape)?);
    Zip::from(&mut out)
        .and(g)
        .and(&a)
        .and(&b)
        .for_each(|o, &g, &x, &y| *o = f(g, x, y));
    Ok(out)
}

fn broadcast_view<'a, T: Element>(
    a: &'a ArrayRefD<T>,
    shape: &[usize],
) -> Result<ndarray::ArrayViewD<'a, T>> {
    a.broadcast(IxDyn(shape))
        .ok_or_else(|| Error::ShapeMismatch {
            op: "broadcast",
            lhs: a.shape().to_vec(),
            rhs: shape.to_vec(),
            reason: "cannot be broadcast together",
        })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Finite-difference gradient checks for the core's unit tests (float64, central
    //! differences).

    use crate::storage::Storage;
    use crate::tensor::Tensor;

    /// Checks the gradient of `sum(f(inputs) * weights)` with respect to every input against
    /// central differences, where `weights` is a fixed pseudo-random tensor (so that the check
    /// sees every output element with a different weight).
    pub fn check_gradients(inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Tensor) {
        let out = f(inputs);
        let weights: Vec<f64> = (0..out.numel())
            .map(|i| ((i * 7919) % 17) as f64 / 17.0 - 0.4)
            .collect();
        let weight_tensor = Tensor::new(
            Storage::from_f64_vec(out.dtype(), out.shape(), weights).unwrap(),
            false,
        );
        let objective = |ts: &[Tensor]| -> f64 {
            let y = f(ts);
            y.to_f64_vec()
                .iter()
                .zip(weight_tensor.to_f64_vec())
                .map(|(a, b)| a * b)
                .sum()
        };
        for t in inputs {
            t.set_grad(None).unwrap();
        }
        let loss = out.mul(&weight_tensor).unwrap().sum(None, false).unwrap();
        loss.backward(None, false).unwrap();

        let eps = 1e-6;
        for (which, input) in inputs.iter().enumerate() {
            if !input.requires_grad() {
                continue;
            }
            let analytic = input
                .grad()
                .expect("input received no gradient")
                .to_f64_vec();
            let base = input.to_f64_vec();
            for i in 0..base.len() {
                let probe = |delta: f64| {
                    let mut values = base.clone();
                    values[i] += delta;
                    let moved = Tensor::new(
                        Storage::from_f64_vec(input.dtype(), input.shape(), values).unwrap(),
                        false,
                    );
                    let mut args = inputs.to_vec();
                    args[which] = moved;
                    objective(&args)
                };
                let numeric = (probe(eps) - probe(-eps)) / (2.0 * eps);
                let tolerance = 1e-6 * numeric.abs().max(analytic[i].abs()) + 1e-8 * 100.0;
                assert!(
                    (numeric - analytic[i]).abs() <= tolerance,
                    "input {which}, element {i}: numeric {numeric} vs analytic {}",
                    analytic[i]
                );
            }
        }
    }

    pub fn randn(shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        // A small deterministic generator keeps these tests independent of the global RNG.
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let values = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect();
        Tensor::new(
            Storage::from_f64_vec(crate::dtype::DType::F64, shape, values).unwrap(),
            true,
        )
    }
}

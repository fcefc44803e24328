//! The fused dense op: `activation(x @ kernel + bias)` as one node of the graph.
//!
//! Fusing matters for speed: the bias and the activation are applied in the same pass over the
//! GEMM's output, the backward pass computes `dz` once and writes the kernel and bias gradients
//! straight into their `.grad` buffers, and relu/sigmoid/tanh derivatives come from the output so
//! the pre-activation values need not be kept.
//!
//! `x` may have any rank: its last axis meets the kernel's first, as in Keras's `Dense`.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD};

use super::activation::Activation;
use super::softmax::softmax_in_place;
use super::unary::{grad_from_output, unary_in_place};
use crate::autograd::{Accumulate, Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::elementwise::column_sums;
use crate::kernels::gemm::{MatMut, MatRef, gemm};
use crate::kernels::packed::{Panels, gemm_with_panels};
use crate::kernels::par_chunks_mut;
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;

pub fn linear(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    linear_with_panels(x, kernel, bias, activation, None)
}

/// `linear`, with the kernel already packed for the GEMM (`predict` packs each kernel once for
/// all its batches). `panels` must be the packing of `kernel`'s current data.
pub fn linear_with_panels(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
    panels: Option<&Panels>,
) -> Result<Tensor> {
    let (in_features, units) = match kernel.shape() {
        &[i, u] => (i, u),
        other => {
            return Err(Error::shape(
                "dense",
                format!("the kernel must be 2-D (in_features, units), received {other:?}"),
            ));
        }
    };
    if x.shape().last() != Some(&in_features) {
        return Err(Error::ShapeMismatch {
            op: "dense",
            lhs: x.shape().to_vec(),
            rhs: kernel.shape().to_vec(),
            reason: "do not fit: the input's last dimension must equal the kernel's first",
        });
    }
    if let Some(b) = bias
        && b.shape() != [units]
    {
        return Err(Error::ShapeMismatch {
            op: "dense",
            lhs: kernel.shape().to_vec(),
            rhs: b.shape().to_vec(),
            reason: "do not fit: the bias must have one value per unit",
        });
    }
    for t in [Some(kernel), bias].into_iter().flatten() {
        if t.dtype() != x.dtype() {
            return Err(Error::DTypeMismatch {
                op: "dense",
                expected: x.dtype(),
                received: t.dtype(),
            });
        }
    }
    let out_shape = output_shape(x.shape(), units);

    let x_data = x.data();
    let kernel_data = kernel.data();
    let bias_data = bias.map(Tensor::data);
    let keep_pre_activation = match activation {
        Activation::Elementwise(f) => f.derivative_needs_input(),
        _ => false,
    };
    let pre_activation;
    let out = match (&*x_data, &*kernel_data) {
        (Storage::F32(xa), Storage::F32(wa)) => {
            let b = bias_data
                .as_deref()
                .map(Storage::typed::<f32>)
                .transpose()?;
            let (out, z) = forward(
                xa,
                wa,
                b,
                panels,
                activation,
                &out_shape,
                keep_pre_activation,
            )?;
            pre_activation = z.map(|z| Arc::new(Storage::F32(z.into())));
            Storage::F32(out.into())
        }
        (Storage::F64(xa), Storage::F64(wa)) => {
            let b = bias_data
                .as_deref()
                .map(Storage::typed::<f64>)
                .transpose()?;
            let (out, z) = forward(
                xa,
                wa,
                b,
                panels,
                activation,
                &out_shape,
                keep_pre_activation,
            )?;
            pre_activation = z.map(|z| Arc::new(Storage::F64(z.into())));
            Storage::F64(out.into())
        }
        (a, b) => {
            return Err(Error::DTypeMismatch {
                op: "dense",
                expected: a.dtype(),
                received: b.dtype(),
            });
        }
    };
    let inputs: Vec<&Tensor> = [Some(x), Some(kernel), bias]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(out, &inputs, |output| LinearBackward {
        x: x_data,
        kernel: kernel_data,
        pre_activation,
        output: output.clone(),
        activation,
        in_features,
        units,
    }))
}

/// Returns the output and, when asked, the pre-activation values.
fn forward<T: Element>(
    x: &ArrayRefD<T>,
    kernel: &ArrayRefD<T>,
    bias: Option<&ArrayRefD<T>>,
    panels: Option<&Panels>,
    activation: Activation,
    out_shape: &[usize],
    keep_pre_activation: bool,
) -> Result<(ArrayD<T>, Option<ArrayD<T>>)> {
    let (in_features, units) = (kernel.shape()[0], kernel.shape()[1]);
    // From the shape, not `x.len() / in_features`, which says nothing when in_features is 0.
    let rows: usize = out_shape[..out_shape.len() - 1].iter().product();
    let mut out = try_zeros::<T>(out_shape)?;
    let x_slice = contiguous(x)?;
    let out_slice = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("dense: output is not contiguous"))?;
    gemm_with_panels(
        MatRef::row_major(x_slice, rows, in_features),
        MatRef::row_major(contiguous(kernel)?, in_features, units),
        panels,
        T::zero(),
        MatMut::row_major(out_slice, rows, units),
    );
    if let Some(b) = bias {
        let b = contiguous(b)?;
        for row in out_slice.chunks_exact_mut(units.max(1)) {
            for (v, &bias) in row.iter_mut().zip(b) {
                *v += bias;
            }
        }
    }
    let pre_activation = keep_pre_activation.then(|| out.clone());
    match activation {
        Activation::Linear => {}
        Activation::Softmax => {
            let last = out.ndim() - 1;
            softmax_in_place(&mut out, last);
        }
        Activation::Elementwise(f) => apply_elementwise(&mut out, f),
    }
    Ok((out, pre_activation))
}

/// Applies `f` in place, in parallel chunks, each a tight loop (`unary_in_place`).
fn apply_elementwise<T: Element>(out: &mut ArrayRefD<T>, f: super::unary::UnaryFn) {
    match out.as_slice_mut() {
        Some(values) => par_chunks_mut(values, |_, chunk| unary_in_place(chunk, f)),
        None => out.mapv_inplace(|v| f.f(v)),
    }
}

fn contiguous<T: Element>(a: &ArrayRefD<T>) -> Result<&[T]> {
    a.as_slice()
        .ok_or_else(|| Error::value("dense: operand is not contiguous"))
}

struct LinearBackward {
    x: Arc<Storage>,
    kernel: Arc<Storage>,
    pre_activation: Option<Arc<Storage>>,
    output: Arc<Storage>,
    activation: Activation,
    in_features: usize,
    units: usize,
}

impl Backward for LinearBackward {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        match grad {
            Storage::F32(g) => self.backward_typed::<f32>(g, grads),
            Storage::F64(g) => self.backward_typed::<f64>(g, grads),
        }
    }
}

impl LinearBackward {
    fn backward_typed<T: Element>(&self, g: &ArrayRefD<T>, grads: &mut GradSink<'_>) -> Result<()> {
        let (in_features, units) = (self.in_features, self.units);
        let rows: usize = g.shape()[..g.ndim() - 1].iter().product();
        let y = self.output.typed::<T>()?;
        let pre_activation = self
            .pre_activation
            .as_deref()
            .map(Storage::typed::<T>)
            .transpose()?;
        // dz: the gradient at the pre-activation values (the incoming gradient itself when linear).
        let owned_dz;
        let dz: &[T] = match self.activation {
            Activation::Linear => contiguous(g)?,
            Activation::Softmax => {
                let mut d = contiguous(g)?.to_vec();
                let ys = contiguous(y)?;
                for (d_row, y_row) in d.chunks_exact_mut(units).zip(ys.chunks_exact(units)) {
                    let dot: T = d_row.iter().zip(y_row).map(|(&a, &b)| a * b).sum();
                    for (d, &y) in d_row.iter_mut().zip(y_row) {
                        *d = y * (*d - dot);
                    }
                }
                owned_dz = d;
                &owned_dz
            }
            Activation::Elementwise(f) => {
                let (gs, ys) = (contiguous(g)?, contiguous(y)?);
                let d = match pre_activation {
                    Some(z) => {
                        let mut d = gs.to_vec();
                        for ((d, &y), &z) in d.iter_mut().zip(ys).zip(contiguous(z)?) {
                            *d *= f.df(z, y);
                        }
                        d
                    }
                    None => grad_from_output(f, gs, ys),
                };
                owned_dz = d;
                &owned_dz
            }
        };
        let dz_matrix = MatRef::row_major(dz, rows, units);
        let x = contiguous(self.x.typed::<T>()?)?;
        let kernel = contiguous(self.kernel.typed::<T>()?)?;

        // Kernel: dW (+)= x^T @ dz, straight into the kernel's gradient.
        grads.add_with(1, |dest, accumulate| {
            let dest = slice_mut(dest.typed_mut::<T>()?)?;
            gemm(
                T::one(),
                MatRef::row_major(x, rows, in_features).t(),
                dz_matrix,
                beta(accumulate),
                MatMut::row_major(dest, in_features, units),
            );
            Ok(())
        })?;
        // Bias: column sums of dz.
        if grads.wants(2) {
            grads.add_with(2, |dest, accumulate| {
                let dest = slice_mut(dest.typed_mut::<T>()?)?;
                column_sums(dz, dest, accumulate == Accumulate::Add);
                Ok(())
            })?;
        }
        // Input: dx (+)= dz @ W^T.
        grads.add_with(0, |dest, accumulate| {
            let dest = slice_mut(dest.typed_mut::<T>()?)?;
            gemm(
                T::one(),
                dz_matrix,
                MatRef::row_major(kernel, in_features, units).t(),
                beta(accumulate),
                MatMut::row_major(dest, rows, in_features),
            );
            Ok(())
        })
    }
}

fn beta<T: Element>(accumulate: Accumulate) -> T {
    match accumulate {
        Accumulate::Overwrite => T::zero(),
        Accumulate::Add => T::one(),
    }
}

fn slice_mut<T: Element>(a: &mut ArrayRefD<T>) -> Result<&mut [T]> {
    a.as_slice_mut()
        .ok_or_else(|| Error::value("dense: buffer is not contiguous"))
}

/// The shape of `x` with its last axis replaced by `units`.
pub fn output_shape(x: &[usize], units: usize) -> Vec<usize> {
    let mut shape = x.to_vec();
    if let Some(last) = shape.last_mut() {
        *last = units;
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};
    use crate::ops::unary::UnaryFn;

    fn composed(x: &Tensor, w: &Tensor, b: &Tensor, activation: Activation) -> Tensor {
        activation
            .apply(&x.matmul(w).unwrap().add(b).unwrap())
            .unwrap()
    }

    #[test]
    fn equals_the_composed_ops() {
        let (x, w, b) = (randn(&[5, 4], 1), randn(&[4, 3], 2), randn(&[3], 3));
        for activation in [
            Activation::Linear,
            Activation::Softmax,
            Activation::Elementwise(UnaryFn::Relu),
            Activation::Elementwise(UnaryFn::Gelu),
        ] {
            let fused = linear(&x, &w, Some(&b), activation).unwrap().to_f64_vec();
            let reference = composed(&x, &w, &b, activation).to_f64_vec();
            for (a, r) in fused.iter().zip(&reference) {
                assert!((a - r).abs() < 1e-12, "{activation:?}: {a} vs {r}");
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        for activation in [
            Activation::Linear,
            Activation::Softmax,
            Activation::Elementwise(UnaryFn::Relu),
            Activation::Elementwise(UnaryFn::Sigmoid),
            Activation::Elementwise(UnaryFn::Tanh),
            Activation::Elementwise(UnaryFn::Elu { alpha: 1.0 }),
            Activation::Elementwise(UnaryFn::Gelu),
            Activation::Elementwise(UnaryFn::Softplus),
        ] {
            check_gradients(
                &[randn(&[2, 3, 4], 4), randn(&[4, 3], 5), randn(&[3], 6)],
                |t| linear(&t[0], &t[1], Some(&t[2]), activation).unwrap(),
            );
        }
        check_gradients(&[randn(&[3, 4], 7), randn(&[4, 2], 8)], |t| {
            linear(&t[0], &t[1], None, Activation::Linear).unwrap()
        });
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let err = linear(
            &randn(&[2, 5], 1),
            &randn(&[4, 3], 2),
            None,
            Activation::Linear,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("[2, 5]") && err.contains("[4, 3]"), "{err}");
        assert!(
            linear(
                &randn(&[2, 4], 1),
                &randn(&[4, 3], 2),
                Some(&randn(&[2], 3)),
                Activation::Linear
            )
            .is_err()
        );
    }
}

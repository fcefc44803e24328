//! Matrix products with numpy's `matmul` semantics: 2-D, batched with broadcast batch
//! dimensions, and 1-D operands promoted to a row or a column and squeezed back.
//!
//! Gradients are GEMMs over transposed views (never materialised transposes) written straight
//! into the destination gradient buffer.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD};

use crate::autograd::{Accumulate, Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::gemm::{MatMut, MatRef, gemm};
use crate::map_storage2;
use crate::shape::broadcast_shapes;
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;

/// The shapes of one product, resolved once and kept for the backward pass.
#[derive(Clone, Debug)]
struct MatmulPlan {
    m: usize,
    k: usize,
    n: usize,
    batch: Vec<usize>,
    lhs_batch: Vec<usize>,
    rhs_batch: Vec<usize>,
    out_shape: Vec<usize>,
}

impl MatmulPlan {
    fn new(lhs: &[usize], rhs: &[usize]) -> Result<MatmulPlan> {
        if lhs.is_empty() || rhs.is_empty() {
            return Err(Error::shape(
                "matmul",
                format!(
                    "operands must have at least one dimension, received shapes {lhs:?} and \
                     {rhs:?}; use * to multiply by a scalar"
                ),
            ));
        }
        // 1-D operands become a row (lhs) or a column (rhs), removed again from the output.
        let (lhs_m, lhs_k, lhs_batch) = match lhs.len() {
            1 => (1, lhs[0], vec![]),
            r => (lhs[r - 2], lhs[r - 1], lhs[..r - 2].to_vec()),
        };
        let (rhs_k, rhs_n, rhs_batch) = match rhs.len() {
            1 => (rhs[0], 1, vec![]),
            r => (rhs[r - 2], rhs[r - 1], rhs[..r - 2].to_vec()),
        };
        if lhs_k != rhs_k {
            return Err(Error::ShapeMismatch {
                op: "matmul",
                lhs: lhs.to_vec(),
                rhs: rhs.to_vec(),
                reason: "are not aligned: the last dimension of the first must equal the \
                         second-to-last of the second",
            });
        }
        let batch = broadcast_shapes("matmul", &lhs_batch, &rhs_batch)?;
        let mut out_shape = batch.clone();
        if lhs.len() > 1 {
            out_shape.push(lhs_m);
        }
        if rhs.len() > 1 {
            out_shape.push(rhs_n);
        }
        crate::storage::checked_numel(&out_shape, crate::dtype::DType::F64)?;
        Ok(MatmulPlan {
            m: lhs_m,
            k: lhs_k,
            n: rhs_n,
            batch,
            lhs_batch,
            rhs_batch,
            out_shape,
        })
    }
}

/// For every index of the broadcast batch, the index of the operand's matrix it reads.
fn batch_index_map(full: &[usize], own: &[usize]) -> Vec<usize> {
    let total: usize = full.iter().product();
    let offset = full.len() - own.len();
    // Strides of the operand's own batch, in matrices; broadcast dimensions step by 0.
    let mut own_strides = vec![0usize; full.len()];
    let mut stride = 1;
    for i in (0..own.len()).rev() {
        own_strides[offset + i] = if own[i] == 1 { 0 } else { stride };
        stride *= own[i];
    }
    (0..total)
        .map(|mut flat| {
            let mut index = 0;
            for d in (0..full.len()).rev() {
                index += (flat % full[d]) * own_strides[d];
                flat /= full[d];
            }
            index
        })
        .collect()
}

/// One operand of a batched product: contiguous matrices of `rows x cols`, read transposed when
/// asked.
struct Operand<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    transpose: bool,
    index: Vec<usize>,
}

impl<'a, T: Element> Operand<'a, T> {
    /// The (rows, cols) of the matrices as read (after any transpose).
    fn read_shape(&self) -> (usize, usize) {
        if self.transpose {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    fn matrix(&self, batch: usize) -> MatRef<'a, T> {
        let size = self.rows * self.cols;
        let start = self.index[batch] * size;
        let view = MatRef::row_major(&self.data[start..start + size], self.rows, self.cols);
        if self.transpose { view.t() } else { view }
    }
}

/// `out[c(i)] (+)= a[a(i)] @ b[b(i)]` for every index `i` of the broadcast batch, in order. The
/// first write to each output matrix overwrites it unless `accumulate` says it holds a gradient.
fn batched_gemm<T: Element>(
    a: &Operand<'_, T>,
    b: &Operand<'_, T>,
    out: &mut [T],
    out_index: &[usize],
    accumulate: Accumulate,
) {
    let (m, n) = (a.read_shape().0, b.read_shape().1);
    if m == 0 || n == 0 {
        return;
    }
    let mut written = vec![accumulate == Accumulate::Add; out.len() / (m * n)];
    for (i, &c) in out_index.iter().enumerate() {
        let beta = if written[c] { T::one() } else { T::zero() };
        written[c] = true;
        let dest = MatMut::row_major(&mut out[c * m * n..(c + 1) * m * n], m, n);
        gemm(T::one(), a.matrix(i), b.matrix(i), beta, dest);
    }
    // An output matrix no batch index reached (an empty broadcast batch) is still a gradient:
    // zero, whatever the buffer held.
    for (c, done) in written.iter().enumerate() {
        if !done {
            out[c * m * n..(c + 1) * m * n].fill(T::zero());
        }
    }
}

fn forward<T: Element>(plan: &MatmulPlan, a: &ArrayRefD<T>, b: &ArrayRefD<T>) -> Result<ArrayD<T>> {
    let mut out = try_zeros::<T>(&plan.out_shape)?;
    let a = operand(a, plan.m, plan.k, false, &plan.batch, &plan.lhs_batch)?;
    let b = operand(b, plan.k, plan.n, false, &plan.batch, &plan.rhs_batch)?;
    let out_index: Vec<usize> = (0..plan.batch.iter().product()).collect();
    let out_slice = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("matmul: output is not contiguous"))?;
    batched_gemm(&a, &b, out_slice, &out_index, Accumulate::Overwrite);
    Ok(out)
}

fn operand<'a, T: Element>(
    array: &'a ArrayRefD<T>,
    rows: usize,
    cols: usize,
    transpose: bool,
    full: &[usize],
    own: &[usize],
) -> Result<Operand<'a, T>> {
    Ok(Operand {
        data: array
            .as_slice()
            .ok_or_else(|| Error::value("matmul: operand is not contiguous"))?,
        rows,
        cols,
        transpose,
        index: batch_index_map(full, own),
    })
}

pub fn matmul(lhs: &Tensor, rhs: &Tensor) -> Result<Tensor> {
    let (lhs, rhs) = &super::layout::promote_pair(lhs, rhs)?;
    let (a, b) = (lhs.data(), rhs.data());
    let plan = MatmulPlan::new(a.shape(), b.shape())?;
    let out = map_storage2!("matmul", &*a, &*b, |x, y| forward(&plan, x, y)?);
    Ok(record(out, &[lhs, rhs], |_| MatmulBackward {
        plan,
        lhs: a,
        rhs: b,
    }))
}

struct MatmulBackward {
    plan: MatmulPlan,
    lhs: Arc<Storage>,
    rhs: Arc<Storage>,
}

impl Backward for MatmulBackward {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let plan = &self.plan;
        // dA = G @ B^T, summed over the batch dimensions A was broadcast along.
        grads.add_with(0, |dest, accumulate| match (dest, grad, &*self.rhs) {
            (Storage::F32(d), Storage::F32(g), Storage::F32(b)) => {
                lhs_grad(plan, d, g, b, accumulate)
            }
            (Storage::F64(d), Storage::F64(g), Storage::F64(b)) => {
                lhs_grad(plan, d, g, b, accumulate)
            }
            _ => Err(Error::Autograd("matmul: dtype mismatch in backward".into())),
        })?;
        // dB = A^T @ G, likewise.
        grads.add_with(1, |dest, accumulate| match (dest, grad, &*self.lhs) {
            (Storage::F32(d), Storage::F32(g), Storage::F32(a)) => {
                rhs_grad(plan, d, g, a, accumulate)
            }
            (Storage::F64(d), Storage::F64(g), Storage::F64(a)) => {
                rhs_grad(plan, d, g, a, accumulate)
            }
            _ => Err(Error::Autograd("matmul: dtype mismatch in backward".into())),
        })
    }
}

fn lhs_grad<T: Element>(
    plan: &MatmulPlan,
    dest: &mut ArrayRefD<T>,
    g: &ArrayRefD<T>,
    b: &ArrayRefD<T>,
    accumulate: Accumulate,
) -> Result<()> {
    let g = operand(g, plan.m, plan.n, false, &plan.batch, &plan.batch)?;
    let b_t = operand(b, plan.k, plan.n, true, &plan.batch, &plan.rhs_batch)?;
    let out_index = batch_index_map(&plan.batch, &plan.lhs_batch);
    let dest = dest
        .as_slice_mut()
        .ok_or_else(|| Error::Autograd("matmul: gradient is not contiguous".into()))?;
    batched_gemm(&g, &b_t, dest, &out_index, accumulate);
    Ok(())
}

fn rhs_grad<T: Element>(
    plan: &MatmulPlan,
    dest: &mut ArrayRefD<T>,
    g: &ArrayRefD<T>,
    a: &ArrayRefD<T>,
    accumulate: Accumulate,
) -> Result<()> {
    let a_t = operand(a, plan.m, plan.k, true, &plan.batch, &plan.lhs_batch)?;
    let g = operand(g, plan.m, plan.n, false, &plan.batch, &plan.batch)?;
    let out_index = batch_index_map(&plan.batch, &plan.rhs_batch);
    let dest = dest
        .as_slice_mut()
        .ok_or_else(|| Error::Autograd("matmul: gradient is not contiguous".into()))?;
    batched_gemm(&a_t, &g, dest, &out_index, accumulate);
    Ok(())
}

impl Tensor {
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        matmul(self, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_product() {
        let a = Tensor::from_array(
            ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]).into_dyn(),
            false,
        );
        let b = Tensor::from_array(ndarray::arr2(&[[5.0f64], [6.0]]).into_dyn(), false);
        assert_eq!(a.matmul(&b).unwrap().to_f64_vec(), vec![17.0, 39.0]);
    }

    #[test]
    fn shapes_follow_numpy() {
        let shape =
            |a: &[usize], b: &[usize]| randn(a, 1).matmul(&randn(b, 2)).map(|t| t.shape().to_vec());
        assert_eq!(shape(&[3], &[3]).unwrap(), Vec::<usize>::new());
        assert_eq!(shape(&[2, 3], &[3]).unwrap(), vec![2]);
        assert_eq!(shape(&[3], &[3, 4]).unwrap(), vec![4]);
        assert_eq!(shape(&[5, 1, 2, 3], &[4, 3, 2]).unwrap(), vec![5, 4, 2, 2]);
        assert!(shape(&[3, 4], &[3, 4]).is_err());
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[3, 4], &[4, 2]),
            (&[4], &[4, 3]),
            (&[2, 4], &[4]),
            (&[4], &[4]),
            (&[2, 3, 4], &[4, 2]),
            (&[2, 1, 2, 3], &[3, 3, 2]),
        ];
        for (i, (a, b)) in cases.iter().enumerate() {
            let (a, b) = (randn(a, i as u64), randn(b, 100 + i as u64));
            check_gradients(&[a, b], |t| t[0].matmul(&t[1]).unwrap());
        }
    }

    #[test]
    fn gradients_accumulate_across_backward_calls() {
        let a = randn(&[2, 3], 1);
        let b = randn(&[3, 2], 2);
        for _ in 0..2 {
            a.matmul(&b)
                .unwrap()
                .sum(None, false)
                .unwrap()
                .backward(None, false)
                .unwrap();
        }
        let once: Vec<f64> = {
            let a2 = randn(&[2, 3], 1);
            a2.matmul(&b.detach())
                .unwrap()
                .sum(None, false)
                .unwrap()
                .backward(None, false)
                .unwrap();
            a2.grad().unwrap().to_f64_vec()
        };
        let twice = a.grad().unwrap().to_f64_vec();
        for (t, o) in twice.iter().zip(once) {
            assert!((t - 2.0 * o).abs() < 1e-12);
        }
    }
}

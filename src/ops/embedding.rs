//! `embedding`: the rows of a table picked by integer token ids (Keras's `Embedding` lookup).
//!
//! The ids arrive as a float tensor, since a model's input is one (integers are exact in float32
//! below 2^24, far beyond any vocabulary). Each id is checked before anything is computed. The
//! backward pass scatter-adds the gradient rows into the table's gradient in position order, so
//! repeated ids sum the same way on every run.

use ndarray::{ArrayD, ArrayRefD};

use crate::autograd::{Accumulate, Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::{Storage, array_from_vec};
use crate::tensor::Tensor;

/// `table[ids]`: an output of shape `ids.shape + (output_dim,)` for a table of shape
/// `(input_dim, output_dim)`. Only the table receives a gradient.
pub fn embedding(ids: &Tensor, table: &Tensor) -> Result<Tensor> {
    let (input_dim, output_dim) = match table.shape() {
        &[rows, cols] => (rows, cols),
        other => {
            return Err(Error::shape(
                "Embedding",
                format!("the table must be 2-D (input_dim, output_dim), received {other:?}"),
            ));
        }
    };
    let rows = token_rows(ids, input_dim)?;
    let mut out_shape = ids.shape().to_vec();
    out_shape.push(output_dim);
    let data = table.data();
    let out = match &*data {
        Storage::F32(t) => Storage::F32(gather(t, &rows, output_dim, &out_shape)?.into()),
        Storage::F64(t) => Storage::F64(gather(t, &rows, output_dim, &out_shape)?.into()),
    };
    Ok(record(out, &[table], |_| EmbeddingBackward {
        rows,
        output_dim,
    }))
}

/// The table row of every id, or an error naming the first bad id and where it is.
fn token_rows(ids: &Tensor, input_dim: usize) -> Result<Vec<usize>> {
    let values = ids.to_f64_vec();
    let mut rows = Vec::with_capacity(values.len());
    for (flat, &id) in values.iter().enumerate() {
        if id.fract() != 0.0 || !id.is_finite() {
            return Err(Error::value(format!(
                "Embedding: token ids must be integers, received {id} at position {}",
                position(ids.shape(), flat)
            )));
        }
        if id < 0.0 || id >= input_dim as f64 {
            return Err(Error::value(format!(
                "Embedding: token id {id} at position {} is outside [0, {input_dim}); \
                 input_dim={input_dim} must exceed every id",
                position(ids.shape(), flat)
            )));
        }
        rows.push(id as usize);
    }
    Ok(rows)
}

/// `(3, 7)` for the flat index of an element of a tensor of `shape`.
fn position(shape: &[usize], mut flat: usize) -> String {
    let mut index = vec![0; shape.len()];
    for (axis, &dim) in shape.iter().enumerate().rev() {
        index[axis] = flat % dim.max(1);
        flat /= dim.max(1);
    }
    let parts: Vec<String> = index.iter().map(usize::to_string).collect();
    format!("({})", parts.join(", "))
}

fn gather<T: Element>(
    table: &ArrayRefD<T>,
    rows: &[usize],
    width: usize,
    out_shape: &[usize],
) -> Result<ArrayD<T>> {
    let table = table
        .as_slice()
        .ok_or_else(|| Error::value("Embedding: the table is not contiguous"))?;
    let mut out = Vec::new();
    out.try_reserve_exact(rows.len() * width)
        .map_err(|_| Error::OutOfMemory(format!("Embedding: cannot allocate {out_shape:?}")))?;
    for &row in rows {
        out.extend_from_slice(&table[row * width..(row + 1) * width]);
    }
    array_from_vec(out_shape, out)
}

struct EmbeddingBackward {
    rows: Vec<usize>,
    output_dim: usize,
}

impl Backward for EmbeddingBackward {
    fn name(&self) -> &'static str {
        "embedding"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        match grad {
            Storage::F32(g) => self.scatter_add::<f32>(g, grads),
            Storage::F64(g) => self.scatter_add::<f64>(g, grads),
        }
    }
}

impl EmbeddingBackward {
    fn scatter_add<T: Element>(&self, grad: &ArrayRefD<T>, grads: &mut GradSink<'_>) -> Result<()> {
        let grad = grad
            .as_slice()
            .ok_or_else(|| Error::value("Embedding: the gradient is not contiguous"))?;
        let width = self.output_dim;
        // Rows absent from the batch get no gradient, so an overwritten buffer is cleared first.
        grads.add_with(0, |dest, accumulate| {
            let dest = dest
                .typed_mut::<T>()?
                .as_slice_mut()
                .ok_or_else(|| Error::value("Embedding: the gradient buffer is not contiguous"))?;
            if accumulate == Accumulate::Overwrite {
                dest.fill(T::zero());
            }
            for (&row, g) in self.rows.iter().zip(grad.chunks_exact(width.max(1))) {
                for (d, &v) in dest[row * width..(row + 1) * width].iter_mut().zip(g) {
                    *d += v;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::ops::test_util::{check_gradients, randn};

    fn ids(shape: &[usize], values: &[f64]) -> Tensor {
        Tensor::new(
            Storage::from_f64_vec(DType::F64, shape, values.to_vec()).unwrap(),
            false,
        )
    }

    #[test]
    fn picks_rows_and_scatter_adds_repeated_ids() {
        let table = randn(&[4, 3], 1);
        let x = ids(&[2, 2], &[1.0, 3.0, 1.0, 0.0]);
        let out = embedding(&x, &table).unwrap();
        assert_eq!(out.shape(), &[2, 2, 3]);
        let t = table.to_f64_vec();
        assert_eq!(&out.to_f64_vec()[3..6], &t[9..12]);
        check_gradients(&[table], |t| embedding(&x, &t[0]).unwrap());
    }

    #[test]
    fn after_zero_grad_a_step_sees_only_its_own_ids() {
        // zero_grad_in_place lets the next backward write over the old gradient: rows the
        // second batch does not use must not keep the first batch's gradient.
        let table = randn(&[4, 2], 1);
        table.set_requires_grad(true).unwrap();
        embedding(&ids(&[2], &[0.0, 1.0]), &table)
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        table.zero_grad_in_place();
        embedding(&ids(&[2], &[2.0, 2.0]), &table)
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        let grad = table.grad().unwrap().to_f64_vec();
        assert_eq!(grad, vec![0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 0.0, 0.0]);
    }

    #[test]
    fn bad_ids_are_named() {
        let table = randn(&[4, 3], 1);
        let err = embedding(&ids(&[1, 3], &[0.0, 4.0, 1.0]), &table)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("token id 4") && err.contains("(0, 1)"),
            "{err}"
        );
        let err = embedding(&ids(&[2], &[1.5, 0.0]), &table)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1.5"), "{err}");
        assert!(embedding(&ids(&[1], &[-1.0]), &table).is_err());
        assert!(embedding(&ids(&[1], &[f64::NAN]), &table).is_err());
    }
}

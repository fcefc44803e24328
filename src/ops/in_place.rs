//! In-place updates: `w -= lr * w.grad`, `t.fill_(0)`, `t.copy_(src)`, `t[idx] = value`.
//!
//! An update replaces the tensor's data and keeps everything else (its id, `requires_grad`,
//! its gradient), so that a weight updated by hand stays the weight a model and an optimizer
//! know. While gradients are recorded, a leaf that requires grad (a weight) may only be
//! changed under `no_grad()`, as in PyTorch; arithmetic updates of a computed tensor
//! (`total += loss`) are recorded: the tensor takes the result's history, whose input is a new
//! tensor standing for the old value. Each update bumps the tensor's version, so that a
//! backward pass through an op that ran before the change fails instead of differentiating at
//! values the tensor no longer has.

use std::sync::Arc;

use crate::autograd::{is_grad_enabled, no_grad};
use crate::error::{Error, Result};
use crate::ops::binary::{BinaryOp, binary};
use crate::ops::index::IndexItem;
use crate::storage::Storage;
use crate::tensor::Tensor;

impl Tensor {
    /// Refuses an update that would have to be recorded to keep gradients right.
    fn check_in_place(&self, op: &'static str, value: Option<&Tensor>) -> Result<()> {
        if !is_grad_enabled() {
            return Ok(());
        }
        if self.requires_grad() {
            return Err(Error::Autograd(format!(
                "{op}: a tensor that requires grad (shape {:?}) cannot be changed in place while \
                 gradients are recorded; make the change under `with ferrograd.no_grad():`, as \
                 in PyTorch's manual update `w -= lr * w.grad`",
                self.shape()
            )));
        }
        if value.is_some_and(Tensor::requires_grad) {
            return Err(Error::Autograd(format!(
                "{op}: the value written in place requires grad, but in-place updates are not \
                 recorded; compute a new tensor instead (`t = t + x`) or detach() the value \
                 (tensor of shape {:?})",
                self.shape()
            )));
        }
        Ok(())
    }

    /// Writes `storage` (already of the tensor's shape) over the data and counts the change.
    fn replace_data(&self, storage: Arc<Storage>) -> Result<()> {
        let storage = Arc::try_unwrap(storage).unwrap_or_else(|shared| (*shared).clone());
        self.set_data(storage)?;
        self.bump_version();
        Ok(())
    }

    /// `self = self op other` in place (`+=`, `add_`, ...), `other` broadcast to the tensor's
    /// shape; the tensor's shape and dtype never change.
    pub fn binary_in_place(&self, op: BinaryOp, other: &Tensor) -> Result<()> {
        let name = in_place_name(op);
        if self.records_in_place(Some(other)) {
            let out_shape = crate::shape::broadcast_shapes(name, self.shape(), other.shape())?;
            self.check_keeps_shape(name, &out_shape, other.shape())?;
            return self.record_in_place(|old| binary(op, old, other));
        }
        self.check_in_place(name, Some(other))?;
        let result = {
            let _guard = no_grad();
            binary(op, self, other)?
        };
        self.check_keeps_shape(name, result.shape(), other.shape())?;
        self.replace_data(result.data())
    }

    fn check_keeps_shape(&self, op: &'static str, result: &[usize], other: &[usize]) -> Result<()> {
        if result != self.shape() {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().to_vec(),
                rhs: other.to_vec(),
                reason: "do not fit: the value must broadcast to the shape of the tensor changed \
                         in place",
            });
        }
        Ok(())
    }

    /// Whether an arithmetic update must be recorded: gradients are on, something involved
    /// requires grad, and the tensor is not a leaf that requires grad (which is refused).
    fn records_in_place(&self, value: Option<&Tensor>) -> bool {
        let involved = self.requires_grad() || value.is_some_and(Tensor::requires_grad);
        is_grad_enabled() && involved && !(self.is_leaf() && self.requires_grad())
    }

    /// Records `self = compute(old self)`: the tensor keeps its identity and takes the
    /// result's value and history.
    fn record_in_place(&self, compute: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<()> {
        let old = self.take_history();
        match compute(&old) {
            Ok(result) => {
                self.adopt(&result);
                Ok(())
            }
            Err(e) => {
                // Give the history back: the tensor is as it was.
                self.restore_history(&old);
                Err(e)
            }
        }
    }

    /// `self = self op scalar` in place (`scalar_first` for `scalar op self`).
    pub fn scalar_in_place(&self, op: BinaryOp, scalar: f64) -> Result<()> {
        if self.records_in_place(None) {
            return self.record_in_place(|old| old.scalar_op(op, scalar, false));
        }
        self.check_in_place(in_place_name(op), None)?;
        let result = {
            let _guard = no_grad();
            self.scalar_op(op, scalar, false)?
        };
        self.replace_data(result.data())
    }

    /// Sets every element to `value` (`fill_`, `zero_`).
    pub fn fill_in_place(&self, value: f64) -> Result<()> {
        self.check_in_place("fill_", None)?;
        self.with_data_mut(|d| d.fill(value));
        self.bump_version();
        Ok(())
    }

    /// Copies `source`'s values (broadcast to the tensor's shape, converted to its dtype).
    pub fn copy_in_place(&self, source: &Tensor) -> Result<()> {
        self.check_in_place("copy_", Some(source))?;
        let values = {
            let _guard = no_grad();
            source
                .astype(self.dtype())?
                .broadcast_to(self.shape())
                .map_err(|_| Error::ShapeMismatch {
                    op: "copy_",
                    lhs: self.shape().to_vec(),
                    rhs: source.shape().to_vec(),
                    reason: "do not fit: the source must broadcast to the destination's shape",
                })?
        };
        self.replace_data(values.data())
    }

    /// `self[items] = value`, with numpy's indexing rules and `value` broadcast to the shape of
    /// the selection. Positions selected twice take the last value written, as in numpy.
    pub fn assign_index(&self, items: &[IndexItem], value: &Tensor) -> Result<()> {
        self.check_in_place("setitem", Some(value))?;
        let _guard = no_grad();
        // The flat position of every selected element, found by indexing the positions
        // themselves: every index form is resolved by the same code as reading.
        let positions = Tensor::new(
            Storage::from_f64_vec(
                crate::dtype::DType::F64,
                self.shape(),
                (0..self.numel()).map(|p| p as f64).collect(),
            )?,
            false,
        )
        .index(items)?;
        let values = value
            .astype(crate::dtype::DType::F64)?
            .broadcast_to(positions.shape())
            .map_err(|_| Error::ShapeMismatch {
                op: "setitem",
                lhs: positions.shape().to_vec(),
                rhs: value.shape().to_vec(),
                reason: "do not fit: the value must broadcast to the shape of the selection",
            })?;
        let mut data = self.to_f64_vec();
        for (p, v) in positions.to_f64_vec().into_iter().zip(values.to_f64_vec()) {
            data[p as usize] = v;
        }
        let storage = Storage::from_f64_vec(self.dtype(), self.shape(), data)?;
        self.replace_data(Arc::new(storage))
    }
}

fn in_place_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add_",
        BinaryOp::Sub => "sub_",
        BinaryOp::Mul => "mul_",
        BinaryOp::Div => "div_",
        BinaryOp::Pow => "pow_",
        BinaryOp::Maximum => "maximum_",
        BinaryOp::Minimum => "minimum_",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn weight(values: &[f64]) -> Tensor {
        Tensor::new(
            Storage::from_f64_vec(DType::F64, &[values.len()], values.to_vec()).unwrap(),
            true,
        )
    }

    #[test]
    fn an_update_under_no_grad_keeps_the_tensor() {
        let w = weight(&[1.0, 2.0]);
        let id = w.id();
        {
            let _guard = no_grad();
            w.scalar_in_place(BinaryOp::Mul, 3.0).unwrap();
            w.binary_in_place(BinaryOp::Sub, &weight(&[1.0, 1.0]))
                .unwrap();
        }
        assert_eq!(w.to_f64_vec(), vec![2.0, 5.0]);
        assert!(w.requires_grad() && w.is_leaf() && w.id() == id);
        assert_eq!(w.version(), 2);
    }

    #[test]
    fn an_update_while_recording_is_refused() {
        let w = weight(&[1.0]);
        let message = w.fill_in_place(0.0).unwrap_err().to_string();
        assert!(message.contains("no_grad"), "{message}");
    }

    #[test]
    fn backward_through_a_changed_input_fails() {
        let w = weight(&[1.0, 2.0]);
        let y = w.mul(&w).unwrap().sum(None, false).unwrap();
        {
            let _guard = no_grad();
            w.fill_in_place(0.0).unwrap();
        }
        let message = y.backward(None, false).unwrap_err().to_string();
        assert!(message.contains("in-place"), "{message}");
    }

    #[test]
    fn an_update_of_a_computed_tensor_is_recorded() {
        let w = weight(&[1.0, 2.0]);
        let total = w.mul(&w).unwrap();
        let id = total.id();
        total.binary_in_place(BinaryOp::Add, &w).unwrap();
        total.scalar_in_place(BinaryOp::Mul, 3.0).unwrap();
        assert_eq!(total.id(), id);
        assert_eq!(total.to_f64_vec(), vec![6.0, 18.0]);
        total
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        // d/dw 3 (w^2 + w) = 6w + 3
        assert_eq!(w.grad().unwrap().to_f64_vec(), vec![9.0, 15.0]);
    }

    #[test]
    fn setitem_writes_the_selection() {
        let t = Tensor::new(
            Storage::from_f64_vec(DType::F32, &[2, 3], vec![0.0; 6]).unwrap(),
            false,
        );
        let value = Tensor::scalar(7.0, DType::F64);
        t.assign_index(&[IndexItem::Int(-1)], &value).unwrap();
        assert_eq!(t.to_f64_vec(), vec![0.0, 0.0, 0.0, 7.0, 7.0, 7.0]);
        let bad = weight(&[1.0, 2.0]).detach();
        assert!(t.assign_index(&[IndexItem::Int(0)], &bad).is_err());
    }
}

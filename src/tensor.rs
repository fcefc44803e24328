//! `Tensor`: a shared handle to an n-dimensional array that may take part in autodiff.
//!
//! Cloning a `Tensor` clones the handle, not the data: a layer's weight, the Python object that
//! shows it and the optimizer that updates it all see the same values. The data sits behind an
//! `Arc` so that the graph can keep the inputs an op needs for its backward pass without copying
//! them; writing to a tensor whose data is still held elsewhere copies it first.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ndarray::ArrayD;
use parking_lot::Mutex;

use crate::autograd::{self, GradFn};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::storage::Storage;

static NEXT_TENSOR_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Node>);

pub(crate) struct Node {
    id: u64,
    shape: Vec<usize>,
    dtype: DType,
    data: Mutex<Arc<Storage>>,
    requires_grad: AtomicBool,
    grad: Mutex<Option<Tensor>>,
    /// The gradient buffer holds stale values that count as zero: the next backward pass
    /// overwrites instead of adding, which saves zeroing every weight's gradient each step.
    grad_is_zero: AtomicBool,
    /// Counts in-place changes, so that a backward pass can tell that an input it recorded was
    /// changed since (PyTorch's version counter).
    version: AtomicU64,
    pub(crate) origin: Mutex<Origin>,
}

/// Where a tensor's value came from, as far as backward is concerned.
pub(crate) enum Origin {
    /// Created by the user (or a layer): gradients accumulate in `grad`.
    Leaf,
    /// Computed by an op while recording.
    Op(GradFn),
    /// Computed by the named op, whose graph a backward pass has since freed.
    Released(&'static str),
}

impl Tensor {
    /// A leaf tensor that owns `storage`.
    pub fn new(storage: Storage, requires_grad: bool) -> Tensor {
        Tensor::with_origin(Arc::new(storage), requires_grad, Origin::Leaf)
    }

    pub fn from_array<T: Element>(array: ArrayD<T>, requires_grad: bool) -> Tensor {
        Tensor::new(Storage::from_array(array), requires_grad)
    }

    pub(crate) fn from_op(data: Arc<Storage>, grad_fn: GradFn) -> Tensor {
        Tensor::with_origin(data, true, Origin::Op(grad_fn))
    }

    /// A leaf over data that may be shared with other tensors (no copy).
    pub(crate) fn from_shared(data: Arc<Storage>, requires_grad: bool) -> Tensor {
        Tensor::with_origin(data, requires_grad, Origin::Leaf)
    }

    fn with_origin(data: Arc<Storage>, requires_grad: bool, origin: Origin) -> Tensor {
        Tensor(Arc::new(Node {
            id: NEXT_TENSOR_ID.fetch_add(1, Ordering::Relaxed),
            shape: data.shape().to_vec(),
            dtype: data.dtype(),
            data: Mutex::new(data),
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
            grad_is_zero: AtomicBool::new(false),
            version: AtomicU64::new(0),
            origin: Mutex::new(origin),
        }))
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Ok(Tensor::new(Storage::zeros(dtype, shape)?, false))
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        Ok(Tensor::new(Storage::full(dtype, shape, value)?, false))
    }

    pub fn scalar(value: f64, dtype: DType) -> Tensor {
        Tensor::new(Storage::scalar(dtype, value), false)
    }

    /// A unique id, stable for the life of the tensor (optimizer state is keyed by it).
    pub fn id(&self) -> u64 {
        self.0.id
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.0.shape.iter().product()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Turns gradient tracking on or off; only a leaf can change (as in PyTorch).
    pub fn set_requires_grad(&self, requires_grad: bool) -> Result<()> {
        if !self.is_leaf() {
            return Err(Error::Autograd(
                "requires_grad can only be changed on a leaf tensor; use detach() to cut a \
                 computed tensor from its graph"
                    .into(),
            ));
        }
        self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        Ok(())
    }

    /// How many in-place changes the tensor has had.
    pub fn version(&self) -> u64 {
        self.0.version.load(Ordering::Acquire)
    }

    pub(crate) fn bump_version(&self) {
        self.0.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Moves this tensor's value and history into a new tensor that stands for the value
    /// before an in-place change; this one is left a leaf until `adopt` gives it the result.
    pub(crate) fn take_history(&self) -> Tensor {
        let origin = std::mem::replace(&mut *self.0.origin.lock(), Origin::Leaf);
        Tensor::with_origin(self.data(), self.requires_grad(), origin)
    }

    /// Makes this tensor hold `result`'s value and history (the end of a recorded in-place
    /// change; `result` is a temporary that no one else holds).
    pub(crate) fn adopt(&self, result: &Tensor) {
        self.restore_history(result);
        self.bump_version();
    }

    /// Gives back the value and history `take_history` moved out (an in-place change that
    /// failed), leaving the version as it was.
    pub(crate) fn restore_history(&self, from: &Tensor) {
        let origin = std::mem::replace(&mut *from.0.origin.lock(), Origin::Leaf);
        *self.0.data.lock() = from.data();
        *self.0.origin.lock() = origin;
        self.0
            .requires_grad
            .store(from.requires_grad(), Ordering::Relaxed);
    }

    pub fn is_leaf(&self) -> bool {
        matches!(*self.0.origin.lock(), Origin::Leaf)
    }

    /// The data, shared (cheap: clones an `Arc`).
    pub fn data(&self) -> Arc<Storage> {
        self.0.data.lock().clone()
    }

    /// Runs `f` on the data for writing, copying it first if the graph or another handle still
    /// holds it, so that values saved for a backward pass are never changed under it.
    pub fn with_data_mut<R>(&self, f: impl FnOnce(&mut Storage) -> R) -> R {
        let mut guard = self.0.data.lock();
        f(Arc::make_mut(&mut guard))
    }

    /// Replaces the data with `storage` of the same shape (converted to the tensor's dtype).
    /// Data that lives in another library's memory and that nothing else in ferrograd holds is
    /// written over in place instead, so that the other library sees the new values, as
    /// `tensor.copy_(values)` does in PyTorch.
    pub fn set_data(&self, storage: Storage) -> Result<()> {
        if storage.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "assign",
                lhs: self.shape().to_vec(),
                rhs: storage.shape().to_vec(),
                reason: "differ: a value must keep the tensor's shape",
            });
        }
        let storage = if storage.dtype() == self.dtype() {
            storage
        } else {
            storage.astype(self.dtype())
        };
        let mut data = self.0.data.lock();
        if data.is_foreign()
            && let Some(foreign) = Arc::get_mut(&mut data)
        {
            return foreign.copy_from(&storage);
        }
        *data = Arc::new(storage);
        Ok(())
    }

    pub fn grad(&self) -> Option<Tensor> {
        let slot = self.0.grad.lock();
        if let Some(grad) = slot.as_ref()
            && self.0.grad_is_zero.swap(false, Ordering::AcqRel)
        {
            grad.with_data_mut(|g| g.fill(0.0));
        }
        slot.clone()
    }

    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.shape() != self.shape() {
                return Err(Error::ShapeMismatch {
                    op: "assign grad",
                    lhs: self.shape().to_vec(),
                    rhs: g.shape().to_vec(),
                    reason: "differ: a gradient must have the tensor's shape",
                });
            }
            if g.dtype() != self.dtype() {
                return Err(Error::DTypeMismatch {
                    op: "assign grad",
                    expected: self.dtype(),
                    received: g.dtype(),
                });
            }
        }
        let mut slot = self.0.grad.lock();
        self.0.grad_is_zero.store(false, Ordering::Release);
        *slot = grad;
        Ok(())
    }

    /// Sets the gradient to zero, keeping its buffer for the next backward pass. The buffer is
    /// not cleared: it is marked, and the next backward pass writes over it (or `grad()` clears
    /// it, if read first).
    pub fn zero_grad_in_place(&self) {
        let slot = self.0.grad.lock();
        if slot.is_some() {
            self.0.grad_is_zero.store(true, Ordering::Release);
        }
    }

    /// Adds `grad` to this leaf's gradient (creating it on first use).
    pub(crate) fn accumulate_grad(&self, grad: Storage) -> Result<()> {
        let mut slot = self.0.grad.lock();
        match slot.as_ref() {
            Some(existing) if self.0.grad_is_zero.swap(false, Ordering::AcqRel) => {
                existing.with_data_mut(|g| *g = grad);
                Ok(())
            }
            Some(existing) => existing.with_data_mut(|g| g.add_assign(&grad)),
            None => {
                *slot = Some(Tensor::new(grad, false));
                Ok(())
            }
        }
    }

    /// Runs `write` on this leaf's gradient buffer: `Accumulate::Add` when one exists, else
    /// `Accumulate::Overwrite` on a fresh zeroed buffer that then becomes the gradient.
    pub(crate) fn write_grad(
        &self,
        write: impl FnOnce(&mut Storage, autograd::Accumulate) -> Result<()>,
    ) -> Result<()> {
        let mut slot = self.0.grad.lock();
        match slot.as_ref() {
            Some(existing) => {
                let accumulate = if self.0.grad_is_zero.swap(false, Ordering::AcqRel) {
                    autograd::Accumulate::Overwrite
                } else {
                    autograd::Accumulate::Add
                };
                existing.with_data_mut(|g| write(g, accumulate))
            }
            None => {
                let mut fresh = Storage::zeros(self.dtype(), self.shape())?;
                write(&mut fresh, autograd::Accumulate::Overwrite)?;
                *slot = Some(Tensor::new(fresh, false));
                Ok(())
            }
        }
    }

    /// A new leaf that shares this tensor's data but not its graph.
    pub fn detach(&self) -> Tensor {
        Tensor::from_shared(self.data(), false)
    }

    /// Backpropagates from this tensor; see `autograd::backward`.
    pub fn backward(&self, grad_output: Option<Storage>, retain_graph: bool) -> Result<()> {
        autograd::backward(self, grad_output, retain_graph)
    }

    /// `backward` from a scalar, reporting each leaf whose gradient is final as soon as it is;
    /// see `autograd::backward_with_ready`.
    pub fn backward_with_ready(&self, ready: autograd::LeafReady<'_>) -> Result<()> {
        autograd::backward_with_ready(self, None, false, ready)
    }

    pub fn item(&self) -> Result<f64> {
        self.data().item()
    }

    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data().to_f64_vec()
    }

    /// The name of the op that made this tensor, if any ("AddBackward"-like, for repr and errors).
    pub fn grad_fn_name(&self) -> Option<&'static str> {
        match &*self.0.origin.lock() {
            Origin::Leaf => None,
            Origin::Op(grad_fn) => Some(grad_fn.backward.name()),
            Origin::Released(name) => Some(name),
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.shape())
            .field("dtype", &self.dtype())
            .field("requires_grad", &self.requires_grad())
            .field("data", &self.data())
            .finish()
    }
}

impl Drop for Node {
    /// Frees a graph without recursion: a chain of 100,000 ops would overflow the stack if each
    /// node dropped its inputs from inside its own `drop`.
    fn drop(&mut self) {
        let mut orphans = take_inputs(self.origin.get_mut());
        while let Some(tensor) = orphans.pop() {
            if let Some(mut node) = Arc::into_inner(tensor.0) {
                orphans.extend(take_inputs(node.origin.get_mut()));
            }
        }
    }
}

fn take_inputs(origin: &mut Origin) -> Vec<Tensor> {
    match std::mem::replace(origin, Origin::Leaf) {
        Origin::Op(grad_fn) => grad_fn.inputs,
        _ => Vec::new(),
    }
}

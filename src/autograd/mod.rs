//! Reverse-mode autodiff: recording ops, and the iterative backward walk.
//!
//! An op computes its output and, when recording, stores a [`Backward`] value beside it that
//! holds what the gradient needs (declared as the op's own type, never a closure over tensors).
//! `backward` orders the graph with an explicit stack, so depth is bounded by memory, not by
//! the call stack, and frees each node's backward state once used unless asked to keep it.

mod grad_mode;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use grad_mode::{NoGradGuard, is_grad_enabled, no_grad, set_grad_enabled};

use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::{Origin, Tensor};

/// The backward rule of one recorded op.
pub trait Backward: Send + Sync {
    /// The op's name, shown in `grad_fn` and in errors.
    fn name(&self) -> &'static str;

    /// Given the gradient of the loss with respect to the op's output, adds the gradient with
    /// respect to each input that needs one to `grads`.
    fn backward(&self, grad_output: &Storage, grads: &mut GradSink<'_>) -> Result<()>;
}

pub(crate) struct GradFn {
    pub inputs: Vec<Tensor>,
    /// Each input's version when the op ran: an input changed in place since then no longer
    /// holds the values the gradient is defined at.
    pub versions: Vec<u64>,
    pub backward: Box<dyn Backward>,
}

/// Whether a buffer handed to a backward rule already holds a gradient to add to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// The buffer's contents are to be ignored (fresh, or a gradient marked zero and reused):
    /// write the gradient over them (GEMM with beta = 0). Never add to them.
    Overwrite,
    /// The buffer holds earlier gradient: add to it (GEMM with beta = 1).
    Add,
}

/// Where a backward rule delivers the gradients of its inputs.
pub struct GradSink<'a> {
    inputs: &'a [Tensor],
    pending: &'a mut HashMap<u64, Storage>,
}

impl GradSink<'_> {
    /// Whether input `i` needs a gradient; rules skip the work for inputs that do not.
    pub fn wants(&self, i: usize) -> bool {
        self.inputs.get(i).is_some_and(Tensor::requires_grad)
    }

    /// Adds `grad` to input `i`'s gradient.
    pub fn add(&mut self, i: usize, grad: Storage) -> Result<()> {
        if !self.wants(i) {
            return Ok(());
        }
        let input = &self.inputs[i];
        check_grad_shape(input, &grad)?;
        if input.is_leaf() {
            return input.accumulate_grad(grad);
        }
        match self.pending.get_mut(&input.id()) {
            Some(existing) => existing.add_assign(&grad),
            None => {
                self.pending.insert(input.id(), grad);
                Ok(())
            }
        }
    }

    /// Lets a rule write input `i`'s gradient straight into its destination buffer (a GEMM
    /// into a weight's `.grad`), avoiding a temporary and an extra pass.
    pub fn add_with(
        &mut self,
        i: usize,
        write: impl FnOnce(&mut Storage, Accumulate) -> Result<()>,
    ) -> Result<()> {
        if !self.wants(i) {
            return Ok(());
        }
        let input = &self.inputs[i];
        if input.is_leaf() {
            return input.write_grad(write);
        }
        match self.pending.get_mut(&input.id()) {
            Some(existing) => write(existing, Accumulate::Add),
            None => {
                let mut fresh = Storage::zeros(input.dtype(), input.shape())?;
                write(&mut fresh, Accumulate::Overwrite)?;
                self.pending.insert(input.id(), fresh);
                Ok(())
            }
        }
    }
}

fn check_grad_shape(input: &Tensor, grad: &Storage) -> Result<()> {
    if grad.shape() != input.shape() || grad.dtype() != input.dtype() {
        return Err(Error::Autograd(format!(
            "internal error: a backward rule produced a gradient of shape {:?} ({}) for an input \
             of shape {:?} ({})",
            grad.shape(),
            grad.dtype(),
            input.shape(),
            input.dtype()
        )));
    }
    Ok(())
}

/// Makes the output tensor of an op, recording `make_backward(&output)` as its backward rule
/// when gradients are enabled and some input requires one. The rule is built only when
/// recording, so untracked ops save nothing; it receives the output's shared data so that rules
/// whose derivative is cheaper from the output (exp, sigmoid, softmax) can keep it for free.
pub fn record<B: Backward + 'static>(
    output: Storage,
    inputs: &[&Tensor],
    make_backward: impl FnOnce(&Arc<Storage>) -> B,
) -> Tensor {
    let output = Arc::new(output);
    if is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
        let backward = Box::new(make_backward(&output));
        Tensor::from_op(
            output,
            GradFn {
                inputs: inputs.iter().map(|&t| t.clone()).collect(),
                versions: inputs.iter().map(|t| t.version()).collect(),
                backward,
            },
        )
    } else {
        Tensor::from_shared(output, false)
    }
}

/// Backpropagates from `root`, accumulating gradients into the `.grad` of every leaf that
/// requires one. A non-scalar root needs an explicit `grad_output`. Unless `retain_graph`, the
/// backward state of each node is freed as soon as it has been used.
pub fn backward(root: &Tensor, grad_output: Option<Storage>, retain_graph: bool) -> Result<()> {
    backward_reporting(root, grad_output, retain_graph, None)
}

/// A leaf whose gradient is final: no rule left in the pass adds to it.
pub type LeafReady<'a> = &'a mut dyn FnMut(&Tensor) -> Result<()>;

/// `backward`, calling `ready` with each leaf that requires a gradient as soon as the last
/// rule adding to its gradient has run (the rules run in reverse topological order, so the
/// weights of the last layers are reported first): what lets a data-parallel loop start
/// summing those gradients across processes while earlier layers' rules still run.
pub fn backward_with_ready(
    root: &Tensor,
    grad_output: Option<Storage>,
    retain_graph: bool,
    ready: LeafReady<'_>,
) -> Result<()> {
    backward_reporting(root, grad_output, retain_graph, Some(ready))
}

fn backward_reporting(
    root: &Tensor,
    grad_output: Option<Storage>,
    retain_graph: bool,
    mut ready: Option<LeafReady<'_>>,
) -> Result<()> {
    if !root.requires_grad() {
        return Err(Error::Autograd(
            "backward: this tensor does not require grad and has no graph; create the inputs \
             with requires_grad=True (and outside no_grad())"
                .into(),
        ));
    }
    let grad_output = match grad_output {
        Some(g) => {
            if g.shape() != root.shape() {
                return Err(Error::ShapeMismatch {
                    op: "backward",
                    lhs: root.shape().to_vec(),
                    rhs: g.shape().to_vec(),
                    reason: "differ: the gradient must have the output's shape",
                });
            }
            g.astype(root.dtype())
        }
        None if root.numel() == 1 => Storage::full(root.dtype(), root.shape(), 1.0)?,
        None => {
            return Err(Error::Autograd(format!(
                "backward: a gradient can be created implicitly only for a scalar output; this \
                 tensor has shape {:?}, so pass a gradient of that shape",
                root.shape()
            )));
        }
    };
    if root.is_leaf() {
        root.accumulate_grad(grad_output)?;
        if let Some(ready) = ready {
            ready(root)?;
        }
        return Ok(());
    }

    let order = topological_order(root)?;
    // For each step of the pass, the leaves whose last gradient rule it runs.
    let ready_after = match ready {
        Some(_) => leaves_ready_after(&order),
        None => Vec::new(),
    };
    let mut pending = HashMap::from([(root.id(), grad_output)]);
    for (step, tensor) in order.iter().rev().enumerate() {
        run_node(tensor, retain_graph, &mut pending)?;
        if let Some(ready) = ready.as_mut() {
            for leaf in &ready_after[step] {
                ready(leaf)?;
            }
        }
    }
    Ok(())
}

/// Runs the backward rule of `tensor` with its pending gradient (if any), releasing the rule's
/// state unless `retain_graph`.
fn run_node(
    tensor: &Tensor,
    retain_graph: bool,
    pending: &mut HashMap<u64, Storage>,
) -> Result<()> {
    let Some(grad) = pending.remove(&tensor.id()) else {
        return Ok(());
    };
    let mut origin = tensor.0.origin.lock();
    if retain_graph {
        if let Origin::Op(grad_fn) = &*origin {
            run_rule(grad_fn, &grad, pending)?;
        }
    } else {
        let released = match &*origin {
            Origin::Op(grad_fn) => Origin::Released(grad_fn.backward.name()),
            _ => return Ok(()),
        };
        if let Origin::Op(grad_fn) = std::mem::replace(&mut *origin, released) {
            drop(origin);
            run_rule(&grad_fn, &grad, pending)?;
        }
    }
    Ok(())
}

/// For each step of a pass over `order` reversed, the leaves (requiring a gradient) that the
/// step's rule is the last to feed.
fn leaves_ready_after(order: &[Tensor]) -> Vec<Vec<Tensor>> {
    let mut last_step: HashMap<u64, (usize, Tensor)> = HashMap::new();
    for (step, tensor) in order.iter().rev().enumerate() {
        if let Origin::Op(grad_fn) = &*tensor.0.origin.lock() {
            for input in &grad_fn.inputs {
                if input.is_leaf() && input.requires_grad() {
                    last_step.insert(input.id(), (step, input.clone()));
                }
            }
        }
    }
    let mut ready_after = vec![Vec::new(); order.len()];
    let mut leaves: Vec<(usize, Tensor)> = last_step.into_values().collect();
    // The same order on every run of the same graph (the map's is not).
    leaves.sort_by_key(|(step, leaf)| (*step, leaf.id()));
    for (step, leaf) in leaves {
        ready_after[step].push(leaf);
    }
    ready_after
}

fn run_rule(grad_fn: &GradFn, grad: &Storage, pending: &mut HashMap<u64, Storage>) -> Result<()> {
    check_versions(grad_fn)?;
    let mut sink = GradSink {
        inputs: &grad_fn.inputs,
        pending,
    };
    grad_fn.backward.backward(grad, &mut sink)
}

/// Refuses to backpropagate through an op one of whose inputs was changed in place after the
/// op ran, as PyTorch does: the gradient would be computed at values the input no longer has.
fn check_versions(grad_fn: &GradFn) -> Result<()> {
    for (input, &recorded) in grad_fn.inputs.iter().zip(&grad_fn.versions) {
        let now = input.version();
        if now != recorded {
            return Err(Error::Autograd(format!(
                "backward: one of the tensors needed for gradient computation has been modified \
                 by an in-place operation: an input of {} of shape {:?} is at version {now}; \
                 expected version {recorded}. Change it out of place (`w = w - x`) or after \
                 backward()",
                grad_fn.backward.name(),
                input.shape()
            )));
        }
    }
    Ok(())
}

/// The non-leaf tensors that `root` depends on through tensors requiring grad, each after all
/// of its inputs (so reversed, each before its inputs). Iterative depth-first search.
fn topological_order(root: &Tensor) -> Result<Vec<Tensor>> {
    let mut order = Vec::new();
    let mut visited = HashSet::new();
    let mut stack = vec![(root.clone(), false)];
    while let Some((tensor, inputs_done)) = stack.pop() {
        if inputs_done {
            order.push(tensor);
            continue;
        }
        if !visited.insert(tensor.id()) {
            continue;
        }
        let origin = tensor.0.origin.lock();
        match &*origin {
            Origin::Op(grad_fn) => {
                let inputs: Vec<Tensor> = grad_fn
                    .inputs
                    .iter()
                    .filter(|t| t.requires_grad() && !visited.contains(&t.id()))
                    .cloned()
                    .collect();
                drop(origin);
                stack.push((tensor, true));
                stack.extend(inputs.into_iter().map(|t| (t, false)));
            }
            Origin::Released(name) => {
                return Err(Error::Autograd(format!(
                    "backward: trying to backward through the graph a second time (through \
                     {name}); its saved values were freed by the first backward. Pass \
                     retain_graph=True to the first call to keep them"
                )));
            }
            Origin::Leaf => {}
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::ops::binary::BinaryOp;

    fn leaf(values: &[f64]) -> Tensor {
        Tensor::new(
            Storage::from_f64_vec(DType::F64, &[values.len()], values.to_vec()).unwrap(),
            true,
        )
    }

    #[test]
    fn a_very_deep_chain_backpropagates_and_drops_without_recursion() {
        let x = leaf(&[1.0]);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = y.scalar_op(BinaryOp::Add, 1.0, false).unwrap();
        }
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![1.0]);
        // A second deep graph that is dropped without a backward pass.
        let mut z = x.clone();
        for _ in 0..100_000 {
            z = z.scalar_op(BinaryOp::Mul, 1.0, false).unwrap();
        }
        drop(z);
    }

    #[test]
    fn a_second_backward_needs_retain_graph() {
        let x = leaf(&[2.0]);
        let y = x.mul(&x).unwrap().sum(None, false).unwrap();
        y.backward(None, true).unwrap();
        y.backward(None, false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![8.0]);
        let message = y.backward(None, false).unwrap_err().to_string();
        assert!(message.contains("second time"), "{message}");
    }

    #[test]
    fn non_scalar_roots_need_a_gradient_and_untracked_tensors_refuse() {
        let x = leaf(&[1.0, 2.0]);
        let y = x.scalar_op(BinaryOp::Mul, 3.0, false).unwrap();
        assert!(y.backward(None, false).is_err());
        let g = Storage::from_f64_vec(DType::F64, &[2], vec![1.0, 10.0]).unwrap();
        y.backward(Some(g), false).unwrap();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![3.0, 30.0]);
        let untracked = x.detach();
        assert!(untracked.backward(None, false).is_err());
    }

    #[test]
    fn a_gradient_marked_zero_is_overwritten_or_read_as_zero() {
        // The kernel's gradient is written in place by the dense op (`add_with`), the input's
        // goes through reshape (`add`): both paths honour the mark.
        let x = leaf(&[1.0, 2.0]);
        let w = Tensor::new(
            Storage::from_f64_vec(DType::F64, &[2, 1], vec![3.0, 4.0]).unwrap(),
            true,
        );
        let step = || {
            crate::ops::linear::linear(
                &x.reshape(&[1, 2]).unwrap(),
                &w,
                None,
                crate::ops::activation::Activation::Linear,
            )
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap()
        };
        step();
        step();
        assert_eq!(w.grad().unwrap().to_f64_vec(), vec![2.0, 4.0]);
        w.zero_grad_in_place();
        step();
        assert_eq!(w.grad().unwrap().to_f64_vec(), vec![1.0, 2.0]);
        w.zero_grad_in_place();
        assert_eq!(w.grad().unwrap().to_f64_vec(), vec![0.0, 0.0]);
        step();
        assert_eq!(w.grad().unwrap().to_f64_vec(), vec![1.0, 2.0]);
        x.zero_grad_in_place();
        step();
        assert_eq!(x.grad().unwrap().to_f64_vec(), vec![3.0, 4.0]);
    }

    #[test]
    fn no_grad_records_nothing() {
        let x = leaf(&[1.0]);
        let y = {
            let _guard = no_grad();
            x.scalar_op(BinaryOp::Mul, 2.0, false).unwrap()
        };
        assert!(!y.requires_grad());
        assert!(y.is_leaf());
        assert!(x.mul(&x).unwrap().requires_grad());
    }
}

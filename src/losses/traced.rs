//! A loss written in Python (a function `(y_true, y_pred)` or a `Loss` subclass's `call`),
//! traced into a graph whose two inputs are the targets and the predictions and whose output
//! is the loss of each sample. It computes with the graph's ops, so its gradient comes from
//! them; it runs in the Rust loops like the built-in losses.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{ErasedLoss, Layout, Loss, Reduction, Targets};
use crate::error::{Error, Result};
use crate::nn::{Context, Graph};
use crate::ops::activation::Activation;
use crate::storage::Storage;
use crate::tensor::Tensor;

pub struct TracedLoss {
    graph: Arc<Graph>,
}

impl TracedLoss {
    /// The loss `graph` computes: two inputs (targets, predictions), one output.
    pub fn loss(graph: Arc<Graph>) -> Result<Loss> {
        if graph.input_shapes().len() != 2 || graph.outputs().len() != 1 {
            return Err(Error::value(format!(
                "a traced loss takes (y_true, y_pred) and returns one tensor; this graph takes \
                 {} input(s) and returns {}",
                graph.input_shapes().len(),
                graph.outputs().len()
            )));
        }
        Ok(Loss(Arc::new(TracedLoss { graph })))
    }

    fn compute(&self, y_true: &Tensor, y_pred: &Tensor, reduction: Reduction) -> Result<Tensor> {
        let y_true = if y_true.dtype() == y_pred.dtype() {
            y_true.clone()
        } else {
            y_true.astype(y_pred.dtype())?
        };
        // A loss draws nothing at random; the generator only completes the context.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: true,
            rng: &mut rng,
            packed_kernels: None,
        };
        let values = self.graph.forward(&[y_true, y_pred.clone()], &mut ctx)?;
        match reduction {
            Reduction::None => Ok(values),
            Reduction::Sum => values.sum(None, false),
            Reduction::SumOverBatchSize if values.numel() == 0 => {
                Ok(Tensor::scalar(0.0, values.dtype()))
            }
            Reduction::SumOverBatchSize => values.mean(None, false),
        }
    }
}

impl fmt::Debug for TracedLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TracedLoss")
    }
}

impl ErasedLoss for TracedLoss {
    fn name(&self) -> &'static str {
        "traced_loss"
    }

    fn expects_logits(&self) -> bool {
        false
    }

    fn targets(&self) -> Targets {
        Targets::SameShape
    }

    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// A Python loss sees the model's outputs as they are: it never fuses.
    fn fused_with(&self, _activation: &Activation) -> Option<Loss> {
        None
    }

    fn to_json(&self) -> Result<String> {
        Err(Error::value(
            "a loss written in Python has no JSON config; save the model with its loss given \
             again at compile, or register it with custom_objects",
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn eq_erased(&self, other: &dyn Any) -> bool {
        other
            .downcast_ref::<TracedLoss>()
            .is_some_and(|o| Arc::ptr_eq(&o.graph, &self.graph))
    }

    fn forward(
        &self,
        _y_true: &Storage,
        _y_pred: &Storage,
        _layout: &Layout,
        _reduction: Reduction,
        _want_grad: bool,
    ) -> Result<(Storage, Option<Storage>)> {
        Err(Error::value(
            "internal error: a traced loss computes through its graph, not a row kernel",
        ))
    }

    fn traced_compute(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        reduction: Reduction,
    ) -> Option<Result<Tensor>> {
        Some(self.compute(y_true, y_pred, reduction))
    }
}

//! Loss functions, each one fused and numerically stable autograd op.
//!
//! Every loss follows Keras 3: `loss(y_true, y_pred)`, one value per sample (the mean of an
//! elementwise term over the last axis, or a cross-entropy summed over it), and by default the
//! mean of those values over the batch (Keras's `"sum_over_batch_size"`). Probabilities are
//! clipped to `[1e-7, 1 - 1e-7]`; from logits, cross-entropies use the log-sum-exp and softplus
//! forms, so logits of any size give finite losses and gradients.
//!
//! The forward pass computes the loss and, when a backward pass will follow, the derivative of
//! each sample's loss with respect to `y_pred` in the same sweep; the backward rule only scales
//! it by the incoming gradient (for cross-entropy from logits, `softmax(z) - y` over the batch).
//!
//! Each loss is one file: its config (a serde struct), its `LossFunction` impl (the row kernel
//! and its fusion with an output activation) and its tests, registered by name with
//! `inventory::submit!`. Adding a loss is that file and one `mod` line here. `Loss` is the
//! type-erased handle the rest of the crate passes around; it dispatches once per batch, and
//! the kernels inside are monomorphised per loss and dtype.

mod backward;
pub(crate) mod config;
mod elementwise;
mod forward;
mod reduction;
#[cfg(test)]
mod testing;

mod binary_crossentropy;
mod categorical_crossentropy;
mod categorical_focal_crossentropy;
mod cosine_similarity;
mod hinge;
mod huber;
mod kl_divergence;
mod log_cosh;
mod mean_absolute_error;
mod mean_absolute_percentage_error;
mod mean_squared_error;
mod mean_squared_logarithmic_error;
mod poisson;
mod sparse_categorical_crossentropy;
mod squared_hinge;
mod traced;

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use binary_crossentropy::BinaryCrossentropy;
pub use categorical_crossentropy::CategoricalCrossentropy;
pub use categorical_focal_crossentropy::CategoricalFocalCrossentropy;
pub use cosine_similarity::CosineSimilarity;
pub use elementwise::EPSILON;
pub(crate) use forward::{contiguous, squeeze_or_expand};
pub use hinge::Hinge;
pub use huber::Huber;
pub use kl_divergence::KlDivergence;
pub use log_cosh::LogCosh;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_absolute_percentage_error::MeanAbsolutePercentageError;
pub use mean_squared_error::MeanSquaredError;
pub use mean_squared_logarithmic_error::MeanSquaredLogarithmicError;
pub use poisson::Poisson;
pub use reduction::Reduction;
pub use sparse_categorical_crossentropy::SparseCategoricalCrossentropy;
pub use squared_hinge::SquaredHinge;
pub use traced::TracedLoss;

use crate::autograd::{is_grad_enabled, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::ops::activation::Activation;
use crate::storage::Storage;
use crate::tensor::Tensor;
use backward::LossBackward;
use config::{Registry, split_config};
use forward::Layout;

/// What `y_true` holds, which decides how it must line up with `y_pred`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// One target per prediction, the shapes equal up to a trailing dimension of 1; a scalar
    /// is one sample of one value.
    SameShape,
    /// One-hot (or soft) labels of `y_pred`'s shape, which must have a class axis (its last).
    Classes,
    /// One integer class label per sample: `y_pred`'s shape without its class axis,
    /// optionally with a trailing 1.
    SparseLabels,
}

/// One block of consecutive samples for a loss's row kernel.
pub struct Rows<'a, T> {
    /// The targets, `cols` per sample (empty for `Targets::SparseLabels`).
    pub y_true: &'a [T],
    /// The class of each sample, checked to be in `[0, cols)` (`Targets::SparseLabels` only).
    pub labels: &'a [usize],
    /// The predictions, `cols` per sample.
    pub y_pred: &'a [T],
    /// The values per sample: the size of the last axis.
    pub cols: usize,
    /// Where each sample's loss goes.
    pub losses: &'a mut [T],
    /// Where the derivative of each sample's loss with respect to each prediction goes, when
    /// a backward pass will follow.
    pub grad: Option<&'a mut [T]>,
}

/// One loss function, implemented by its config struct (whose serde form is the JSON config
/// without its `"name"`; missing parameters take Keras's defaults).
///
/// Example: a loss of its own, registered and then found by name (the losses of this crate
/// do the same in their files).
///
/// ```
/// use ferrograd::dtype::Element;
/// use ferrograd::losses::{Loss, LossEntry, LossFunction, Rows};
/// use serde::{Deserialize, Serialize};
///
/// /// The sum of the errors of each sample.
/// #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct SumOfErrors {}
///
/// impl LossFunction for SumOfErrors {
///     const NAME: &'static str = "sum_of_errors";
///     fn rows<T: Element>(&self, rows: Rows<'_, T>) {
///         let Rows { y_true, y_pred, cols, losses, mut grad, .. } = rows;
///         for (r, loss) in losses.iter_mut().enumerate() {
///             let span = r * cols..(r + 1) * cols;
///             *loss = y_pred[span.clone()].iter().zip(&y_true[span.clone()]).map(|(&p, &t)| p - t).sum();
///             if let Some(grad) = grad.as_deref_mut() {
///                 grad[span].fill(T::one());
///             }
///         }
///     }
/// }
/// inventory::submit! { LossEntry::of::<SumOfErrors>() }
///
/// let loss = Loss::parse("sum_of_errors").unwrap();
/// assert_eq!(loss, Loss::from_json(r#"{"name": "sum_of_errors"}"#).unwrap());
/// ```
pub trait LossFunction:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The Keras snake_case name: the `"name"` of the JSON config.
    const NAME: &'static str;
    /// Other names `Loss::parse` accepts (`"mse"`).
    const ALIASES: &'static [&'static str] = &[];
    /// What `y_true` holds.
    const TARGETS: Targets = Targets::SameShape;

    /// Whether the loss expects logits rather than probabilities (`Loss::from_logits`).
    fn expects_logits(&self) -> bool {
        false
    }

    /// Checks the parameters, with an error naming the one that is wrong.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The equivalent loss on the pre-activation values when a model ends in `activation`,
    /// so that the training loop can fuse them; `None` when they do not fuse.
    fn fused_with(&self, _activation: &Activation) -> Option<Loss> {
        None
    }

    /// Writes each sample's loss and, when `rows.grad` is given, its derivative with respect
    /// to each prediction. Samples are independent: the caller may split a batch into blocks.
    fn rows<T: Element>(&self, rows: Rows<'_, T>);
}

/// A registered loss: its names and how to build it from the parameters of a config.
pub struct LossEntry {
    name: &'static str,
    aliases: &'static [&'static str],
    build: fn(serde_json::Map<String, serde_json::Value>) -> serde_json::Result<Loss>,
}

impl LossEntry {
    /// The entry of a loss type, for `inventory::submit!` in the loss's file.
    pub const fn of<L: LossFunction>() -> LossEntry {
        LossEntry {
            name: L::NAME,
            aliases: L::ALIASES,
            build: build::<L>,
        }
    }
}

fn build<L: LossFunction>(
    params: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Result<Loss> {
    serde_json::from_value::<L>(serde_json::Value::Object(params)).map(Loss::new)
}

inventory::collect!(LossEntry);

fn registry() -> Registry<'static, LossEntry> {
    Registry::new(
        "loss",
        inventory::iter::<LossEntry>.into_iter().collect(),
        |e| e.name,
        |e| e.aliases,
    )
}

/// A loss function and its parameters; serialised as `{"name": "binary_crossentropy",
/// "from_logits": true, "label_smoothing": 0.0}` (missing parameters take Keras's defaults).
/// Cloning shares the (immutable) loss.
#[derive(Clone)]
pub struct Loss(Arc<dyn ErasedLoss>);

impl Loss {
    /// The loss of a config struct (not validated: see `validate`).
    pub fn new<L: LossFunction>(loss: L) -> Loss {
        Loss(Arc::new(loss))
    }

    /// The loss of a Keras name or alias, with default parameters.
    pub fn parse(name: &str) -> Result<Loss> {
        let entry = registry().by_name_or_alias(name)?;
        (entry.build)(serde_json::Map::new())
            .map_err(|e| Error::value(format!("loss {name:?}: internal error: {e}")))
    }

    /// The loss of a JSON config such as `{"name": "binary_crossentropy", "from_logits": true}`
    /// (what `to_json` writes); unknown names and parameters are errors.
    pub fn from_json(json: &str) -> Result<Loss> {
        let (name, params) = split_config("loss", json)?;
        let entry = registry().by_config_name(&name, json)?;
        let loss = (entry.build)(params)
            .map_err(|e| Error::value(format!("invalid loss config {json}: {e}")))?;
        loss.validate()?;
        Ok(loss)
    }

    /// The JSON config, `"name"` first.
    pub fn to_json(&self) -> Result<String> {
        self.0.to_json()
    }

    /// The config struct, when the loss is an `L`.
    pub fn downcast_ref<L: LossFunction>(&self) -> Option<&L> {
        (*self.0).as_any().downcast_ref()
    }

    /// The Keras snake_case name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether the loss expects logits rather than probabilities.
    pub fn from_logits(&self) -> bool {
        self.0.expects_logits()
    }

    /// What `y_true` holds.
    pub fn targets(&self) -> Targets {
        self.0.targets()
    }

    /// Checks the parameters (`label_smoothing` in `[0, 1]`, `delta` positive, ...).
    pub fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    /// The equivalent loss on the pre-activation values when a model ends in `activation`, so
    /// that the training loop can fuse them: categorical and sparse categorical cross-entropy
    /// from probabilities after a softmax, and binary cross-entropy from probabilities after a
    /// sigmoid, become the same loss from logits. Otherwise `None`.
    pub fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        self.0.fused_with(activation)
    }

    /// Mean loss over the batch (Keras's "sum_over_batch_size"): a scalar tensor,
    /// differentiable with respect to `y_pred`; `y_true` is a constant.
    pub fn compute(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.compute_with(y_true, y_pred, Reduction::SumOverBatchSize)
    }

    /// The loss of every sample, of shape `y_pred.shape[:-1]` (what Keras's loss functions,
    /// as opposed to its loss classes, return).
    pub fn compute_per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.compute_with(y_true, y_pred, Reduction::None)
    }

    /// The loss reduced as `reduction` says. `y_true` is converted to `y_pred`'s dtype.
    pub fn compute_with(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        if let Some(result) = self.0.traced_compute(y_true, y_pred, reduction) {
            return result;
        }
        self.validate()?;
        let name = self.name();
        let pred = y_pred.data();
        let truth_data = y_true.data();
        let truth = if truth_data.dtype() == pred.dtype() {
            Cow::Borrowed(&*truth_data)
        } else {
            Cow::Owned(truth_data.astype(pred.dtype()))
        };
        let layout = Layout::new(name, self.targets(), truth.shape(), pred.shape())?;
        let want_grad = is_grad_enabled() && y_pred.requires_grad();
        let (output, local) = self
            .0
            .forward(&truth, &pred, &layout, reduction, want_grad)?;
        Ok(match local {
            Some(local) => record(output, &[y_pred], move |_| LossBackward {
                name,
                local: Arc::new(local),
                reduction,
                rows: layout.rows,
                cols: layout.cols,
            }),
            None => Tensor::new(output, false),
        })
    }
}

impl fmt::Debug for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for Loss {
    fn eq(&self, other: &Loss) -> bool {
        self.0.eq_erased((*other.0).as_any())
    }
}

impl Serialize for Loss {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let json = self.to_json().map_err(serde::ser::Error::custom)?;
        config::serialize_json(&json, serializer)
    }
}

impl<'de> Deserialize<'de> for Loss {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Loss, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Loss::from_json(&value.to_string()).map_err(serde::de::Error::custom)
    }
}

/// `LossFunction` with the generic parts erased, for `Loss`: one virtual call per batch.
trait ErasedLoss: fmt::Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn expects_logits(&self) -> bool;
    fn targets(&self) -> Targets;
    fn validate(&self) -> Result<()>;
    fn fused_with(&self, activation: &Activation) -> Option<Loss>;
    fn to_json(&self) -> Result<String>;
    fn as_any(&self) -> &dyn Any;
    fn eq_erased(&self, other: &dyn Any) -> bool;
    fn forward(
        &self,
        y_true: &Storage,
        y_pred: &Storage,
        layout: &Layout,
        reduction: Reduction,
        want_grad: bool,
    ) -> Result<(Storage, Option<Storage>)>;

    /// The loss of a traced Python loss, computed through its graph (`None` for the losses
    /// with row kernels).
    fn traced_compute(
        &self,
        _y_true: &Tensor,
        _y_pred: &Tensor,
        _reduction: Reduction,
    ) -> Option<Result<Tensor>> {
        None
    }
}

impl<L: LossFunction> ErasedLoss for L {
    fn name(&self) -> &'static str {
        L::NAME
    }

    fn expects_logits(&self) -> bool {
        LossFunction::expects_logits(self)
    }

    fn targets(&self) -> Targets {
        L::TARGETS
    }

    fn validate(&self) -> Result<()> {
        LossFunction::validate(self)
    }

    fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        LossFunction::fused_with(self, activation)
    }

    fn to_json(&self) -> Result<String> {
        config::to_json(L::NAME, self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn eq_erased(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<L>() == Some(self)
    }

    fn forward(
        &self,
        y_true: &Storage,
        y_pred: &Storage,
        layout: &Layout,
        reduction: Reduction,
        want_grad: bool,
    ) -> Result<(Storage, Option<Storage>)> {
        match (y_pred, y_true) {
            (Storage::F32(p), Storage::F32(t)) => {
                let (out, local) = forward::forward(self, t, p, layout, reduction, want_grad)?;
                Ok((
                    Storage::F32(out.into()),
                    local.map(|l| Storage::F32(l.into())),
                ))
            }
            (Storage::F64(p), Storage::F64(t)) => {
                let (out, local) = forward::forward(self, t, p, layout, reduction, want_grad)?;
                Ok((
                    Storage::F64(out.into()),
                    local.map(|l| Storage::F64(l.into())),
                ))
            }
            (p, t) => Err(Error::DTypeMismatch {
                op: L::NAME,
                expected: p.dtype(),
                received: t.dtype(),
            }),
        }
    }
}

/// Every registered name and alias, each canonical name followed by its aliases, for error
/// messages.
pub fn loss_names() -> Vec<&'static str> {
    registry().names()
}

#[cfg(test)]
mod tests;

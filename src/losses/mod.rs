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

mod kernels;

use std::borrow::Cow;
use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD, IxDyn};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

pub use kernels::EPSILON;
use kernels::Pointwise;

use crate::autograd::{Accumulate, Backward, GradSink, is_grad_enabled, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::{PARALLEL_MIN_ELEMENTS, par_chunks_mut};
use crate::ops::activation::Activation;
use crate::ops::unary::UnaryFn;
use crate::parallel;
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;

/// A loss function and its parameters; serialised as `{"name": "binary_crossentropy",
/// "from_logits": true, "label_smoothing": 0.0}` (missing parameters take Keras's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Loss {
    /// `mean((y_true - y_pred)**2)`.
    MeanSquaredError,
    /// `mean(abs(y_true - y_pred))`.
    MeanAbsoluteError,
    /// `-mean(y log p + (1 - y) log(1 - p))`, with `y` smoothed towards 0.5.
    BinaryCrossentropy {
        #[serde(default)]
        from_logits: bool,
        #[serde(default)]
        label_smoothing: f64,
    },
    /// `-sum(y log p)` over the class axis, for one-hot (or soft) labels.
    CategoricalCrossentropy {
        #[serde(default)]
        from_logits: bool,
        #[serde(default)]
        label_smoothing: f64,
    },
    /// `-log p[label]`, for integer class labels (given as floats).
    SparseCategoricalCrossentropy {
        #[serde(default)]
        from_logits: bool,
    },
    /// Quadratic for errors up to `delta`, linear beyond.
    Huber {
        #[serde(default = "default_delta")]
        delta: f64,
    },
}

fn default_delta() -> f64 {
    1.0
}

/// The names and aliases `Loss::parse` accepts, for error messages.
pub const LOSS_NAMES: &[&str] = &[
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "huber",
];

/// How the per-sample losses become the returned value (Keras's `reduction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Their mean: a scalar (Keras's default, `"sum_over_batch_size"`).
    SumOverBatchSize,
    /// Their sum: a scalar.
    Sum,
    /// The per-sample losses themselves, of shape `y_pred.shape[:-1]`.
    None,
}

impl Reduction {
    pub fn parse(name: &str) -> Result<Reduction> {
        match name {
            "sum_over_batch_size" | "mean" | "auto" => Ok(Reduction::SumOverBatchSize),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            other => Err(Error::value(format!(
                "unknown reduction {other:?}; expected 'sum_over_batch_size', 'sum' or 'none'"
            ))),
        }
    }
}

impl Loss {
    /// The loss of a Keras name or alias, with default parameters.
    pub fn parse(name: &str) -> Result<Loss> {
        Ok(match name {
            "mean_squared_error" | "mse" => Loss::MeanSquaredError,
            "mean_absolute_error" | "mae" => Loss::MeanAbsoluteError,
            "binary_crossentropy" | "bce" => Loss::BinaryCrossentropy {
                from_logits: false,
                label_smoothing: 0.0,
            },
            "categorical_crossentropy" => Loss::CategoricalCrossentropy {
                from_logits: false,
                label_smoothing: 0.0,
            },
            "sparse_categorical_crossentropy" => {
                Loss::SparseCategoricalCrossentropy { from_logits: false }
            }
            "huber" => Loss::Huber { delta: 1.0 },
            other => {
                return Err(Error::value(format!(
                    "unknown loss {other:?}; known losses: {}",
                    LOSS_NAMES.join(", ")
                )));
            }
        })
    }

    /// The loss of a JSON config such as `{"name": "binary_crossentropy", "from_logits": true}`
    /// (what `serde_json::to_string` writes); unknown names and parameters are errors.
    pub fn from_json(json: &str) -> Result<Loss> {
        let loss: Loss = from_json_config("loss", json)?;
        loss.validate()?;
        Ok(loss)
    }

    /// The Keras snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
            Loss::Huber { .. } => "huber",
        }
    }

    /// Whether the loss expects logits rather than probabilities.
    pub fn from_logits(&self) -> bool {
        match *self {
            Loss::BinaryCrossentropy { from_logits, .. }
            | Loss::CategoricalCrossentropy { from_logits, .. }
            | Loss::SparseCategoricalCrossentropy { from_logits } => from_logits,
            _ => false,
        }
    }

    /// Checks the parameters: `label_smoothing` in `[0, 1]`, `delta` positive.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Loss::BinaryCrossentropy {
                label_smoothing, ..
            }
            | Loss::CategoricalCrossentropy {
                label_smoothing, ..
            } if !(0.0..=1.0).contains(&label_smoothing) => Err(Error::value(format!(
                "{}: label_smoothing must be between 0 and 1, received label_smoothing={}",
                self.name(),
                label_smoothing
            ))),
            Loss::Huber { delta } if !(delta.is_finite() && delta > 0.0) => Err(Error::value(
                format!("huber: delta must be a positive number, received delta={delta}"),
            )),
            _ => Ok(()),
        }
    }

    /// The equivalent loss on the pre-activation values when a model ends in `activation`, so
    /// that the training loop can fuse them: categorical and sparse categorical cross-entropy
    /// from probabilities after a softmax, and binary cross-entropy from probabilities after a
    /// sigmoid, become the same loss from logits. Otherwise `None`.
    pub fn fused_with(&self, activation: &Activation) -> Option<Loss> {
        match (*self, activation) {
            (
                Loss::CategoricalCrossentropy {
                    from_logits: false,
                    label_smoothing,
                },
                Activation::Softmax,
            ) => Some(Loss::CategoricalCrossentropy {
                from_logits: true,
                label_smoothing,
            }),
            (Loss::SparseCategoricalCrossentropy { from_logits: false }, Activation::Softmax) => {
                Some(Loss::SparseCategoricalCrossentropy { from_logits: true })
            }
            (
                Loss::BinaryCrossentropy {
                    from_logits: false,
                    label_smoothing,
                },
                Activation::Elementwise(UnaryFn::Sigmoid),
            ) => Some(Loss::BinaryCrossentropy {
                from_logits: true,
                label_smoothing,
            }),
            _ => None,
        }
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
        self.validate()?;
        let pred = y_pred.data();
        let truth_data = y_true.data();
        let truth = if truth_data.dtype() == pred.dtype() {
            Cow::Borrowed(&*truth_data)
        } else {
            Cow::Owned(truth_data.astype(pred.dtype()))
        };
        let layout = self.layout(truth.shape(), pred.shape())?;
        let want_grad = is_grad_enabled() && y_pred.requires_grad();
        let (output, local) = match (&*pred, &*truth) {
            (Storage::F32(p), Storage::F32(t)) => {
                let (out, local) = self.forward(t, p, &layout, reduction, want_grad)?;
                (
                    Storage::F32(out.into()),
                    local.map(|l| Storage::F32(l.into())),
                )
            }
            (Storage::F64(p), Storage::F64(t)) => {
                let (out, local) = self.forward(t, p, &layout, reduction, want_grad)?;
                (
                    Storage::F64(out.into()),
                    local.map(|l| Storage::F64(l.into())),
                )
            }
            (p, t) => {
                return Err(Error::DTypeMismatch {
                    op: self.name(),
                    expected: p.dtype(),
                    received: t.dtype(),
                });
            }
        };
        Ok(match local {
            Some(local) => record(output, &[y_pred], move |_| LossBackward {
                name: self.name(),
                local: Arc::new(local),
                reduction,
                rows: layout.rows,
                cols: layout.cols,
            }),
            None => Tensor::new(output, false),
        })
    }

    /// How `y_true` and `y_pred` line up: `rows` samples of `cols` values each, after Keras's
    /// squeezing or expanding of a trailing dimension of 1.
    fn layout(&self, y_true: &[usize], y_pred: &[usize]) -> Result<Layout> {
        let op = self.name();
        let mismatch = |reason| Error::ShapeMismatch {
            op,
            lhs: y_true.to_vec(),
            rhs: y_pred.to_vec(),
            reason,
        };
        let (sample_shape, cols) = match self {
            Loss::SparseCategoricalCrossentropy { .. } => {
                let Some((&classes, sample_shape)) = y_pred.split_last() else {
                    return Err(Error::shape(
                        op,
                        "y_pred must have a class axis (its last), received a scalar",
                    ));
                };
                let labels = match y_true.split_last() {
                    Some((1, rest)) if y_true.len() == y_pred.len() => rest,
                    _ => y_true,
                };
                if labels != sample_shape {
                    return Err(mismatch(
                        "(y_true, y_pred) do not match: the labels must have the shape of y_pred \
                         without its class axis, optionally with a trailing 1",
                    ));
                }
                (sample_shape.to_vec(), classes)
            }
            _ => {
                let (t, p) = squeeze_or_expand(y_true, y_pred);
                if t != p {
                    return Err(mismatch(
                        "(y_true, y_pred) do not match: they must have the same shape, up to a \
                         trailing dimension of 1",
                    ));
                }
                match p.split_last() {
                    Some((&cols, sample_shape)) => (sample_shape.to_vec(), cols),
                    None if matches!(self, Loss::CategoricalCrossentropy { .. }) => {
                        return Err(Error::shape(
                            op,
                            "y_pred must have a class axis (its last), received a scalar",
                        ));
                    }
                    None => (Vec::new(), 1),
                }
            }
        };
        let rows = sample_shape.iter().product();
        if cols == 0 && rows > 0 {
            return Err(Error::shape(
                op,
                format!("the last axis of y_pred is empty (y_pred has shape {y_pred:?})"),
            ));
        }
        Ok(Layout {
            rows,
            cols,
            sample_shape,
        })
    }

    /// The reduced loss, and the derivative of each sample's loss with respect to `y_pred`
    /// when `want_grad`.
    fn forward<T: Element>(
        &self,
        y_true: &ArrayRefD<T>,
        y_pred: &ArrayRefD<T>,
        layout: &Layout,
        reduction: Reduction,
        want_grad: bool,
    ) -> Result<(ArrayD<T>, Option<ArrayD<T>>)> {
        let t = contiguous(y_true);
        let p = contiguous(y_pred);
        let mut grad = if want_grad {
            Some(try_zeros::<T>(y_pred.shape())?)
        } else {
            None
        };
        let grad_slice = match grad.as_mut() {
            Some(g) => Some(g.as_slice_mut().ok_or_else(|| {
                Error::Autograd(format!("{}: internal error, a fresh buffer", self.name()))
            })?),
            None => None,
        };
        let mut rows = try_zeros::<T>(&[layout.rows])?.into_raw_vec_and_offset().0;
        let cols = layout.cols;
        let labels = match self {
            Loss::SparseCategoricalCrossentropy { .. } => {
                sparse_labels(&t, cols, y_true.shape(), y_pred.shape())?
            }
            _ => Vec::new(),
        };
        let pointwise = match *self {
            Loss::MeanSquaredError => Pointwise::SquaredError,
            Loss::MeanAbsoluteError => Pointwise::AbsoluteError,
            Loss::Huber { delta } => Pointwise::Huber { delta },
            Loss::BinaryCrossentropy {
                from_logits: true,
                label_smoothing,
            } => Pointwise::BinaryLogits {
                smoothing: label_smoothing,
            },
            Loss::BinaryCrossentropy {
                label_smoothing, ..
            } => Pointwise::BinaryProbabilities {
                smoothing: label_smoothing,
            },
            // Not elementwise; unused.
            _ => Pointwise::SquaredError,
        };
        for_row_blocks(cols, &mut rows, grad_slice, |first, rows_out, grad| {
            let samples = first..first + rows_out.len();
            let values = samples.start * cols..samples.end * cols;
            let p = &p[values.clone()];
            match *self {
                Loss::CategoricalCrossentropy {
                    from_logits,
                    label_smoothing,
                } => kernels::categorical_rows(
                    from_logits,
                    label_smoothing,
                    &t[values],
                    p,
                    cols,
                    rows_out,
                    grad,
                ),
                Loss::SparseCategoricalCrossentropy { from_logits } => {
                    kernels::sparse_rows(from_logits, &labels[samples], p, cols, rows_out, grad)
                }
                _ => kernels::pointwise_rows(pointwise, &t[values], p, cols, rows_out, grad),
            }
        });
        let output = match reduction {
            Reduction::None => ArrayD::from_shape_vec(IxDyn(&layout.sample_shape), rows)
                .map_err(|e| Error::Autograd(format!("{}: internal error: {e}", self.name())))?,
            Reduction::Sum | Reduction::SumOverBatchSize => {
                let total: f64 = rows.iter().map(|v| v.as_f64()).sum();
                let value = match reduction {
                    Reduction::Sum => total,
                    // Keras divides with `divide_no_nan`: an empty batch has loss 0.
                    _ if layout.rows == 0 => 0.0,
                    _ => total / layout.rows as f64,
                };
                ArrayD::from_elem(IxDyn(&[]), T::of(value))
            }
        };
        Ok((output, grad))
    }
}

/// Runs `f(first_row, rows_out, grad)` over blocks of consecutive rows (`cols` values each),
/// spread over the thread pool when the data is large. Rows are independent and each block
/// writes only its own part of `rows_out` and `grad`, so the results do not depend on the
/// number of threads.
fn for_row_blocks<T: Element>(
    cols: usize,
    rows_out: &mut [T],
    grad: Option<&mut [T]>,
    f: impl Fn(usize, &mut [T], Option<&mut [T]>) + Sync,
) {
    let rows = rows_out.len();
    if rows.saturating_mul(cols) < PARALLEL_MIN_ELEMENTS || rows < 2 {
        f(0, rows_out, grad);
        return;
    }
    let block = (ELEMENTWISE_CHUNK / cols.max(1)).max(1);
    let mut grad_blocks: Vec<Option<&mut [T]>> = match grad {
        Some(g) => g.chunks_mut(block * cols).map(Some).collect(),
        None => Vec::new(),
    };
    grad_blocks.resize_with(rows.div_ceil(block), || None);
    let blocks: Vec<RowBlock<'_, T>> = rows_out
        .chunks_mut(block)
        .zip(grad_blocks)
        .map(Mutex::new)
        .collect();
    parallel::for_each_chunk(blocks.len(), |i| {
        // Each block is locked once, by the one task that owns it.
        let mut guard = blocks[i].lock();
        let (rows_out, grad) = &mut *guard;
        f(i * block, rows_out, grad.as_deref_mut());
    });
}

/// The per-row losses and gradient of one block of rows, for one task of the thread pool.
type RowBlock<'a, T> = Mutex<(&'a mut [T], Option<&'a mut [T]>)>;

/// Rows per block, for the thread pool: about as many values as an elementwise chunk.
const ELEMENTWISE_CHUNK: usize = 1 << 14;

struct Layout {
    /// The number of samples (the product of `sample_shape`).
    rows: usize,
    /// The values per sample: the size of the last axis.
    cols: usize,
    /// The shape of the per-sample losses.
    sample_shape: Vec<usize>,
}

/// Parses a `{"name": ..., parameters...}` config, refusing keys that the parsed value does
/// not have (serde ignores extra keys beside the tag of a unit variant).
pub(crate) fn from_json_config<T: Serialize + serde::de::DeserializeOwned>(
    what: &str,
    json: &str,
) -> Result<T> {
    let bad = |e: serde_json::Error| Error::value(format!("invalid {what} config {json}: {e}"));
    let given: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
    let parsed: T = serde_json::from_value(given.clone()).map_err(bad)?;
    let known = serde_json::to_value(&parsed).map_err(bad)?;
    if let (Some(given), Some(known)) = (given.as_object(), known.as_object())
        && let Some(extra) = given.keys().find(|k| !known.contains_key(*k))
    {
        return Err(Error::value(format!(
            "invalid {what} config {json}: unknown field {extra:?}"
        )));
    }
    Ok(parsed)
}

/// Keras's `squeeze_or_expand_to_same_rank(x1, x2)` on shapes: when the ranks differ by one and
/// the longer shape ends in 1, that 1 is dropped, or the shorter shape gains one if it has rank
/// 1 (so `(N,)` against `(N, 1)` gives `(N, 1)` for both).
pub(crate) fn squeeze_or_expand(x1: &[usize], x2: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut a, mut b) = (x1.to_vec(), x2.to_vec());
    if a.len() == b.len() + 1 && a.last() == Some(&1) {
        if b.len() == 1 {
            b.push(1);
        } else {
            a.pop();
        }
    } else if b.len() == a.len() + 1 && b.last() == Some(&1) {
        if a.len() == 1 {
            a.push(1);
        } else {
            b.pop();
        }
    }
    (a, b)
}

/// The values of an array in C order, borrowed when (as always for `Storage`) it is contiguous.
pub(crate) fn contiguous<T: Element>(a: &ArrayRefD<T>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// Sparse labels as class indices, each checked to be an integer in `[0, classes)`.
fn sparse_labels<T: Element>(
    labels: &[T],
    classes: usize,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> Result<Vec<usize>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            label
                .to_usize()
                .filter(|&k| k < classes && T::of(k as f64) == label)
                .ok_or_else(|| {
                    Error::value(format!(
                        "sparse_categorical_crossentropy: labels must be integers in [0, \
                         {classes}), the number of classes (the last dimension of y_pred, of \
                         shape {y_pred_shape:?}); received label {label} at position {i} of \
                         y_true (shape {y_true_shape:?})"
                    ))
                })
        })
        .collect()
}

/// The backward rule of every loss: the saved derivative of each sample's loss with respect to
/// `y_pred`, scaled by the incoming gradient of that sample's loss.
struct LossBackward {
    name: &'static str,
    local: Arc<Storage>,
    reduction: Reduction,
    rows: usize,
    cols: usize,
}

impl Backward for LossBackward {
    fn name(&self) -> &'static str {
        self.name
    }

    fn backward(&self, grad_output: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        grads.add_with(0, |buf, mode| match (buf, &*self.local, grad_output) {
            (Storage::F32(buf), Storage::F32(local), Storage::F32(g)) => {
                self.scale_into(buf, local, g, mode)
            }
            (Storage::F64(buf), Storage::F64(local), Storage::F64(g)) => {
                self.scale_into(buf, local, g, mode)
            }
            (buf, local, _) => Err(Error::DTypeMismatch {
                op: self.name,
                expected: local.dtype(),
                received: buf.dtype(),
            }),
        })
    }
}

impl LossBackward {
    fn scale_into<T: Element>(
        &self,
        buf: &mut ArrayRefD<T>,
        local: &ArrayRefD<T>,
        grad_output: &ArrayRefD<T>,
        mode: Accumulate,
    ) -> Result<()> {
        let g = contiguous(grad_output);
        let local = contiguous(local);
        let Some(buf) = buf.as_slice_mut() else {
            return Err(Error::Autograd(format!(
                "{}: internal error, a gradient buffer that is not contiguous",
                self.name
            )));
        };
        let write = |out: &mut [T], local: &[T], scale: T| match mode {
            Accumulate::Overwrite => {
                for (o, &l) in out.iter_mut().zip(local) {
                    *o = l * scale;
                }
            }
            Accumulate::Add => {
                for (o, &l) in out.iter_mut().zip(local) {
                    *o += l * scale;
                }
            }
        };
        match self.reduction {
            Reduction::None => {
                if g.len() != self.rows {
                    return Err(Error::Autograd(format!(
                        "{}: internal error, {} gradients for {} samples",
                        self.name,
                        g.len(),
                        self.rows
                    )));
                }
                if self.cols > 0 {
                    for ((out, local), &scale) in buf
                        .chunks_mut(self.cols)
                        .zip(local.chunks(self.cols))
                        .zip(g.iter())
                    {
                        write(out, local, scale);
                    }
                }
            }
            Reduction::Sum | Reduction::SumOverBatchSize => {
                let g0 = g.first().copied().unwrap_or_else(T::zero);
                let scale = match self.reduction {
                    Reduction::SumOverBatchSize if self.rows > 0 => g0 / T::of(self.rows as f64),
                    _ => g0,
                };
                par_chunks_mut(buf, |offset, out| {
                    write(out, &local[offset..offset + out.len()], scale)
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

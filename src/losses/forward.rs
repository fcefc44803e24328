//! The forward pass shared by every loss: how `y_true` lines up with `y_pred`, the sweep of a
//! loss's row kernel over blocks of samples (on the thread pool when the batch is large), and
//! the reduction of the per-sample losses.

use std::borrow::Cow;

use ndarray::{ArrayD, ArrayRefD, IxDyn};
use parking_lot::Mutex;

use super::{LossFunction, Reduction, Rows, Targets};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::PARALLEL_MIN_ELEMENTS;
use crate::parallel;
use crate::storage::try_zeros;

/// How `y_true` and `y_pred` line up: `rows` samples of `cols` values each, after Keras's
/// squeezing or expanding of a trailing dimension of 1.
pub(crate) struct Layout {
    /// The number of samples (the product of `sample_shape`).
    pub rows: usize,
    /// The values per sample: the size of the last axis.
    pub cols: usize,
    /// The shape of the per-sample losses.
    pub sample_shape: Vec<usize>,
}

impl Layout {
    /// The layout of targets of shape `y_true` for predictions of shape `y_pred`, for the loss
    /// `op` whose targets are `targets`.
    pub fn new(
        op: &'static str,
        targets: Targets,
        y_true: &[usize],
        y_pred: &[usize],
    ) -> Result<Layout> {
        let mismatch = |reason| Error::ShapeMismatch {
            op,
            lhs: y_true.to_vec(),
            rhs: y_pred.to_vec(),
            reason,
        };
        let no_class_axis = || {
            Error::shape(
                op,
                "y_pred must have a class axis (its last), received a scalar",
            )
        };
        let (sample_shape, cols) = match targets {
            Targets::SparseLabels => {
                let Some((&classes, sample_shape)) = y_pred.split_last() else {
                    return Err(no_class_axis());
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
            Targets::SameShape | Targets::Classes => {
                let (t, p) = squeeze_or_expand(y_true, y_pred);
                if t != p {
                    return Err(mismatch(
                        "(y_true, y_pred) do not match: they must have the same shape, up to a \
                         trailing dimension of 1",
                    ));
                }
                match p.split_last() {
                    Some((&cols, sample_shape)) => (sample_shape.to_vec(), cols),
                    None if targets == Targets::Classes => return Err(no_class_axis()),
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
}

/// The reduced loss, and the derivative of each sample's loss with respect to `y_pred`
/// when `want_grad`.
pub(crate) fn forward<L: LossFunction, T: Element>(
    loss: &L,
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
            Error::Autograd(format!("{}: internal error, a fresh buffer", L::NAME))
        })?),
        None => None,
    };
    let mut rows = try_zeros::<T>(&[layout.rows])?.into_raw_vec_and_offset().0;
    let cols = layout.cols;
    let sparse = L::TARGETS == Targets::SparseLabels;
    let labels = if sparse {
        sparse_labels(L::NAME, &t, cols, y_true.shape(), y_pred.shape())?
    } else {
        Vec::new()
    };
    for_row_blocks(cols, &mut rows, grad_slice, |first, losses, grad| {
        let samples = first..first + losses.len();
        let values = samples.start * cols..samples.end * cols;
        let (y_true, labels) = if sparse {
            (&[][..], &labels[samples])
        } else {
            (&t[values.clone()], &[][..])
        };
        loss.rows(Rows {
            y_true,
            labels,
            y_pred: &p[values],
            cols,
            losses,
            grad,
        });
    });
    let output = match reduction {
        Reduction::None => ArrayD::from_shape_vec(IxDyn(&layout.sample_shape), rows)
            .map_err(|e| Error::Autograd(format!("{}: internal error: {e}", L::NAME)))?,
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
    op: &str,
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
                        "{op}: labels must be integers in [0, {classes}), the number of classes \
                         (the last dimension of y_pred, of shape {y_pred_shape:?}); received \
                         label {label} at position {i} of y_true (shape {y_true_shape:?})"
                    ))
                })
        })
        .collect()
}

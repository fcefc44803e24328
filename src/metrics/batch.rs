//! `Batch`: one batch of labels and predictions as a metric's `update` sees it, with the shape
//! checks the metrics share.

use std::borrow::Cow;

use ndarray::ArrayRefD;

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::losses::{contiguous, squeeze_or_expand};

/// Labels (`U`, as the user gave them) and predictions (`T`, the model's dtype) in C order,
/// with their shapes and the name of the metric, for errors.
pub struct Batch<'a, U: Clone, T: Clone> {
    /// The metric's name, for errors.
    pub op: &'static str,
    pub y_true: Cow<'a, [U]>,
    pub y_pred: Cow<'a, [T]>,
    pub true_shape: &'a [usize],
    pub pred_shape: &'a [usize],
}

/// The reason of a shape mismatch between labels and predictions that must match.
pub(crate) const SAME_SHAPE: &str = "(y_true, y_pred) do not match: they must have the same \
                                     shape, up to a trailing dimension of 1";

impl<'a, U: Element, T: Element> Batch<'a, U, T> {
    pub fn new(op: &'static str, y_true: &'a ArrayRefD<U>, y_pred: &'a ArrayRefD<T>) -> Self {
        Batch {
            op,
            y_true: contiguous(y_true),
            y_pred: contiguous(y_pred),
            true_shape: y_true.shape(),
            pred_shape: y_pred.shape(),
        }
    }

    /// A `ShapeMismatch` naming both shapes.
    pub fn mismatch(&self, reason: &'static str) -> Error {
        Error::ShapeMismatch {
            op: self.op,
            lhs: self.true_shape.to_vec(),
            rhs: self.pred_shape.to_vec(),
            reason,
        }
    }

    /// The common shape of labels and predictions, which must be equal up to Keras's squeezing
    /// or expanding of a trailing dimension of 1.
    pub fn same_shape(&self) -> Result<Vec<usize>> {
        let (a, b) = squeeze_or_expand(self.true_shape, self.pred_shape);
        if a == b {
            Ok(a)
        } else {
            Err(self.mismatch(SAME_SHAPE))
        }
    }
}

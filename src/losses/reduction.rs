//! `Reduction`: how the per-sample losses of a batch become the value a loss returns.

use crate::error::{Error, Result};

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
    /// The reduction of a Keras name: `"sum_over_batch_size"` (or `"mean"`, `"auto"`), `"sum"`
    /// or `"none"`.
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

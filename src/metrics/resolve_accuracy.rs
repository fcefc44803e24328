//! Keras's rule for the metric names `"accuracy"` and `"acc"`, which mean binary, categorical
//! or sparse categorical accuracy depending on the shapes.

use super::{BinaryAccuracy, CategoricalAccuracy, MetricKind, SparseCategoricalAccuracy};
use crate::losses::{BinaryCrossentropy, Loss};

/// Binary accuracy when the predictions' last dimension is 1; sparse categorical accuracy when
/// the labels have a lower rank than the predictions, or a last dimension of 1 against several
/// classes; categorical otherwise.
///
/// Example: `resolve_accuracy(&[32], &[32, 10])` is sparse categorical accuracy.
pub fn resolve_accuracy(y_true_shape: &[usize], y_pred_shape: &[usize]) -> MetricKind {
    let last = |shape: &[usize]| shape.last().copied().unwrap_or(1);
    let (true_last, pred_last) = (last(y_true_shape), last(y_pred_shape));
    if pred_last == 1 {
        MetricKind::new(BinaryAccuracy { threshold: 0.5 })
    } else if y_true_shape.len() < y_pred_shape.len() || (true_last == 1 && pred_last > 1) {
        MetricKind::new(SparseCategoricalAccuracy {})
    } else {
        MetricKind::new(CategoricalAccuracy {})
    }
}

/// `resolve_accuracy`, except that binary cross-entropy always means binary accuracy (as in
/// tf.keras 2, for multi-label models whose outputs have several sigmoids).
pub fn resolve_accuracy_for_loss(
    loss: Option<&Loss>,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> MetricKind {
    match loss {
        Some(loss) if loss.downcast_ref::<BinaryCrossentropy>().is_some() => {
            MetricKind::new(BinaryAccuracy { threshold: 0.5 })
        }
        _ => resolve_accuracy(y_true_shape, y_pred_shape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_keras() {
        let binary = MetricKind::new(BinaryAccuracy { threshold: 0.5 });
        let sparse = MetricKind::new(SparseCategoricalAccuracy {});
        let categorical = MetricKind::new(CategoricalAccuracy {});
        assert_eq!(resolve_accuracy(&[32, 1], &[32, 1]), binary);
        assert_eq!(resolve_accuracy(&[32], &[32, 1]), binary);
        assert_eq!(resolve_accuracy(&[32], &[32, 10]), sparse);
        assert_eq!(resolve_accuracy(&[32, 1], &[32, 10]), sparse);
        assert_eq!(resolve_accuracy(&[32, 10], &[32, 10]), categorical);
        assert_eq!(resolve_accuracy(&[32, 5], &[32, 5, 10]), sparse);
        assert_eq!(resolve_accuracy(&[], &[]), binary);
        let bce = Loss::new(BinaryCrossentropy::default());
        assert_eq!(
            resolve_accuracy_for_loss(Some(&bce), &[32, 5], &[32, 5]),
            binary
        );
        assert_eq!(
            resolve_accuracy_for_loss(None, &[32, 5], &[32, 5]),
            categorical
        );
    }
}

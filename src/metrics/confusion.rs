//! `Confusion`: the counts at one threshold that precision and recall accumulate.

use super::batch::Batch;
use crate::dtype::Element;
use crate::error::Result;

/// True positives, false positives and false negatives: a label is positive when non-zero
/// (Keras casts it to bool), a prediction when greater than the threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Confusion {
    pub true_positives: f64,
    pub false_positives: f64,
    pub false_negatives: f64,
}

impl Confusion {
    /// Counts a batch at `threshold` (compared in the predictions' dtype, as Keras does).
    pub fn add<U: Element, T: Element>(
        &mut self,
        batch: &Batch<'_, U, T>,
        threshold: f64,
    ) -> Result<()> {
        batch.same_shape()?;
        let threshold = T::of(threshold);
        let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
        for (&t, &p) in batch.y_true.iter().zip(batch.y_pred.iter()) {
            match (t != U::zero(), p > threshold) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                (false, false) => {}
            }
        }
        self.true_positives += tp as f64;
        self.false_positives += fp as f64;
        self.false_negatives += fneg as f64;
        Ok(())
    }

    pub fn reset(&mut self) {
        *self = Confusion::default();
    }
}

impl super::summed_state::SummedState for Confusion {
    fn sums(&self) -> Vec<f64> {
        vec![
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        ]
    }

    fn set_sums(&mut self, sums: &[f64]) -> usize {
        self.true_positives = sums[0];
        self.false_positives = sums[1];
        self.false_negatives = sums[2];
        3
    }
}

//! `Mean`: the state of Keras's mean metrics (the accuracies and the mean errors), the sum of
//! per-sample values and the number of samples.

/// The sum of per-sample values and the number of samples seen.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mean {
    total: f64,
    count: f64,
}

impl Mean {
    /// Adds values of shape `shape` summing to `sum`: each sample (along the first axis)
    /// contributes the mean of its values, and counts once; a scalar counts as one sample.
    pub fn add_samplewise(&mut self, shape: &[usize], sum: f64) {
        match shape.split_first() {
            None => {
                self.total += sum;
                self.count += 1.0;
            }
            Some((&samples, rest)) => {
                let per_sample: usize = rest.iter().product();
                if samples > 0 && per_sample > 0 {
                    self.total += sum / per_sample as f64;
                    self.count += samples as f64;
                }
            }
        }
    }

    /// The mean, 0 before any sample.
    pub fn result(&self) -> f64 {
        super::divide_no_nan(self.total, self.count)
    }

    pub fn reset(&mut self) {
        *self = Mean::default();
    }
}

/// Adds the mean errors of a batch, `error(y_true, y_pred)` averaged over the last axis of
/// each sample (Keras's loss function as a metric).
pub(crate) fn add_mean_error<U: crate::dtype::Element, T: crate::dtype::Element>(
    mean: &mut Mean,
    batch: &super::Batch<'_, U, T>,
    error: impl Fn(f64, f64) -> f64,
) -> crate::error::Result<()> {
    let shape = batch.same_shape()?;
    let sum: f64 = batch
        .y_true
        .iter()
        .zip(batch.y_pred.iter())
        .map(|(&t, &p)| error(t.as_f64(), p.as_f64()))
        .sum();
    match shape.split_last() {
        Some((&cols, samples)) if cols > 0 => mean.add_samplewise(samples, sum / cols as f64),
        Some(_) => {}
        None => mean.add_samplewise(&[], sum),
    }
    Ok(())
}

/// The index of the first largest value (numpy's `argmax`).
pub(crate) fn argmax<T: crate::dtype::Element>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    best
}

impl super::summed_state::SummedState for Mean {
    fn sums(&self) -> Vec<f64> {
        vec![self.total, self.count]
    }

    fn set_sums(&mut self, sums: &[f64]) -> usize {
        (self.total, self.count) = (sums[0], sums[1]);
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sample_counts_once_with_the_mean_of_its_values() {
        let mut mean = Mean::default();
        assert_eq!(mean.result(), 0.0);
        mean.add_samplewise(&[2, 3], 3.0); // two samples of three values
        mean.add_samplewise(&[], 1.0); // one scalar sample
        assert_eq!(mean.result(), (1.0 + 1.0) / 3.0);
        mean.add_samplewise(&[0, 3], 0.0);
        mean.add_samplewise(&[4, 0], 0.0);
        assert_eq!(mean.result(), 2.0 / 3.0);
        mean.reset();
        assert_eq!(mean, Mean::default());
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    }
}

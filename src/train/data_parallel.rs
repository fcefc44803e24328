//! The steps of `fit` that make several processes train as one (`Hooks::collective`): the
//! generator shared from process 0, the gradient reduction between backward and the update,
//! and the agreement on whether every process still has a batch.
//!
//! Each process's loss is the mean over its own rows (Keras's "sum_over_batch_size", with or
//! without sample weights), so its gradient is `g_p = (1/n_p) Σ_own`. The update a single
//! process makes on the global batch of `N = Σ n_p` rows uses `(1/N) Σ_all = Σ_p (n_p/N) g_p`:
//! each process scales its gradients by `n_p` while packing them into one bucket, one sum
//! across processes adds the buckets (with `n_p` and the loss sums beside them, in a second
//! buffer), and each process divides by the global `N` while unpacking. Weight penalties,
//! added to every process's loss, come out once (`Σ_p n_p/N = 1`). A process whose share of a
//! last partial batch is empty contributes zeros.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::collective::{Collective, SumBuffer};
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// One step's totals over every process: rows, the mean loss, each output's mean loss and
/// the summed metric states.
pub(super) struct GlobalStep {
    pub rows: usize,
    pub loss: f64,
    pub output_losses: Vec<f64>,
    pub metric_sums: Vec<f64>,
}

/// The buffers the reduction packs into, kept from step to step (no allocation per batch once
/// they have grown).
#[derive(Default)]
pub(super) struct GradientReduction {
    bucket_f32: Vec<f32>,
    bucket_f64: Vec<f64>,
    sums: Vec<f64>,
}

impl GradientReduction {
    /// Replaces the gradients of `trainable` (this process's, from its `rows` rows) with the
    /// global batch's, and returns the step's global loss and the sums of `metric_sums` (this
    /// process's metric states) over every process. Every process calls it once per step,
    /// with the same weights in the same order.
    pub fn reduce(
        &mut self,
        collective: &mut dyn Collective,
        trainable: &[Tensor],
        rows: usize,
        loss: f64,
        output_losses: &[f64],
        metric_sums: &[f64],
    ) -> Result<GlobalStep> {
        // A weight this process computed no gradient for (an empty share) gets zeros, so that
        // every process packs the same buffers.
        let grads = trainable
            .iter()
            .map(|weight| match weight.grad() {
                Some(grad) => Ok(grad),
                None => {
                    let zeros = Tensor::new(Storage::zeros(weight.dtype(), weight.shape())?, false);
                    weight.set_grad(Some(zeros.clone()))?;
                    Ok(zeros)
                }
            })
            .collect::<Result<Vec<Tensor>>>()?;
        let own = rows as f64;
        self.sums.clear();
        self.sums.push(own);
        // An empty share has no loss (its NaN mean must not poison the sum).
        let weighted = |value: f64| if rows == 0 { 0.0 } else { value * own };
        self.sums.push(weighted(loss));
        self.sums
            .extend(output_losses.iter().map(|&value| weighted(value)));
        self.sums.extend_from_slice(metric_sums);
        self.bucket_f32.clear();
        self.bucket_f64.clear();
        for grad in &grads {
            match &*grad.data() {
                Storage::F32(values) => {
                    let scale = own as f32;
                    self.bucket_f32.extend(values.iter().map(|g| g * scale));
                }
                Storage::F64(values) => self.bucket_f64.extend(values.iter().map(|g| g * own)),
            }
        }
        {
            let mut buffers = vec![SumBuffer::F64(&mut self.sums)];
            if !self.bucket_f32.is_empty() {
                buffers.push(SumBuffer::F32(&mut self.bucket_f32));
            }
            if !self.bucket_f64.is_empty() {
                buffers.push(SumBuffer::F64(&mut self.bucket_f64));
            }
            collective.sum_in_place(&mut buffers)?;
        }
        let total = self.sums[0];
        if total < 1.0 {
            return Err(Error::value(
                "fit: a global batch had no rows on any process",
            ));
        }
        let (mut at_f32, mut at_f64) = (0, 0);
        for grad in &grads {
            grad.with_data_mut(|storage| match storage {
                Storage::F32(values) => {
                    let n = total as f32;
                    for (value, sum) in values.iter_mut().zip(&self.bucket_f32[at_f32..]) {
                        *value = sum / n;
                    }
                    at_f32 += values.len();
                }
                Storage::F64(values) => {
                    for (value, sum) in values.iter_mut().zip(&self.bucket_f64[at_f64..]) {
                        *value = sum / total;
                    }
                    at_f64 += values.len();
                }
            });
        }
        Ok(GlobalStep {
            rows: total as usize,
            loss: self.sums[1] / total,
            output_losses: self.sums[2..2 + output_losses.len()]
                .iter()
                .map(|sum| sum / total)
                .collect(),
            metric_sums: self.sums[2 + output_losses.len()..].to_vec(),
        })
    }
}

/// Makes `rng` process 0's generator on every process, so that every process shuffles the
/// rows the same way whatever its own seed.
pub(super) fn share_generator(collective: &mut dyn Collective, rng: &mut ChaCha8Rng) -> Result<()> {
    let mut bytes = [0u8; 56];
    bytes[..32].copy_from_slice(&rng.get_seed());
    bytes[32..40].copy_from_slice(&rng.get_stream().to_le_bytes());
    bytes[40..].copy_from_slice(&rng.get_word_pos().to_le_bytes());
    collective.broadcast_bytes(&mut bytes)?;
    let seed: [u8; 32] = bytes[..32].try_into().expect("32 bytes");
    let stream = u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes"));
    let word_pos = u128::from_le_bytes(bytes[40..].try_into().expect("16 bytes"));
    let mut shared = ChaCha8Rng::from_seed(seed);
    shared.set_stream(stream);
    shared.set_word_pos(word_pos);
    *rng = shared;
    Ok(())
}

/// A generator of this process's own for dropout and other per-row randomness, derived from
/// the shared one without drawing from it (so the shared shuffles stay those of a single
/// process): its stream, counted down from the last, is the process's index.
pub(super) fn process_generator(shared: &ChaCha8Rng, index: usize) -> ChaCha8Rng {
    let mut own = shared.clone();
    own.set_stream(u64::MAX - index as u64);
    own
}

/// Whether every process has a batch this step (streams: each process reads its own shard,
/// whose length is known only at its end). When one has run out, all end the epoch together.
pub(super) fn every_process_has_batch(collective: &mut dyn Collective, has: bool) -> Result<bool> {
    let mut count = [f64::from(u8::from(has))];
    collective.sum_in_place(&mut [SumBuffer::F64(&mut count)])?;
    Ok(count[0] as usize == collective.process_count())
}

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

use std::collections::HashMap;

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

/// The most gradient values a bucket holds (a weight bigger than this has a bucket of its
/// own): small enough that the last layers' gradients are summed while backward still runs
/// through the first layers, large enough that each sum is worth its call.
const BUCKET_VALUES: usize = 1 << 16;

/// Consecutive trainable weights (in backward's order: the last layers first) whose gradients
/// are summed together, and the buffer they are packed into.
struct Bucket {
    /// Indices into the trainable weights.
    weights: Vec<usize>,
    values_f32: Vec<f32>,
    values_f64: Vec<f64>,
}

/// The buckets and buffers of the reduction, made once per set of trainable weights and kept
/// from step to step (no allocation per batch once the buffers have grown).
#[derive(Default)]
pub(super) struct GradientReduction {
    /// The ids of the trainable weights the buckets were made for.
    planned_for: Vec<u64>,
    buckets: Vec<Bucket>,
    /// The bucket of each trainable weight.
    bucket_of: Vec<usize>,
    sums: Vec<f64>,
}

impl GradientReduction {
    /// Starts a step's reduction over `trainable`, for a process that computed its gradients
    /// from `rows` rows. Buckets are summed as backward finishes their gradients
    /// (`StepReduction::ready`), always in the same order, then `finish` completes the step.
    /// `layers[i]` names the layer of `trainable[i]`: a layer's weights stay in one bucket,
    /// since backward finishes them together.
    pub fn begin<'r>(
        &'r mut self,
        collective: &'r mut dyn Collective,
        trainable: &'r [Tensor],
        layers: &[String],
        rows: usize,
    ) -> StepReduction<'r> {
        let ids: Vec<u64> = trainable.iter().map(Tensor::id).collect();
        if ids != self.planned_for {
            self.plan(trainable, layers);
            self.planned_for = ids;
        }
        let index_of = trainable
            .iter()
            .enumerate()
            .map(|(index, weight)| (weight.id(), index))
            .collect();
        let waiting = self.buckets.iter().map(|b| b.weights.len()).collect();
        StepReduction {
            ready: vec![false; trainable.len()],
            waiting,
            started: 0,
            index_of,
            rows,
            reduction: self,
            collective,
            trainable,
        }
    }

    /// Cuts the trainable weights, last layer first, into buckets of one dtype and at most
    /// `BUCKET_VALUES` values (or one layer), a layer's weights in one bucket.
    fn plan(&mut self, trainable: &[Tensor], layers: &[String]) {
        self.buckets.clear();
        self.bucket_of = vec![0; trainable.len()];
        let mut size = 0;
        for (index, weight) in trainable.iter().enumerate().rev() {
            // The layer's values still to come (its weights are consecutive).
            let layer_values: usize = (0..=index)
                .rev()
                .take_while(|&i| layers.get(i) == layers.get(index))
                .map(|i| trainable[i].numel())
                .sum();
            let same_layer_as_last =
                index + 1 < trainable.len() && layers.get(index + 1) == layers.get(index);
            let fits = self.buckets.last().is_some_and(|bucket| {
                trainable[bucket.weights[0]].dtype() == weight.dtype()
                    && (same_layer_as_last || size + layer_values <= BUCKET_VALUES)
            });
            if !fits {
                self.buckets.push(Bucket {
                    weights: Vec::new(),
                    values_f32: Vec::new(),
                    values_f64: Vec::new(),
                });
                size = 0;
            }
            size += weight.numel();
            let last = self.buckets.len() - 1;
            self.buckets[last].weights.push(index);
            self.bucket_of[index] = last;
        }
    }
}

/// One step's reduction in progress.
pub(super) struct StepReduction<'r> {
    reduction: &'r mut GradientReduction,
    collective: &'r mut dyn Collective,
    trainable: &'r [Tensor],
    index_of: HashMap<u64, usize>,
    /// Whether each trainable weight's gradient is final.
    ready: Vec<bool>,
    /// Per bucket, how many of its weights are not final yet.
    waiting: Vec<usize>,
    /// The buckets started so far: always the first ones, in order.
    started: usize,
    rows: usize,
}

impl StepReduction<'_> {
    /// Backward has finished `leaf`'s gradient: starts summing every bucket, in order, whose
    /// gradients are all final.
    pub fn ready(&mut self, leaf: &Tensor) -> Result<()> {
        let Some(&index) = self.index_of.get(&leaf.id()) else {
            return Ok(());
        };
        if !std::mem::replace(&mut self.ready[index], true) {
            self.waiting[self.reduction.bucket_of[index]] -= 1;
        }
        let started = self.started;
        self.start_ready_buckets()?;
        if started > 0 && self.started == started {
            // Nothing new to start: move the sums already started while backward runs on.
            self.collective.progress()?;
        }
        Ok(())
    }

    fn start_ready_buckets(&mut self) -> Result<()> {
        while self.started < self.waiting.len() && self.waiting[self.started] == 0 {
            self.start_bucket(self.started)?;
            self.started += 1;
        }
        Ok(())
    }

    /// Packs bucket `b`'s gradients, scaled by this process's rows, and starts their sum.
    fn start_bucket(&mut self, b: usize) -> Result<()> {
        let own = self.rows as f64;
        let bucket = &mut self.reduction.buckets[b];
        bucket.values_f32.clear();
        bucket.values_f64.clear();
        for &index in &bucket.weights {
            let weight = &self.trainable[index];
            // A weight this process computed no gradient for (an empty share, a weight the
            // loss does not reach) gets zeros, so that every process packs the same buffers.
            let grad = match weight.grad() {
                Some(grad) => grad,
                None => {
                    let zeros = Tensor::new(Storage::zeros(weight.dtype(), weight.shape())?, false);
                    weight.set_grad(Some(zeros.clone()))?;
                    zeros
                }
            };
            match &*grad.data() {
                Storage::F32(values) => {
                    let scale = own as f32;
                    bucket.values_f32.extend(values.iter().map(|g| g * scale));
                }
                Storage::F64(values) => bucket.values_f64.extend(values.iter().map(|g| g * own)),
            }
        }
        let buffer = if bucket.values_f64.is_empty() {
            SumBuffer::F32(&mut bucket.values_f32)
        } else {
            SumBuffer::F64(&mut bucket.values_f64)
        };
        // SAFETY: the bucket's buffer is neither touched nor reallocated until `finish` has
        // waited for the sums (buckets are refilled only at the next step).
        unsafe { self.collective.start_sum(buffer) }
    }

    /// Completes the step: sums the buckets not started yet (weights backward did not reach),
    /// then this process's rows, loss sums and `metric_sums`; waits for every sum and
    /// replaces each gradient by the global batch's. Returns the step's global totals.
    pub fn finish(
        mut self,
        loss: f64,
        output_losses: &[f64],
        metric_sums: &[f64],
    ) -> Result<GlobalStep> {
        for waiting in &mut self.waiting {
            *waiting = 0;
        }
        self.start_ready_buckets()?;
        let rows = self.rows;
        let own = rows as f64;
        let sums = &mut self.reduction.sums;
        sums.clear();
        sums.push(own);
        // An empty share has no loss (its NaN mean must not poison the sum).
        let weighted = |value: f64| if rows == 0 { 0.0 } else { value * own };
        sums.push(weighted(loss));
        sums.extend(output_losses.iter().map(|&value| weighted(value)));
        sums.extend_from_slice(metric_sums);
        // SAFETY: `sums` is left alone until `wait_sums` returns.
        unsafe { self.collective.start_sum(SumBuffer::F64(sums))? };
        self.collective.wait_sums()?;
        let sums = &self.reduction.sums;
        let total = sums[0];
        if total < 1.0 {
            return Err(Error::value(
                "fit: a global batch had no rows on any process",
            ));
        }
        for bucket in &self.reduction.buckets {
            let (mut at_f32, mut at_f64) = (0, 0);
            for &index in &bucket.weights {
                let Some(grad) = self.trainable[index].grad() else {
                    continue;
                };
                grad.with_data_mut(|storage| match storage {
                    Storage::F32(values) => {
                        let n = total as f32;
                        for (value, sum) in values.iter_mut().zip(&bucket.values_f32[at_f32..]) {
                            *value = sum / n;
                        }
                        at_f32 += values.len();
                    }
                    Storage::F64(values) => {
                        for (value, sum) in values.iter_mut().zip(&bucket.values_f64[at_f64..]) {
                            *value = sum / total;
                        }
                        at_f64 += values.len();
                    }
                });
            }
        }
        let losses_end = 2 + output_losses.len();
        Ok(GlobalStep {
            rows: total as usize,
            loss: sums[1] / total,
            output_losses: sums[2..losses_end].iter().map(|sum| sum / total).collect(),
            metric_sums: sums[losses_end..].to_vec(),
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

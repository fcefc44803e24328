//! Tensors made from nothing: constants, ranges and random draws (from the seeded generator).

use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::rng::with_rng;
use crate::storage::{Storage, checked_numel};
use crate::tensor::Tensor;

/// Draws `shape` values from `sample`, in C order: with the global generator, or with a
/// generator of their own seeded by `seed` (Keras's `seed=` argument: the same seed gives the
/// same values whatever the global stream).
fn draw<T: Element>(
    shape: &[usize],
    seed: Option<u64>,
    mut sample: impl FnMut(&mut rand_chacha::ChaCha8Rng) -> f64,
) -> Result<ArrayD<T>> {
    let numel = checked_numel(shape, T::DTYPE)?;
    let mut values = Vec::new();
    values
        .try_reserve_exact(numel)
        .map_err(|_| Error::OutOfMemory(format!("cannot allocate a tensor of shape {shape:?}")))?;
    let mut fill = |rng: &mut rand_chacha::ChaCha8Rng| {
        values.extend((0..numel).map(|_| T::of(sample(rng))));
    };
    match seed {
        Some(seed) => fill(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed)),
        None => with_rng(fill),
    }
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| Error::value(e.to_string()))
}

fn random(
    shape: &[usize],
    dtype: DType,
    sample: impl FnMut(&mut rand_chacha::ChaCha8Rng) -> f64,
) -> Result<Tensor> {
    random_seeded(shape, dtype, None, sample)
}

fn random_seeded(
    shape: &[usize],
    dtype: DType,
    seed: Option<u64>,
    sample: impl FnMut(&mut rand_chacha::ChaCha8Rng) -> f64,
) -> Result<Tensor> {
    let storage = match dtype {
        DType::F32 => Storage::F32(draw(shape, seed, sample)?.into()),
        DType::F64 => Storage::F64(draw(shape, seed, sample)?.into()),
    };
    Ok(Tensor::new(storage, false))
}

/// The distributions `ferrograd.random` draws from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RandomDistribution {
    Normal {
        mean: f64,
        stddev: f64,
    },
    /// In `[low, high)`.
    Uniform {
        low: f64,
        high: f64,
    },
    /// Normal, redrawn outside two standard deviations.
    TruncatedNormal {
        mean: f64,
        stddev: f64,
    },
}

/// Samples of `distribution`, from the global generator or from one seeded by `seed`.
pub fn sample(
    distribution: RandomDistribution,
    shape: &[usize],
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    match distribution {
        RandomDistribution::Normal { mean, stddev }
        | RandomDistribution::TruncatedNormal { mean, stddev }
            if !(mean.is_finite() && stddev.is_finite() && stddev >= 0.0) =>
        {
            Err(Error::value(format!(
                "random: expected a finite mean and a non-negative stddev, received \
                 mean={mean}, stddev={stddev}"
            )))
        }
        RandomDistribution::Uniform { low, high }
            if !(low.is_finite() && high.is_finite() && low < high) =>
        {
            Err(Error::value(format!(
                "random: expected finite bounds with minval < maxval, received minval={low}, \
                 maxval={high}"
            )))
        }
        RandomDistribution::Normal { mean, stddev } => random_seeded(shape, dtype, seed, |rng| {
            let z: f64 = StandardNormal.sample(rng);
            mean + stddev * z
        }),
        RandomDistribution::Uniform { low, high } => random_seeded(shape, dtype, seed, |rng| {
            low + (high - low) * rng.random::<f64>()
        }),
        RandomDistribution::TruncatedNormal { mean, stddev } => {
            random_seeded(shape, dtype, seed, |rng| {
                loop {
                    let z: f64 = StandardNormal.sample(rng);
                    if z.abs() <= 2.0 {
                        break mean + stddev * z;
                    }
                }
            })
        }
    }
}

/// A seed drawn from the global generator (for a `SeedGenerator` made without one), so that
/// it too follows `set_seed`.
pub fn draw_seed() -> u64 {
    with_rng(|rng| rng.random::<u64>())
}

/// Standard normal samples.
pub fn randn(shape: &[usize], dtype: DType) -> Result<Tensor> {
    random(shape, dtype, |rng| StandardNormal.sample(rng))
}

/// Uniform samples in `[low, high)`.
pub fn uniform(shape: &[usize], low: f64, high: f64, dtype: DType) -> Result<Tensor> {
    if !(low.is_finite() && high.is_finite() && low < high) {
        return Err(Error::value(format!(
            "uniform: expected finite bounds with low < high, received low={low}, high={high}"
        )));
    }
    random(shape, dtype, |rng| low + (high - low) * rng.random::<f64>())
}

/// Normal samples with the given mean and standard deviation.
pub fn normal(shape: &[usize], mean: f64, stddev: f64, dtype: DType) -> Result<Tensor> {
    if !(mean.is_finite() && stddev.is_finite() && stddev >= 0.0) {
        return Err(Error::value(format!(
            "normal: expected a finite mean and a non-negative stddev, received mean={mean}, stddev={stddev}"
        )));
    }
    random(shape, dtype, |rng| {
        let z: f64 = StandardNormal.sample(rng);
        mean + stddev * z
    })
}

/// Normal samples redrawn until they lie within two standard deviations (Keras's
/// `TruncatedNormal`, used by the variance-scaling initializers).
pub fn truncated_normal(shape: &[usize], mean: f64, stddev: f64, dtype: DType) -> Result<Tensor> {
    if !(mean.is_finite() && stddev.is_finite() && stddev >= 0.0) {
        return Err(Error::value(format!(
            "truncated_normal: expected a finite mean and a non-negative stddev, received mean={mean}, stddev={stddev}"
        )));
    }
    random(shape, dtype, |rng| {
        loop {
            let z: f64 = StandardNormal.sample(rng);
            if z.abs() <= 2.0 {
                break mean + stddev * z;
            }
        }
    })
}

/// `start, start + step, ...` below `stop` (numpy's `arange`).
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Tensor> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(Error::value(format!(
            "arange: expected finite bounds and a nonzero step, received start={start}, stop={stop}, step={step}"
        )));
    }
    let count = ((stop - start) / step).ceil().max(0.0);
    if count > (isize::MAX as f64) / 8.0 {
        return Err(Error::OutOfMemory(format!(
            "arange: {count} elements are too many"
        )));
    }
    let count = count as usize;
    let storage = match dtype {
        DType::F32 => Storage::F32(range_values(start, step, count)?.into()),
        DType::F64 => Storage::F64(range_values(start, step, count)?.into()),
    };
    Ok(Tensor::new(storage, false))
}

/// `start + i * step` for `i` in `0..count`, failing cleanly when the memory cannot be had
/// (collecting into a `Vec` would abort the process instead).
fn range_values<T: Element>(start: f64, step: f64, count: usize) -> Result<ArrayD<T>> {
    let mut values = Vec::new();
    values.try_reserve_exact(count).map_err(|_| {
        Error::OutOfMemory(format!(
            "arange: cannot allocate {count} elements of {}",
            T::DTYPE
        ))
    })?;
    values.extend((0..count).map(|i| T::of(start + i as f64 * step)));
    ArrayD::from_shape_vec(IxDyn(&[count]), values).map_err(|e| Error::value(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arange_follows_numpy() {
        let values = |t: Tensor| t.to_f64_vec();
        assert_eq!(
            values(arange(0.0, 3.0, 1.0, DType::F32).unwrap()),
            vec![0.0, 1.0, 2.0]
        );
        assert_eq!(
            values(arange(1.0, 0.0, -0.25, DType::F64).unwrap()),
            vec![1.0, 0.75, 0.5, 0.25]
        );
        assert!(values(arange(3.0, 0.0, 1.0, DType::F64).unwrap()).is_empty());
        assert!(arange(0.0, 1.0, 0.0, DType::F64).is_err());
    }

    #[test]
    fn an_arange_too_large_to_allocate_is_an_error_not_an_abort() {
        let error = arange(0.0, 1e17, 1.0, DType::F64).unwrap_err();
        assert!(matches!(error, Error::OutOfMemory(_)), "{error}");
    }
}

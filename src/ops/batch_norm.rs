//! Batch normalisation in training mode, over every axis but the last (the features), fused:
//! `y = gamma * (x - mean) / sqrt(var + epsilon) + beta` with the batch's own mean and (biased)
//! variance. Inference mode is plain broadcasting arithmetic on the moving statistics.

use std::sync::Arc;

use ndarray::{Array1, ArrayD, ArrayRefD, IxDyn};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The normalised output and the batch statistics (mean, variance), per feature.
pub struct BatchStatistics {
    pub output: Tensor,
    pub mean: Storage,
    pub variance: Storage,
}

pub fn batch_norm_train(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    epsilon: f64,
) -> Result<BatchStatistics> {
    let features = *x.shape().last().ok_or_else(|| {
        Error::shape(
            "batch_normalization",
            "the input needs at least one dimension",
        )
    })?;
    if x.numel() == 0 {
        return Err(Error::shape(
            "batch_normalization",
            format!("cannot normalise an empty batch of shape {:?}", x.shape()),
        ));
    }
    for p in [gamma, beta].into_iter().flatten() {
        if p.shape() != [features] || p.dtype() != x.dtype() {
            return Err(Error::ShapeMismatch {
                op: "batch_normalization",
                lhs: x.shape().to_vec(),
                rhs: p.shape().to_vec(),
                reason: "do not fit: gamma and beta need one value per feature (last axis)",
            });
        }
    }
    let data = x.data();
    let gamma_data = gamma.map(Tensor::data);
    let beta_data = beta.map(Tensor::data);
    let (out, saved, mean, variance) = match &*data {
        Storage::F32(a) => {
            let r = forward(a, typed(&gamma_data)?, typed(&beta_data)?, epsilon)?;
            (
                Storage::F32(r.0.into()),
                (Storage::F32(r.1.into()), Storage::F32(r.2.into())),
                Storage::F32(r.3.into()),
                Storage::F32(r.4.into()),
            )
        }
        Storage::F64(a) => {
            let r = forward(a, typed(&gamma_data)?, typed(&beta_data)?, epsilon)?;
            (
                Storage::F64(r.0.into()),
                (Storage::F64(r.1.into()), Storage::F64(r.2.into())),
                Storage::F64(r.3.into()),
                Storage::F64(r.4.into()),
            )
        }
    };
    let mut inputs = vec![x];
    inputs.extend(gamma);
    inputs.extend(beta);
    let (normalized, inv_std) = (Arc::new(saved.0), Arc::new(saved.1));
    let output = record(out, &inputs, |_| BatchNormBackward {
        normalized,
        inv_std,
        gamma: gamma_data,
        has_gamma: gamma.is_some(),
        has_beta: beta.is_some(),
    });
    Ok(BatchStatistics {
        output,
        mean,
        variance,
    })
}

fn typed<T: Element>(s: &Option<Arc<Storage>>) -> Result<Option<&ArrayRefD<T>>> {
    s.as_deref().map(Storage::typed::<T>).transpose()
}

type Forward<T> = (ArrayD<T>, ArrayD<T>, ArrayD<T>, ArrayD<T>, ArrayD<T>);

/// Returns (output, normalised x, 1/std, mean, variance).
fn forward<T: Element>(
    x: &ArrayRefD<T>,
    gamma: Option<&ArrayRefD<T>>,
    beta: Option<&ArrayRefD<T>>,
    epsilon: f64,
) -> Result<Forward<T>> {
    let features = x.shape()[x.ndim() - 1];
    let xs = x
        .as_slice()
        .ok_or_else(|| Error::value("batch_normalization: not contiguous"))?;
    let rows = xs.len() / features;
    let count = T::of(rows as f64);
    let mut mean = Array1::<T>::zeros(features);
    for row in xs.chunks_exact(features) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.mapv_inplace(|m| m / count);
    let mut variance = Array1::<T>::zeros(features);
    for row in xs.chunks_exact(features) {
        for ((s, &v), &m) in variance.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    variance.mapv_inplace(|s| s / count);
    let inv_std = variance.mapv(|v| T::one() / (v + T::of(epsilon)).sqrt());
    let mut normalized = x.to_owned();
    let mut out = x.to_owned();
    let ns = normalized
        .as_slice_mut()
        .ok_or_else(|| Error::value("not contiguous"))?;
    let os = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("not contiguous"))?;
    for (n_row, o_row) in ns
        .chunks_exact_mut(features)
        .zip(os.chunks_exact_mut(features))
    {
        for j in 0..features {
            let n = (n_row[j] - mean[j]) * inv_std[j];
            n_row[j] = n;
            let scaled = gamma.map_or(n, |g| g[j] * n);
            o_row[j] = beta.map_or(scaled, |b| scaled + b[j]);
        }
    }
    let dyn1 = |a: Array1<T>| a.into_dyn();
    Ok((out, normalized, dyn1(inv_std), dyn1(mean), dyn1(variance)))
}

struct BatchNormBackward {
    normalized: Arc<Storage>,
    inv_std: Arc<Storage>,
    gamma: Option<Arc<Storage>>,
    has_gamma: bool,
    has_beta: bool,
}

impl Backward for BatchNormBackward {
    fn name(&self) -> &'static str {
        "batch_normalization"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        match grad {
            Storage::F32(g) => self.backward_typed::<f32>(g, grads),
            Storage::F64(g) => self.backward_typed::<f64>(g, grads),
        }
    }
}

impl BatchNormBackward {
    fn backward_typed<T: Element>(&self, g: &ArrayRefD<T>, grads: &mut GradSink<'_>) -> Result<()> {
        let xhat = self.normalized.typed::<T>()?;
        let inv_std = self.inv_std.typed::<T>()?;
        let gamma = self.gamma.as_deref().map(Storage::typed::<T>).transpose()?;
        let features = inv_std.len();
        let gs = g.as_slice().ok_or_else(|| Error::value("not contiguous"))?;
        let xs = xhat
            .as_slice()
            .ok_or_else(|| Error::value("not contiguous"))?;
        let rows = gs.len() / features;
        // Per feature: sum(dy) and sum(dy * xhat), the two reductions every gradient needs.
        let mut sum_dy = vec![T::zero(); features];
        let mut sum_dy_xhat = vec![T::zero(); features];
        for (g_row, x_row) in gs.chunks_exact(features).zip(xs.chunks_exact(features)) {
            for j in 0..features {
                sum_dy[j] += g_row[j];
                sum_dy_xhat[j] += g_row[j] * x_row[j];
            }
        }
        if grads.wants(0) {
            // dx = gamma * inv_std / N * (N * dy - sum(dy) - xhat * sum(dy * xhat))
            let n = T::of(rows as f64);
            let mut dx = g.to_owned();
            let ds = dx
                .as_slice_mut()
                .ok_or_else(|| Error::value("not contiguous"))?;
            for (d_row, x_row) in ds.chunks_exact_mut(features).zip(xs.chunks_exact(features)) {
                for j in 0..features {
                    let scale = gamma.map_or(T::one(), |g| g[j]) * inv_std[j] / n;
                    d_row[j] = scale * (n * d_row[j] - sum_dy[j] - x_row[j] * sum_dy_xhat[j]);
                }
            }
            grads.add(0, T::into_storage(dx))?;
        }
        let features_shape = IxDyn(&[features]);
        let mut next = 1;
        if self.has_gamma {
            let dgamma = ArrayD::from_shape_vec(features_shape.clone(), sum_dy_xhat)
                .map_err(|e| Error::value(e.to_string()))?;
            grads.add(next, T::into_storage(dgamma))?;
            next += 1;
        }
        if self.has_beta {
            let dbeta = ArrayD::from_shape_vec(features_shape, sum_dy)
                .map_err(|e| Error::value(e.to_string()))?;
            grads.add(next, T::into_storage(dbeta))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn output_is_normalised() {
        let x = randn(&[64, 3], 1);
        let stats = batch_norm_train(&x, None, None, 0.0).unwrap();
        let y = stats.output.to_f64_vec();
        for j in 0..3 {
            let column: Vec<f64> = y.iter().skip(j).step_by(3).copied().collect();
            let mean = column.iter().sum::<f64>() / 64.0;
            let var = column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 64.0;
            assert!(
                mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-9,
                "{mean} {var}"
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(
            &[randn(&[5, 2, 3], 1), randn(&[3], 2), randn(&[3], 3)],
            |t| {
                batch_norm_train(&t[0], Some(&t[1]), Some(&t[2]), 1e-3)
                    .unwrap()
                    .output
            },
        );
        check_gradients(&[randn(&[6, 4], 4)], |t| {
            batch_norm_train(&t[0], None, None, 1e-3).unwrap().output
        });
    }
}

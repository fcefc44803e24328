//! Fused scaled dot-product attention: `softmax(mask(scale * q @ kᵀ)) @ v` as one node.
//!
//! The inputs keep the layout the projections give, so nothing is transposed: `query` is
//! (batch, T, heads, D), `key` (batch, S, heads, D) and `value` (batch, S, heads, Dv); the output
//! is (batch, T, heads, Dv). Each (batch, head) pair is one chunk of the thread pool, computed
//! whole by one thread, so results are the same bits on any thread count.
//!
//! Memory: the forward pass keeps one (T, S) matrix per head, the probabilities, which the
//! backward pass needs anyway (and which `return_attention_scores` hands out without a copy).
//! Dropout's mask is not kept: it is drawn again in the backward pass from the same seed (one
//! ChaCha stream per head). The softmax backward is fused with the product backward, so the
//! score gradient lives only in a per-head scratch matrix.
//!
//! Masking follows Keras 3: a masked score is left out of the softmax (probability zero); a row
//! with every score masked gets the uniform distribution (what Keras's `dot_product_attention`
//! and `Attention` give) or zeros (Keras's masked `Softmax` layer), as the caller asks.

use std::sync::Arc;

use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::SharedMut;
use crate::parallel;
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;

/// What a row whose scores are all masked attends to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullyMaskedRows {
    /// Nothing: the row's probabilities are all zero (Keras's masked `Softmax`).
    Zero,
    /// Every position equally (Keras's `dot_product_attention`, and `Attention`, whose masked
    /// scores all shift by -1e9).
    Uniform,
}

/// The settings of one attention call besides its three inputs.
#[derive(Clone, Debug)]
pub struct AttentionSettings {
    /// The factor the scores are multiplied by (`1 / sqrt(D)` in `MultiHeadAttention`).
    pub scale: f64,
    /// Which (query, key) pairs may attend, (batch, T, S); `None`: all.
    pub mask: Option<Arc<Array3<bool>>>,
    /// Query rows whose output is zero, (batch, T); `None`: none. The probabilities are kept.
    pub query_mask: Option<Arc<Array2<bool>>>,
    pub fully_masked_rows: FullyMaskedRows,
    /// The dropout rate on the probabilities (0 for none, or at inference).
    pub dropout: f64,
    /// The seed of the dropout draws (one stream per (batch, head)).
    pub seed: u64,
}

impl AttentionSettings {
    pub fn new(scale: f64) -> AttentionSettings {
        AttentionSettings {
            scale,
            mask: None,
            query_mask: None,
            fully_masked_rows: FullyMaskedRows::Zero,
            dropout: 0.0,
            seed: 0,
        }
    }
}

/// The sizes of one call.
#[derive(Clone, Copy, Debug)]
struct Dims {
    batch: usize,
    queries: usize,
    keys: usize,
    heads: usize,
    key_dim: usize,
    value_dim: usize,
}

impl Dims {
    fn of(query: &[usize], key: &[usize], value: &[usize]) -> Result<Dims> {
        let shapes = || format!("query {query:?}, key {key:?}, value {value:?}");
        let (&[b, t, h, d], &[kb, s, kh, kd], &[vb, vs, vh, dv]) = (query, key, value) else {
            return Err(Error::shape(
                "attention",
                format!(
                    "query, key and value must be 4-D (batch, time, heads, features), received {}",
                    shapes()
                ),
            ));
        };
        if kb != b || vb != b {
            return Err(Error::shape(
                "attention",
                format!("the batch sizes differ: {}", shapes()),
            ));
        }
        if kh != h || vh != h {
            return Err(Error::shape(
                "attention",
                format!("the numbers of heads differ: {}", shapes()),
            ));
        }
        if kd != d {
            return Err(Error::shape(
                "attention",
                format!(
                    "query and key must have the same feature size, received {}",
                    shapes()
                ),
            ));
        }
        if vs != s {
            return Err(Error::shape(
                "attention",
                format!(
                    "key and value must have the same length (axis 1), received {}",
                    shapes()
                ),
            ));
        }
        Ok(Dims {
            batch: b,
            queries: t,
            keys: s,
            heads: h,
            key_dim: d,
            value_dim: dv,
        })
    }

    fn score_len(&self) -> usize {
        self.queries * self.keys
    }
}

/// Attention over (batch, time, heads, features) inputs; returns the output (batch, T, heads,
/// Dv) and the probabilities (batch, heads, T, S) before dropout. The probabilities carry no
/// gradient.
pub fn attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    settings: &AttentionSettings,
) -> Result<(Tensor, Tensor)> {
    let dims = Dims::of(query.shape(), key.shape(), value.shape())?;
    if query.dtype() != key.dtype() || query.dtype() != value.dtype() {
        return Err(Error::DTypeMismatch {
            op: "attention",
            expected: query.dtype(),
            received: if key.dtype() != query.dtype() {
                key.dtype()
            } else {
                value.dtype()
            },
        });
    }
    if !(0.0..1.0).contains(&settings.dropout) {
        return Err(Error::value(format!(
            "attention: dropout must be in [0, 1), received {}",
            settings.dropout
        )));
    }
    if let Some(mask) = &settings.mask {
        let expected = [dims.batch, dims.queries, dims.keys];
        if mask.shape() != expected {
            return Err(Error::shape(
                "attention",
                format!(
                    "the attention mask must have shape (batch, T, S) = {expected:?}, received \
                     {:?}",
                    mask.shape()
                ),
            ));
        }
    }
    if let Some(mask) = &settings.query_mask {
        let expected = [dims.batch, dims.queries];
        if mask.shape() != expected {
            return Err(Error::shape(
                "attention",
                format!(
                    "the query mask must have shape (batch, T) = {expected:?}, received {:?}",
                    mask.shape()
                ),
            ));
        }
    }
    let (q, k, v) = (query.data(), key.data(), value.data());
    let (output, probabilities) = match (&*q, &*k, &*v) {
        (Storage::F32(q), Storage::F32(k), Storage::F32(v)) => {
            let (o, p) = forward(dims, settings, slice(q)?, slice(k)?, slice(v)?)?;
            (Storage::from_array(o), Storage::from_array(p))
        }
        (Storage::F64(q), Storage::F64(k), Storage::F64(v)) => {
            let (o, p) = forward(dims, settings, slice(q)?, slice(k)?, slice(v)?)?;
            (Storage::from_array(o), Storage::from_array(p))
        }
        _ => unreachable!("dtypes checked above"),
    };
    let probabilities = Arc::new(probabilities);
    let output = record(output, &[query, key, value], |_| AttentionBackward {
        dims,
        settings: settings.clone(),
        query: q.clone(),
        key: k.clone(),
        value: v.clone(),
        probabilities: probabilities.clone(),
    });
    Ok((output, Tensor::from_shared(probabilities, false)))
}

fn slice<T: Element>(a: &ndarray::ArrayRefD<T>) -> Result<&[T]> {
    a.as_slice()
        .ok_or_else(|| Error::value("attention: internal error: an input is not contiguous"))
}

/// The pointer offsets of one (batch, head) pair's rows in each tensor.
struct HeadView {
    batch: usize,
    query: usize,
    key: usize,
    value: usize,
    output: usize,
    scores: usize,
}

impl HeadView {
    fn of(dims: &Dims, pair: usize) -> HeadView {
        let (batch, head) = (pair / dims.heads, pair % dims.heads);
        let Dims {
            queries: t,
            keys: s,
            heads: h,
            key_dim: d,
            value_dim: dv,
            ..
        } = *dims;
        HeadView {
            batch,
            query: batch * t * h * d + head * d,
            key: batch * s * h * d + head * d,
            value: batch * s * h * dv + head * dv,
            output: batch * t * h * dv + head * dv,
            scores: pair * t * s,
        }
    }
}

/// The keep-scale of every probability of one head (0 or `1 / (1 - rate)`), drawn from the
/// head's own stream: the same in the forward and the backward pass.
fn dropout_scales<T: Element>(settings: &AttentionSettings, pair: usize, out: &mut [T]) {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    rng.set_stream(pair as u64);
    let keep_below = ((1.0 - settings.dropout) * 4_294_967_296.0) as u64;
    let scale = T::of(1.0 / (1.0 - settings.dropout));
    for value in out.iter_mut() {
        *value = if u64::from(rng.next_u32()) < keep_below {
            scale
        } else {
            T::zero()
        };
    }
}

fn forward<T: Element>(
    dims: Dims,
    settings: &AttentionSettings,
    q: &[T],
    k: &[T],
    v: &[T],
) -> Result<(ndarray::ArrayD<T>, ndarray::ArrayD<T>)> {
    let Dims {
        batch: b,
        queries: t,
        keys: s,
        heads: h,
        key_dim: d,
        value_dim: dv,
    } = dims;
    let mut output = try_zeros::<T>(&[b, t, h, dv])?;
    let mut probabilities = try_zeros::<T>(&[b, h, t, s])?;
    let out_ptr = SharedMut(output.as_mut_ptr());
    let prob_ptr = SharedMut(probabilities.as_mut_ptr());
    let scale = T::of(settings.scale);
    parallel::for_each_chunk(b * h, |pair| {
        let view = HeadView::of(&dims, pair);
        // SAFETY: each pair owns its (T, S) block of the probabilities.
        let p = unsafe { std::slice::from_raw_parts_mut(prob_ptr.get().add(view.scores), t * s) };
        // SAFETY: the views lie inside `q`, `k` and the probabilities (shapes checked).
        unsafe {
            T::gemm_raw(
                t,
                d,
                s,
                scale,
                q.as_ptr().add(view.query),
                (h * d) as isize,
                1,
                k.as_ptr().add(view.key),
                1,
                (h * d) as isize,
                T::zero(),
                p.as_mut_ptr(),
                s as isize,
                1,
            );
        }
        for (row, scores) in p.chunks_exact_mut(s).enumerate() {
            let allowed = settings
                .mask
                .as_ref()
                .map(|m| m.slice(ndarray::s![view.batch, row, ..]));
            masked_softmax(scores, allowed.as_ref(), settings.fully_masked_rows);
        }
        let mut dropped;
        let weights: &[T] = if settings.dropout > 0.0 {
            dropped = vec![T::zero(); t * s];
            dropout_scales(settings, pair, &mut dropped);
            for (w, &p) in dropped.iter_mut().zip(p.iter()) {
                *w *= p;
            }
            &dropped
        } else {
            p
        };
        // SAFETY: the pair writes only its own (T, Dv) block of the output (strided rows).
        unsafe {
            T::gemm_raw(
                t,
                s,
                dv,
                T::one(),
                weights.as_ptr(),
                s as isize,
                1,
                v.as_ptr().add(view.value),
                (h * dv) as isize,
                1,
                T::zero(),
                out_ptr.get().add(view.output),
                (h * dv) as isize,
                1,
            );
        }
        if let Some(query_mask) = &settings.query_mask {
            for row in 0..t {
                if !query_mask[[view.batch, row]] {
                    for j in 0..dv {
                        // SAFETY: inside the pair's own block.
                        unsafe { *out_ptr.get().add(view.output + row * h * dv + j) = T::zero() };
                    }
                }
            }
        }
    });
    Ok((output, probabilities))
}

/// Softmax of one row of scores over the allowed positions, in place; masked positions get 0.
fn masked_softmax<T: Element>(
    scores: &mut [T],
    allowed: Option<&ndarray::ArrayView1<bool>>,
    fully_masked: FullyMaskedRows,
) {
    let Some(allowed) = allowed else {
        softmax_row(scores);
        return;
    };
    let mut max = T::neg_infinity();
    for (&x, &ok) in scores.iter().zip(allowed.iter()) {
        if ok {
            max = max.max(x);
        }
    }
    if max == T::neg_infinity() {
        let fill = match fully_masked {
            FullyMaskedRows::Zero => T::zero(),
            FullyMaskedRows::Uniform => T::one() / T::of(scores.len() as f64),
        };
        scores.fill(fill);
        return;
    }
    let mut total = T::zero();
    for (x, &ok) in scores.iter_mut().zip(allowed.iter()) {
        *x = if ok { (*x - max).exp() } else { T::zero() };
        total += *x;
    }
    let inverse = T::one() / total;
    scores.iter_mut().for_each(|x| *x *= inverse);
}

fn softmax_row<T: Element>(scores: &mut [T]) {
    let max = scores.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
    let mut total = T::zero();
    for x in scores.iter_mut() {
        *x = (*x - max).exp();
        total += *x;
    }
    let inverse = T::one() / total;
    scores.iter_mut().for_each(|x| *x *= inverse);
}

struct AttentionBackward {
    dims: Dims,
    settings: AttentionSettings,
    query: Arc<Storage>,
    key: Arc<Storage>,
    value: Arc<Storage>,
    probabilities: Arc<Storage>,
}

impl Backward for AttentionBackward {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let [dq, dk, dv] = match (
            grad,
            &*self.query,
            &*self.key,
            &*self.value,
            &*self.probabilities,
        ) {
            (
                Storage::F32(g),
                Storage::F32(q),
                Storage::F32(k),
                Storage::F32(v),
                Storage::F32(p),
            ) => backward(
                self.dims,
                &self.settings,
                [slice(g)?, slice(q)?, slice(k)?, slice(v)?, slice(p)?],
            )?
            .map(Storage::from_array),
            (
                Storage::F64(g),
                Storage::F64(q),
                Storage::F64(k),
                Storage::F64(v),
                Storage::F64(p),
            ) => backward(
                self.dims,
                &self.settings,
                [slice(g)?, slice(q)?, slice(k)?, slice(v)?, slice(p)?],
            )?
            .map(Storage::from_array),
            _ => {
                return Err(Error::Autograd(
                    "attention: dtype mismatch in backward".into(),
                ));
            }
        };
        grads.add(0, dq)?;
        grads.add(1, dk)?;
        grads.add(2, dv)
    }
}

/// The gradients of query, key and value from the output's gradient `g`:
/// `dV = Pdᵀ g`, `dPd = g Vᵀ`, `dP = dPd * keep`, `dS = P * (dP - rowsum(dP * P))`,
/// `dQ = scale * dS K`, `dK = scale * dSᵀ Q`.
fn backward<T: Element>(
    dims: Dims,
    settings: &AttentionSettings,
    [g, q, k, v, p]: [&[T]; 5],
) -> Result<[ndarray::ArrayD<T>; 3]> {
    let Dims {
        batch: b,
        queries: t,
        keys: s,
        heads: h,
        key_dim: d,
        value_dim: dv,
    } = dims;
    let mut dq = try_zeros::<T>(&[b, t, h, d])?;
    let mut dk = try_zeros::<T>(&[b, s, h, d])?;
    let mut dval = try_zeros::<T>(&[b, s, h, dv])?;
    let (dq_ptr, dk_ptr, dv_ptr) = (
        SharedMut(dq.as_mut_ptr()),
        SharedMut(dk.as_mut_ptr()),
        SharedMut(dval.as_mut_ptr()),
    );
    let scale = T::of(settings.scale);
    let score_len = dims.score_len();
    parallel::for_each_chunk(b * h, |pair| {
        let view = HeadView::of(&dims, pair);
        let probs = &p[view.scores..view.scores + score_len];
        // The output gradient with masked query rows zeroed (their output was set to zero).
        let mut grad_rows;
        let (g_ptr, g_stride) = match &settings.query_mask {
            Some(query_mask) => {
                grad_rows = vec![T::zero(); t * dv];
                for row in 0..t {
                    if query_mask[[view.batch, row]] {
                        let start = view.output + row * h * dv;
                        grad_rows[row * dv..(row + 1) * dv].copy_from_slice(&g[start..start + dv]);
                    }
                }
                (grad_rows.as_ptr(), dv as isize)
            }
            // SAFETY: in bounds (the output's shape).
            None => (unsafe { g.as_ptr().add(view.output) }, (h * dv) as isize),
        };
        // dPd = g Vᵀ, (T, S).
        let mut ds = vec![T::zero(); score_len];
        // SAFETY: all views lie inside their buffers; `ds` is this chunk's own.
        unsafe {
            T::gemm_raw(
                t,
                dv,
                s,
                T::one(),
                g_ptr,
                g_stride,
                1,
                v.as_ptr().add(view.value),
                1,
                (h * dv) as isize,
                T::zero(),
                ds.as_mut_ptr(),
                s as isize,
                1,
            );
        }
        let mut keep;
        let weights: &[T] = if settings.dropout > 0.0 {
            keep = vec![T::zero(); score_len];
            dropout_scales(settings, pair, &mut keep);
            for (x, &m) in ds.iter_mut().zip(keep.iter()) {
                *x *= m;
            }
            for (m, &p) in keep.iter_mut().zip(probs.iter()) {
                *m *= p;
            }
            &keep
        } else {
            probs
        };
        // dV = Pdᵀ g, (S, Dv), into the pair's own strided block.
        // SAFETY: as above; the pair writes only its own rows of dV.
        unsafe {
            T::gemm_raw(
                s,
                t,
                dv,
                T::one(),
                weights.as_ptr(),
                1,
                s as isize,
                g_ptr,
                g_stride,
                1,
                T::zero(),
                dv_ptr.get().add(view.value),
                (h * dv) as isize,
                1,
            );
        }
        // The softmax backward, fused.
        softmax_backward_rows(&mut ds, probs, s, settings, view.batch);
        // SAFETY: as above; the pair writes only its own rows of dQ and dK.
        unsafe {
            T::gemm_raw(
                t,
                s,
                d,
                scale,
                ds.as_ptr(),
                s as isize,
                1,
                k.as_ptr().add(view.key),
                (h * d) as isize,
                1,
                T::zero(),
                dq_ptr.get().add(view.query),
                (h * d) as isize,
                1,
            );
            T::gemm_raw(
                s,
                t,
                d,
                scale,
                ds.as_ptr(),
                1,
                s as isize,
                q.as_ptr().add(view.query),
                (h * d) as isize,
                1,
                T::zero(),
                dk_ptr.get().add(view.key),
                (h * d) as isize,
                1,
            );
        }
    });
    Ok([dq, dk, dval])
}

/// Attention from scores computed elsewhere (the additive and concat scores of `Attention` and
/// `AdditiveAttention`): `softmax(mask(scores)) @ value` with `scores` (batch, T, S) and `value`
/// (batch, S, Dv); returns the output (batch, T, Dv) and the probabilities (batch, T, S) before
/// dropout, which carry no gradient. `settings.scale` is not used.
pub fn attention_from_scores(
    scores: &Tensor,
    value: &Tensor,
    settings: &AttentionSettings,
) -> Result<(Tensor, Tensor)> {
    let (&[b, t, s], &[vb, vs, dv]) = (scores.shape(), value.shape()) else {
        return Err(Error::shape(
            "attention",
            format!(
                "scores must be (batch, T, S) and value (batch, S, Dv), received {:?} and {:?}",
                scores.shape(),
                value.shape()
            ),
        ));
    };
    if vb != b || vs != s {
        return Err(Error::shape(
            "attention",
            format!(
                "scores {:?} and value {:?} differ in batch or length",
                scores.shape(),
                value.shape()
            ),
        ));
    }
    // The (batch, time, heads, features) layout with one head, and the scores as the "query"
    // of a product with an identity key: only the shapes matter to the shared helpers.
    let dims = Dims {
        batch: b,
        queries: t,
        keys: s,
        heads: 1,
        key_dim: s,
        value_dim: dv,
    };
    let (x, v) = (scores.data(), value.data());
    let (output, probabilities) = match (&*x, &*v) {
        (Storage::F32(x), Storage::F32(v)) => {
            let (o, p) = scored_forward(dims, settings, slice(x)?, slice(v)?)?;
            (Storage::from_array(o), Storage::from_array(p))
        }
        (Storage::F64(x), Storage::F64(v)) => {
            let (o, p) = scored_forward(dims, settings, slice(x)?, slice(v)?)?;
            (Storage::from_array(o), Storage::from_array(p))
        }
        (x, v) => {
            return Err(Error::DTypeMismatch {
                op: "attention",
                expected: x.dtype(),
                received: v.dtype(),
            });
        }
    };
    let probabilities = Arc::new(probabilities);
    let output = record(output, &[scores, value], |_| ScoredBackward {
        dims,
        settings: settings.clone(),
        value: v.clone(),
        probabilities: probabilities.clone(),
    });
    Ok((output, Tensor::from_shared(probabilities, false)))
}

fn scored_forward<T: Element>(
    dims: Dims,
    settings: &AttentionSettings,
    x: &[T],
    v: &[T],
) -> Result<(ndarray::ArrayD<T>, ndarray::ArrayD<T>)> {
    let Dims {
        batch: b,
        queries: t,
        keys: s,
        value_dim: dv,
        ..
    } = dims;
    let mut output = try_zeros::<T>(&[b, t, dv])?;
    let mut probabilities = ndarray::ArrayD::from_shape_vec(vec![b, t, s], x.to_vec())
        .map_err(|e| Error::value(e.to_string()))?;
    let out_ptr = SharedMut(output.as_mut_ptr());
    let prob_ptr = SharedMut(probabilities.as_mut_ptr());
    parallel::for_each_chunk(b, |batch| {
        // SAFETY: each batch row owns its blocks of the probabilities and the output.
        let p = unsafe { std::slice::from_raw_parts_mut(prob_ptr.get().add(batch * t * s), t * s) };
        let out =
            unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(batch * t * dv), t * dv) };
        for (row, scores) in p.chunks_exact_mut(s).enumerate() {
            let allowed = settings
                .mask
                .as_ref()
                .map(|m| m.slice(ndarray::s![batch, row, ..]));
            masked_softmax(scores, allowed.as_ref(), settings.fully_masked_rows);
        }
        let mut dropped;
        let weights: &[T] = if settings.dropout > 0.0 {
            dropped = vec![T::zero(); t * s];
            dropout_scales(settings, batch, &mut dropped);
            for (w, &p) in dropped.iter_mut().zip(p.iter()) {
                *w *= p;
            }
            &dropped
        } else {
            p
        };
        // SAFETY: `out` is this batch's own (T, Dv) block.
        unsafe {
            T::gemm_raw(
                t,
                s,
                dv,
                T::one(),
                weights.as_ptr(),
                s as isize,
                1,
                v.as_ptr().add(batch * s * dv),
                dv as isize,
                1,
                T::zero(),
                out.as_mut_ptr(),
                dv as isize,
                1,
            );
        }
        if let Some(query_mask) = &settings.query_mask {
            for (row, values) in out.chunks_exact_mut(dv).enumerate() {
                if !query_mask[[batch, row]] {
                    values.fill(T::zero());
                }
            }
        }
    });
    Ok((output, probabilities))
}

struct ScoredBackward {
    dims: Dims,
    settings: AttentionSettings,
    value: Arc<Storage>,
    probabilities: Arc<Storage>,
}

impl Backward for ScoredBackward {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let [dx, dv] = match (grad, &*self.value, &*self.probabilities) {
            (Storage::F32(g), Storage::F32(v), Storage::F32(p)) => {
                scored_backward(self.dims, &self.settings, [slice(g)?, slice(v)?, slice(p)?])?
                    .map(Storage::from_array)
            }
            (Storage::F64(g), Storage::F64(v), Storage::F64(p)) => {
                scored_backward(self.dims, &self.settings, [slice(g)?, slice(v)?, slice(p)?])?
                    .map(Storage::from_array)
            }
            _ => {
                return Err(Error::Autograd(
                    "attention: dtype mismatch in backward".into(),
                ));
            }
        };
        grads.add(0, dx)?;
        grads.add(1, dv)
    }
}

fn scored_backward<T: Element>(
    dims: Dims,
    settings: &AttentionSettings,
    [g, v, p]: [&[T]; 3],
) -> Result<[ndarray::ArrayD<T>; 2]> {
    let Dims {
        batch: b,
        queries: t,
        keys: s,
        value_dim: dv,
        ..
    } = dims;
    let mut dx = try_zeros::<T>(&[b, t, s])?;
    let mut dval = try_zeros::<T>(&[b, s, dv])?;
    let (dx_ptr, dv_ptr) = (SharedMut(dx.as_mut_ptr()), SharedMut(dval.as_mut_ptr()));
    parallel::for_each_chunk(b, |batch| {
        let probs = &p[batch * t * s..(batch + 1) * t * s];
        let mut grad_rows = g[batch * t * dv..(batch + 1) * t * dv].to_vec();
        if let Some(query_mask) = &settings.query_mask {
            for (row, values) in grad_rows.chunks_exact_mut(dv).enumerate() {
                if !query_mask[[batch, row]] {
                    values.fill(T::zero());
                }
            }
        }
        // SAFETY: each batch row owns its block of the score gradient and of dV.
        let ds = unsafe { std::slice::from_raw_parts_mut(dx_ptr.get().add(batch * t * s), t * s) };
        // SAFETY: inside the buffers (shapes checked in the forward pass).
        unsafe {
            T::gemm_raw(
                t,
                dv,
                s,
                T::one(),
                grad_rows.as_ptr(),
                dv as isize,
                1,
                v.as_ptr().add(batch * s * dv),
                1,
                dv as isize,
                T::zero(),
                ds.as_mut_ptr(),
                s as isize,
                1,
            );
        }
        let mut keep;
        let weights: &[T] = if settings.dropout > 0.0 {
            keep = vec![T::zero(); t * s];
            dropout_scales(settings, batch, &mut keep);
            for (x, &m) in ds.iter_mut().zip(keep.iter()) {
                *x *= m;
            }
            for (m, &p) in keep.iter_mut().zip(probs.iter()) {
                *m *= p;
            }
            &keep
        } else {
            probs
        };
        // SAFETY: this batch row's own block of dV.
        unsafe {
            T::gemm_raw(
                s,
                t,
                dv,
                T::one(),
                weights.as_ptr(),
                1,
                s as isize,
                grad_rows.as_ptr(),
                dv as isize,
                1,
                T::zero(),
                dv_ptr.get().add(batch * s * dv),
                dv as isize,
                1,
            );
        }
        softmax_backward_rows(ds, probs, s, settings, batch);
    });
    Ok([dx, dval])
}

/// `dS = P * (dP - sum(dP * P))` row by row, in place over `dP`; a row with every score masked
/// does not depend on the scores at all.
fn softmax_backward_rows<T: Element>(
    ds: &mut [T],
    probs: &[T],
    s: usize,
    settings: &AttentionSettings,
    batch: usize,
) {
    for (row, (dp, p)) in ds
        .chunks_exact_mut(s)
        .zip(probs.chunks_exact(s))
        .enumerate()
    {
        if let Some(mask) = &settings.mask
            && !mask.slice(ndarray::s![batch, row, ..]).iter().any(|&ok| ok)
        {
            dp.fill(T::zero());
            continue;
        }
        let dot = dp
            .iter()
            .zip(p)
            .fold(T::zero(), |acc, (&x, &y)| acc + x * y);
        for (x, &y) in dp.iter_mut().zip(p) {
            *x = y * (*x - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    /// Attention written with the plain ops, for comparison.
    fn reference(
        q: &[f64],
        k: &[f64],
        v: &[f64],
        dims: Dims,
        scale: f64,
        mask: Option<&Array3<bool>>,
    ) -> Vec<f64> {
        let Dims {
            batch: b,
            queries: t,
            keys: s,
            heads: h,
            key_dim: d,
            value_dim: dv,
        } = dims;
        let mut out = vec![0.0; b * t * h * dv];
        for bi in 0..b {
            for hi in 0..h {
                for ti in 0..t {
                    let mut scores: Vec<f64> = (0..s)
                        .map(|si| {
                            (0..d)
                                .map(|x| {
                                    q[((bi * t + ti) * h + hi) * d + x]
                                        * k[((bi * s + si) * h + hi) * d + x]
                                })
                                .sum::<f64>()
                                * scale
                        })
                        .collect();
                    if let Some(m) = mask {
                        for (si, x) in scores.iter_mut().enumerate() {
                            if !m[[bi, ti, si]] {
                                *x = -1e9;
                            }
                        }
                    }
                    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = scores.iter().map(|x| (x - max).exp()).collect();
                    let total: f64 = e.iter().sum();
                    for j in 0..dv {
                        out[((bi * t + ti) * h + hi) * dv + j] = (0..s)
                            .map(|si| e[si] / total * v[((bi * s + si) * h + hi) * dv + j])
                            .sum();
                    }
                }
            }
        }
        out
    }

    /// A causal-like mask whose first row of the first batch is fully masked.
    fn some_mask(b: usize, t: usize, s: usize) -> Arc<Array3<bool>> {
        Arc::new(Array3::from_shape_fn((b, t, s), |(bi, ti, si)| {
            (si <= ti + bi || si == 0) && (bi, ti) != (0, 0)
        }))
    }

    #[test]
    fn matches_the_plain_formula_with_and_without_a_mask() {
        let (q, k, v) = (
            randn(&[2, 3, 2, 4], 1),
            randn(&[2, 5, 2, 4], 2),
            randn(&[2, 5, 2, 3], 3),
        );
        let dims = Dims::of(q.shape(), k.shape(), v.shape()).unwrap();
        for mask in [None, Some(some_mask(2, 3, 5))] {
            let mut settings = AttentionSettings::new(0.5);
            // The reference's -1e9 scores make a fully masked row uniform.
            settings.fully_masked_rows = FullyMaskedRows::Uniform;
            settings.mask = mask.clone();
            let (out, probs) = attention(&q, &k, &v, &settings).unwrap();
            assert_eq!(out.shape(), &[2, 3, 2, 3]);
            assert_eq!(probs.shape(), &[2, 2, 3, 5]);
            let expected = reference(
                &q.to_f64_vec(),
                &k.to_f64_vec(),
                &v.to_f64_vec(),
                dims,
                0.5,
                mask.as_deref(),
            );
            for (a, e) in out.to_f64_vec().iter().zip(&expected) {
                assert!((a - e).abs() < 1e-12, "{a} vs {e}");
            }
            let rows = probs.to_f64_vec();
            for row in rows.chunks(5) {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn fully_masked_rows_give_zero_or_uniform() {
        let (q, k, v) = (
            randn(&[1, 2, 1, 2], 4),
            randn(&[1, 3, 1, 2], 5),
            randn(&[1, 3, 1, 2], 6),
        );
        let mut settings = AttentionSettings::new(1.0);
        settings.mask = Some(Arc::new(Array3::from_shape_fn((1, 2, 3), |(_, t, _)| {
            t == 1
        })));
        let (out, probs) = attention(&q, &k, &v, &settings).unwrap();
        assert_eq!(&probs.to_f64_vec()[..3], &[0.0, 0.0, 0.0]);
        assert_eq!(&out.to_f64_vec()[..2], &[0.0, 0.0]);
        settings.fully_masked_rows = FullyMaskedRows::Uniform;
        let (_, probs) = attention(&q, &k, &v, &settings).unwrap();
        assert_eq!(&probs.to_f64_vec()[..3], &[1.0 / 3.0; 3]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let inputs = [
            randn(&[2, 3, 2, 4], 7),
            randn(&[2, 4, 2, 4], 8),
            randn(&[2, 4, 2, 3], 9),
        ];
        let mut settings = AttentionSettings::new(0.7);
        check_gradients(&inputs, |x| {
            attention(&x[0], &x[1], &x[2], &settings).unwrap().0
        });
        settings.mask = Some(some_mask(2, 3, 4));
        settings.query_mask = Some(Arc::new(Array2::from_shape_fn((2, 3), |(b, t)| b + t != 2)));
        check_gradients(&inputs, |x| {
            attention(&x[0], &x[1], &x[2], &settings).unwrap().0
        });
        settings.fully_masked_rows = FullyMaskedRows::Uniform;
        check_gradients(&inputs, |x| {
            attention(&x[0], &x[1], &x[2], &settings).unwrap().0
        });
        settings.dropout = 0.4;
        settings.seed = 11;
        check_gradients(&inputs, |x| {
            attention(&x[0], &x[1], &x[2], &settings).unwrap().0
        });
    }

    #[test]
    fn dropout_is_reproducible_and_scales_the_kept_weights() {
        let (q, k, v) = (
            randn(&[2, 6, 1, 2], 1),
            randn(&[2, 6, 1, 2], 2),
            Tensor::new(
                Storage::from_f64_vec(crate::dtype::DType::F64, &[2, 6, 1, 1], vec![1.0; 12])
                    .unwrap(),
                false,
            ),
        );
        let mut settings = AttentionSettings::new(1.0);
        settings.dropout = 0.5;
        settings.seed = 3;
        let a = attention(&q, &k, &v, &settings).unwrap().0.to_f64_vec();
        let b = attention(&q, &k, &v, &settings).unwrap().0.to_f64_vec();
        assert_eq!(a, b);
        // With value 1 everywhere each output is 2 * (the kept probability mass): not all 1.
        assert!(a.iter().any(|&x| (x - 1.0).abs() > 1e-3), "{a:?}");
        settings.seed = 4;
        let c = attention(&q, &k, &v, &settings).unwrap().0.to_f64_vec();
        assert_ne!(a, c);
    }

    #[test]
    fn same_bits_on_one_and_several_threads() {
        let q = randn(&[3, 7, 2, 5], 1);
        let k = randn(&[3, 9, 2, 5], 2);
        let v = randn(&[3, 9, 2, 4], 3);
        let settings = AttentionSettings::new(0.3);
        let run = || {
            let (out, _) = attention(&q, &k, &v, &settings).unwrap();
            out.sum(None, false).unwrap().backward(None, false).unwrap();
            let grads = [
                q.grad().unwrap().to_f64_vec(),
                k.grad().unwrap().to_f64_vec(),
            ];
            for t in [&q, &k, &v] {
                t.set_grad(None).unwrap();
            }
            (out.to_f64_vec(), grads)
        };
        let before = parallel::num_threads();
        parallel::set_num_threads(1).unwrap();
        let one = run();
        parallel::set_num_threads(3).unwrap();
        let three = run();
        parallel::set_num_threads(before).unwrap();
        assert_eq!(one, three);
    }

    #[test]
    fn attention_from_scores_matches_and_has_gradients() {
        let (x, v) = (randn(&[2, 3, 4], 1), randn(&[2, 4, 2], 2));
        let settings = AttentionSettings::new(1.0);
        let (out, probs) = attention_from_scores(&x, &v, &settings).unwrap();
        let expected = x.softmax(-1).unwrap().matmul(&v).unwrap();
        for (a, e) in out.to_f64_vec().iter().zip(expected.to_f64_vec()) {
            assert!((a - e).abs() < 1e-12);
        }
        assert_eq!(probs.shape(), &[2, 3, 4]);
        let mut settings = AttentionSettings::new(1.0);
        settings.mask = Some(some_mask(2, 3, 4));
        settings.fully_masked_rows = FullyMaskedRows::Uniform;
        settings.query_mask = Some(Arc::new(Array2::from_shape_fn((2, 3), |(b, t)| b + t != 1)));
        check_gradients(&[x.clone(), v.clone()], |t| {
            attention_from_scores(&t[0], &t[1], &settings).unwrap().0
        });
        settings.dropout = 0.3;
        settings.seed = 5;
        check_gradients(&[x, v], |t| {
            attention_from_scores(&t[0], &t[1], &settings).unwrap().0
        });
    }

    #[test]
    fn mismatched_shapes_are_refused() {
        let q = randn(&[2, 3, 2, 4], 1);
        let err = attention(
            &q,
            &randn(&[2, 5, 2, 3], 2),
            &randn(&[2, 5, 2, 3], 3),
            &AttentionSettings::new(1.0),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("same feature size"), "{err}");
        let err = attention(
            &q,
            &randn(&[2, 5, 2, 4], 2),
            &randn(&[2, 4, 2, 3], 3),
            &AttentionSettings::new(1.0),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("same length"), "{err}");
    }
}

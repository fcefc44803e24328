//! The per-row kernels of the losses: one pass over `y_true` and `y_pred` that writes each
//! row's loss and, when a backward pass will need it, the derivative of that row's loss with
//! respect to every prediction.
//!
//! A "row" is one sample's values along the last axis (`cols` of them). Elementwise losses
//! average over the row (Keras's `mean(..., axis=-1)`); cross-entropies sum over it.

use crate::dtype::Element;

/// Keras's `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 - EPSILON]`.
pub const EPSILON: f64 = 1e-7;

/// `x` clipped to `[lo, hi]`, with whether it was inside (the bounds included, where the clip's
/// gradient still passes, as in TensorFlow). NaN stays NaN.
#[inline]
fn clip<T: Element>(x: T, lo: T, hi: T) -> (T, bool) {
    if x < lo {
        (lo, false)
    } else if x > hi {
        (hi, false)
    } else {
        (x, true)
    }
}

/// An elementwise loss term and its derivative with respect to the prediction.
#[derive(Clone, Copy, Debug)]
pub enum Pointwise {
    SquaredError,
    AbsoluteError,
    Huber {
        delta: f64,
    },
    /// Binary cross-entropy of clipped probabilities; `smoothing` already folded into targets.
    BinaryProbabilities {
        smoothing: f64,
    },
    /// Binary cross-entropy of logits, in the softplus form (never overflows).
    BinaryLogits {
        smoothing: f64,
    },
}

impl Pointwise {
    /// `(loss, d loss / d y_pred)` for one target `t` and prediction `p`.
    #[inline]
    fn eval<T: Element>(self, t: T, p: T) -> (T, T) {
        let one = T::one();
        let zero = T::zero();
        match self {
            Pointwise::SquaredError => {
                let d = p - t;
                (d * d, d + d)
            }
            Pointwise::AbsoluteError => {
                let d = p - t;
                let slope = if d > zero {
                    one
                } else if d < zero {
                    -one
                } else {
                    zero
                };
                (d.abs(), slope)
            }
            Pointwise::Huber { delta } => {
                let delta = T::of(delta);
                let half = T::of(0.5);
                let d = p - t;
                if d.abs() <= delta {
                    (half * d * d, d)
                } else {
                    (delta * d.abs() - half * delta * delta, delta * d.signum())
                }
            }
            Pointwise::BinaryProbabilities { smoothing } => {
                let t = smooth_binary(t, smoothing);
                let eps = T::of(EPSILON);
                let (q, inside) = clip(p, eps, one - eps);
                let loss = -(t * q.ln() + (one - t) * (one - q).ln());
                let grad = if inside {
                    (one - t) / (one - q) - t / q
                } else {
                    zero
                };
                (loss, grad)
            }
            Pointwise::BinaryLogits { smoothing } => {
                let t = smooth_binary(t, smoothing);
                // loss = max(z, 0) - z t + log(1 + exp(-|z|)); d/dz = sigmoid(z) - t, with the
                // one exponential shared by both.
                let e = (-p.abs()).exp();
                let loss = p.max(zero) - p * t + e.ln_1p();
                let sigmoid = if p >= zero {
                    one / (one + e)
                } else {
                    e / (one + e)
                };
                (loss, sigmoid - t)
            }
        }
    }
}

#[inline]
fn smooth_binary<T: Element>(t: T, smoothing: f64) -> T {
    if smoothing == 0.0 {
        t
    } else {
        t * T::of(1.0 - smoothing) + T::of(0.5 * smoothing)
    }
}

/// Rows of an elementwise loss: each row's loss is the mean of its terms.
pub fn pointwise_rows<T: Element>(
    f: Pointwise,
    y_true: &[T],
    y_pred: &[T],
    cols: usize,
    rows_out: &mut [T],
    mut grad: Option<&mut [T]>,
) {
    let inv_cols = T::one() / T::of(cols as f64);
    for (r, row_loss) in rows_out.iter_mut().enumerate() {
        let span = r * cols..(r + 1) * cols;
        let (t, p) = (&y_true[span.clone()], &y_pred[span.clone()]);
        // Summed in f64: a row can be a whole float32 batch (labels and predictions of (N,)).
        let mut total = 0.0f64;
        match grad.as_deref_mut() {
            Some(grad) => {
                for ((&t, &p), g) in t.iter().zip(p).zip(&mut grad[span]) {
                    let (loss, slope) = f.eval(t, p);
                    total += loss.as_f64();
                    *g = slope * inv_cols;
                }
            }
            None => {
                for (&t, &p) in t.iter().zip(p) {
                    total += f.eval(t, p).0.as_f64();
                }
            }
        }
        *row_loss = T::of(total / cols as f64);
    }
}

/// Rows of categorical cross-entropy with one-hot (or soft) targets, smoothed by `smoothing`.
pub fn categorical_rows<T: Element>(
    from_logits: bool,
    smoothing: f64,
    y_true: &[T],
    y_pred: &[T],
    cols: usize,
    rows_out: &mut [T],
    mut grad: Option<&mut [T]>,
) {
    let keep = T::of(1.0 - smoothing);
    let spread = T::of(smoothing / cols as f64);
    let target = |t: T| {
        if smoothing == 0.0 {
            t
        } else {
            t * keep + spread
        }
    };
    for (r, row_loss) in rows_out.iter_mut().enumerate() {
        let span = r * cols..(r + 1) * cols;
        let (t, z) = (&y_true[span.clone()], &y_pred[span.clone()]);
        let g = grad.as_deref_mut().map(|g| &mut g[span]);
        *row_loss = if from_logits {
            categorical_logits_row(t, z, target, g)
        } else {
            categorical_probabilities_row(t, z, target, g)
        };
    }
}

/// `sum_i t_i (logsumexp(z) - z_i)`; gradient `softmax(z) * sum(t) - t`.
fn categorical_logits_row<T: Element>(
    t: &[T],
    z: &[T],
    target: impl Fn(T) -> T,
    grad: Option<&mut [T]>,
) -> T {
    let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let mut loss = T::zero();
    match grad {
        Some(grad) => {
            let mut sum_exp = T::zero();
            for (g, &v) in grad.iter_mut().zip(z) {
                let e = (v - max).exp();
                *g = e;
                sum_exp += e;
            }
            let log_sum = sum_exp.ln();
            let mut target_total = T::zero();
            for (&t, &v) in t.iter().zip(z) {
                let t = target(t);
                loss += t * ((max - v) + log_sum);
                target_total += t;
            }
            let scale = target_total / sum_exp;
            for (g, &t) in grad.iter_mut().zip(t) {
                *g = *g * scale - target(t);
            }
        }
        None => {
            let sum_exp = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
            let log_sum = sum_exp.ln();
            for (&t, &v) in t.iter().zip(z) {
                loss += target(t) * ((max - v) + log_sum);
            }
        }
    }
    loss
}

/// `-sum_i t_i log(clip(p_i / sum(p)))`; the gradient goes through the renormalisation.
fn categorical_probabilities_row<T: Element>(
    t: &[T],
    p: &[T],
    target: impl Fn(T) -> T,
    grad: Option<&mut [T]>,
) -> T {
    let eps = T::of(EPSILON);
    let hi = T::one() - eps;
    let total: T = p.iter().copied().sum();
    let inv_total = T::one() / total;
    let mut loss = T::zero();
    match grad {
        Some(grad) => {
            // g_i = d loss / d q_i; then d loss / d p_j = (g_j - sum_i g_i q_i) / sum(p).
            let mut dot = T::zero();
            for ((g, &t), &p) in grad.iter_mut().zip(t).zip(p) {
                let t = target(t);
                let q = p * inv_total;
                let (c, inside) = clip(q, eps, hi);
                loss -= t * c.ln();
                *g = if inside { -t / c } else { T::zero() };
                dot += *g * q;
            }
            for g in grad.iter_mut() {
                *g = (*g - dot) * inv_total;
            }
        }
        None => {
            for (&t, &p) in t.iter().zip(p) {
                let (c, _) = clip(p * inv_total, eps, hi);
                loss -= target(t) * c.ln();
            }
        }
    }
    loss
}

/// Rows of sparse categorical cross-entropy; `labels[r]` is row `r`'s class, already checked to
/// be in `[0, cols)`.
pub fn sparse_rows<T: Element>(
    from_logits: bool,
    labels: &[usize],
    y_pred: &[T],
    cols: usize,
    rows_out: &mut [T],
    mut grad: Option<&mut [T]>,
) {
    let eps = T::of(EPSILON);
    let hi = T::one() - eps;
    for ((r, row_loss), &k) in rows_out.iter_mut().enumerate().zip(labels) {
        let span = r * cols..(r + 1) * cols;
        let z = &y_pred[span.clone()];
        let g = grad.as_deref_mut().map(|g| &mut g[span]);
        *row_loss = if from_logits {
            // logsumexp(z) - z_k; gradient softmax(z) - onehot(k).
            let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
            match g {
                Some(g) => {
                    let mut sum_exp = T::zero();
                    for (g, &v) in g.iter_mut().zip(z) {
                        let e = (v - max).exp();
                        *g = e;
                        sum_exp += e;
                    }
                    let inv = T::one() / sum_exp;
                    for g in g.iter_mut() {
                        *g *= inv;
                    }
                    g[k] -= T::one();
                    (max - z[k]) + sum_exp.ln()
                }
                None => {
                    let sum_exp = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
                    (max - z[k]) + sum_exp.ln()
                }
            }
        } else {
            // -log(clip(p_k / sum(p))); gradient (onehot(k) g_k - g_k q_k) / sum(p).
            let total: T = z.iter().copied().sum();
            let inv_total = T::one() / total;
            let q = z[k] * inv_total;
            let (c, inside) = clip(q, eps, hi);
            if let Some(g) = g {
                let gk = if inside { -T::one() / c } else { T::zero() };
                let shift = -gk * q * inv_total;
                g.fill(shift);
                g[k] += gk * inv_total;
            }
            -c.ln()
        }
    }
}

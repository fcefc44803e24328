//! Elementwise functions of one tensor: math (`exp`, `log`, ...) and the activations.
//!
//! Each function is defined once, as a scalar `f` and its derivative `df`, which may use the
//! output `y = f(x)` where that is cheaper or more stable (sigmoid, tanh, exp). Layers reuse
//! these definitions when they fuse an activation into a matmul.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayRefD};
use serde::{Deserialize, Serialize};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::Result;
use crate::kernels::elementwise;
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{map_storage, map_storage2};

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum UnaryFn {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    /// `x ** exponent` for a constant exponent.
    Powf {
        exponent: f64,
    },
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu {
        alpha: f64,
    },
    Elu {
        alpha: f64,
    },
    /// The exact GELU, `x * Phi(x)` (Keras's default, `approximate=False`).
    Gelu,
    /// The tanh approximation of GELU.
    GeluTanh,
    Softplus,
    Softsign,
    Silu,
    Selu,
    Sin,
    Cos,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Expm1,
    Log1p,
    Log2,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// -1, 0 or 1 (NaN stays NaN); its gradient is zero, as in numpy-based frameworks.
    Sign,
    /// The rounding functions: piecewise constant, so their gradient is zero.
    Floor,
    Ceil,
    /// Halves to even, as numpy and Keras round.
    Round,
}

impl UnaryFn {
    pub fn name(self) -> &'static str {
        match self {
            UnaryFn::Neg => "negative",
            UnaryFn::Exp => "exp",
            UnaryFn::Log => "log",
            UnaryFn::Sqrt => "sqrt",
            UnaryFn::Abs => "abs",
            UnaryFn::Square => "square",
            UnaryFn::Powf { .. } => "power",
            UnaryFn::Relu => "relu",
            UnaryFn::Sigmoid => "sigmoid",
            UnaryFn::Tanh => "tanh",
            UnaryFn::LeakyRelu { .. } => "leaky_relu",
            UnaryFn::Elu { .. } => "elu",
            UnaryFn::Gelu => "gelu",
            UnaryFn::GeluTanh => "gelu_tanh",
            UnaryFn::Softplus => "softplus",
            UnaryFn::Softsign => "softsign",
            UnaryFn::Silu => "silu",
            UnaryFn::Selu => "selu",
            UnaryFn::Sin => "sin",
            UnaryFn::Cos => "cos",
            UnaryFn::Tan => "tan",
            UnaryFn::Arcsin => "arcsin",
            UnaryFn::Arccos => "arccos",
            UnaryFn::Arctan => "arctan",
            UnaryFn::Sinh => "sinh",
            UnaryFn::Cosh => "cosh",
            UnaryFn::Expm1 => "expm1",
            UnaryFn::Log1p => "log1p",
            UnaryFn::Log2 => "log2",
            UnaryFn::Rsqrt => "rsqrt",
            UnaryFn::Sign => "sign",
            UnaryFn::Floor => "floor",
            UnaryFn::Ceil => "ceil",
            UnaryFn::Round => "round",
        }
    }

    #[inline]
    pub fn f<T: Element>(self, x: T) -> T {
        let one = T::one();
        match self {
            UnaryFn::Neg => -x,
            UnaryFn::Exp => x.exp(),
            UnaryFn::Log => x.ln(),
            UnaryFn::Sqrt => x.sqrt(),
            UnaryFn::Abs => x.abs(),
            UnaryFn::Square => x * x,
            UnaryFn::Powf { exponent } => x.powf(T::of(exponent)),
            // Not `x.max(0)`, which returns 0 for NaN and would hide a diverging model.
            UnaryFn::Relu => {
                if x < T::zero() {
                    T::zero()
                } else {
                    x
                }
            }
            UnaryFn::Sigmoid => sigmoid(x),
            UnaryFn::Tanh => x.tanh(),
            UnaryFn::LeakyRelu { alpha } => {
                if x > T::zero() {
                    x
                } else {
                    x * T::of(alpha)
                }
            }
            UnaryFn::Elu { alpha } => {
                if x > T::zero() {
                    x
                } else {
                    T::of(alpha) * x.exp_m1()
                }
            }
            UnaryFn::Gelu => T::of(0.5) * x * (one + (x * T::of(FRAC_1_SQRT_2)).erf()),
            UnaryFn::GeluTanh => {
                let inner = T::of(SQRT_2_OVER_PI) * (x + T::of(0.044715) * x * x * x);
                T::of(0.5) * x * (one + inner.tanh())
            }
            UnaryFn::Softplus => softplus(x),
            UnaryFn::Softsign => x / (one + x.abs()),
            UnaryFn::Silu => x * sigmoid(x),
            UnaryFn::Selu => {
                let (alpha, scale) = selu_constants::<T>();
                if x > T::zero() {
                    scale * x
                } else {
                    scale * alpha * x.exp_m1()
                }
            }
            UnaryFn::Sin => x.sin(),
            UnaryFn::Cos => x.cos(),
            UnaryFn::Tan => x.tan(),
            UnaryFn::Arcsin => x.asin(),
            UnaryFn::Arccos => x.acos(),
            UnaryFn::Arctan => x.atan(),
            UnaryFn::Sinh => x.sinh(),
            UnaryFn::Cosh => x.cosh(),
            UnaryFn::Expm1 => x.exp_m1(),
            UnaryFn::Log1p => x.ln_1p(),
            UnaryFn::Log2 => x.log2(),
            UnaryFn::Rsqrt => one / x.sqrt(),
            UnaryFn::Sign => {
                if x.is_nan() || x == T::zero() {
                    x
                } else {
                    x.signum()
                }
            }
            UnaryFn::Floor => x.floor(),
            UnaryFn::Ceil => x.ceil(),
            UnaryFn::Round => T::of(x.as_f64().round_ties_even()),
        }
    }

    /// The derivative at `x`, given `y = f(x)`.
    #[inline]
    pub fn df<T: Element>(self, x: T, y: T) -> T {
        let one = T::one();
        let zero = T::zero();
        match self {
            UnaryFn::Neg => -one,
            UnaryFn::Exp => y,
            UnaryFn::Log => one / x,
            UnaryFn::Sqrt => T::of(0.5) / y,
            UnaryFn::Abs => x.signum() * if x == zero { zero } else { one },
            UnaryFn::Square => x + x,
            UnaryFn::Powf { exponent } => {
                if exponent == 0.0 {
                    zero
                } else {
                    T::of(exponent) * x.powf(T::of(exponent - 1.0))
                }
            }
            UnaryFn::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            UnaryFn::Sigmoid => y * (one - y),
            UnaryFn::Tanh => one - y * y,
            UnaryFn::LeakyRelu { alpha } => {
                if x > zero {
                    one
                } else {
                    T::of(alpha)
                }
            }
            UnaryFn::Elu { alpha } => {
                if x > zero {
                    one
                } else {
                    y + T::of(alpha)
                }
            }
            UnaryFn::Gelu => {
                let cdf = T::of(0.5) * (one + (x * T::of(FRAC_1_SQRT_2)).erf());
                let pdf = (-(x * x) * T::of(0.5)).exp()
                    * T::of(1.0 / (2.0 * std::f64::consts::PI).sqrt());
                cdf + x * pdf
            }
            UnaryFn::GeluTanh => {
                let c = T::of(SQRT_2_OVER_PI);
                let k = T::of(0.044715);
                let inner = c * (x + k * x * x * x);
                let t = inner.tanh();
                let half = T::of(0.5);
                half * (one + t) + half * x * (one - t * t) * c * (one + T::of(3.0) * k * x * x)
            }
            UnaryFn::Softplus => sigmoid(x),
            UnaryFn::Softsign => {
                let d = one + x.abs();
                one / (d * d)
            }
            UnaryFn::Silu => {
                let s = sigmoid(x);
                s * (one + x * (one - s))
            }
            UnaryFn::Selu => {
                let (alpha, scale) = selu_constants::<T>();
                if x > zero { scale } else { y + scale * alpha }
            }
            UnaryFn::Sin => x.cos(),
            UnaryFn::Cos => -x.sin(),
            UnaryFn::Tan => one + y * y,
            UnaryFn::Arcsin => one / (one - x * x).sqrt(),
            UnaryFn::Arccos => -one / (one - x * x).sqrt(),
            UnaryFn::Arctan => one / (one + x * x),
            UnaryFn::Sinh => x.cosh(),
            UnaryFn::Cosh => x.sinh(),
            UnaryFn::Expm1 => y + one,
            UnaryFn::Log1p => one / (one + x),
            UnaryFn::Log2 => one / (x * T::of(std::f64::consts::LN_2)),
            // d/dx x^(-1/2) = -y^3 / 2.
            UnaryFn::Rsqrt => T::of(-0.5) * y * y * y,
            UnaryFn::Sign | UnaryFn::Floor | UnaryFn::Ceil | UnaryFn::Round => zero,
        }
    }
}

impl UnaryFn {
    /// Whether `df` needs the input; when it does not, `df_from_output` gives the derivative from
    /// the output alone, so fused ops can skip keeping the pre-activation values.
    pub fn derivative_needs_input(self) -> bool {
        !matches!(
            self,
            UnaryFn::Relu | UnaryFn::Sigmoid | UnaryFn::Tanh | UnaryFn::Exp | UnaryFn::Elu { .. }
        )
    }

    /// The derivative given only `y = f(x)`; meaningful when `!derivative_needs_input()`.
    #[inline]
    pub fn df_from_output<T: Element>(self, y: T) -> T {
        let one = T::one();
        let zero = T::zero();
        match self {
            UnaryFn::Relu => {
                if y > zero {
                    one
                } else {
                    zero
                }
            }
            UnaryFn::Sigmoid => y * (one - y),
            UnaryFn::Tanh => one - y * y,
            UnaryFn::Exp => y,
            // elu(x) > 0 exactly when x > 0, and elu'(x) = elu(x) + alpha below zero.
            UnaryFn::Elu { alpha } => {
                if y > zero {
                    one
                } else {
                    y + T::of(alpha)
                }
            }
            _ => T::nan(),
        }
    }
}

/// The logistic function, written so that neither branch overflows (`sigmoid(-1e4)` is 0, not
/// NaN).
#[inline]
pub fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `log(1 + exp(x))` without overflow.
#[inline]
pub fn softplus<T: Element>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

fn selu_constants<T: Element>() -> (T, T) {
    (
        T::of(1.673_263_242_354_377_3),
        T::of(1.050_700_987_355_480_5),
    )
}

pub fn unary(f: UnaryFn, input: &Tensor) -> Result<Tensor> {
    let x = input.data();
    let out = map_storage!(&*x, a => map_unary(a, f));
    Ok(record(out, &[input], |output| UnaryBackward {
        f,
        input: x,
        output: output.clone(),
    }))
}

struct UnaryBackward {
    f: UnaryFn,
    input: Arc<Storage>,
    output: Arc<Storage>,
}

impl Backward for UnaryBackward {
    fn name(&self) -> &'static str {
        self.f.name()
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let f = self.f;
        let g = map_storage2!(f.name(), grad, &*self.input, |g, x| {
            let y = self.output.typed()?;
            unary_grad(f, g, x, y)
        });
        grads.add(0, g)
    }
}

/// `f` over every element, the common activations chosen outside the loop so that each loop is
/// a tight, vectorisable one rather than a call per element (the same values as `f.f`).
fn map_unary<T: Element>(a: &ArrayRefD<T>, f: UnaryFn) -> ArrayD<T> {
    match f {
        // Not `v.max(0)`, which turns NaN into 0: the select of `UnaryFn::f`.
        UnaryFn::Relu => elementwise::map(a, |v| if v < T::zero() { T::zero() } else { v }),
        UnaryFn::Sigmoid => elementwise::map(a, sigmoid),
        UnaryFn::Tanh => elementwise::map(a, |v| v.tanh()),
        other => elementwise::map(a, |v| other.f(v)),
    }
}

/// `f` over `values` in place, one thread: the same values as `map_unary`, for kernels that
/// apply an activation to a block of their output while it is in cache (the conv layers'
/// epilogue, the dense layer's output).
pub(crate) fn unary_in_place<T: Element>(values: &mut [T], f: UnaryFn) {
    match f {
        UnaryFn::Relu => {
            for v in values {
                *v = if *v < T::zero() { T::zero() } else { *v };
            }
        }
        UnaryFn::Sigmoid => {
            for v in values {
                *v = sigmoid(*v);
            }
        }
        UnaryFn::Tanh => {
            for v in values {
                *v = v.tanh();
            }
        }
        other => {
            for v in values {
                *v = other.f(*v);
            }
        }
    }
}

/// `grad * f'(x)` for every element, computed from the output `y = f(x)` alone (so the
/// pre-activation values need not be kept); `f` must satisfy `!f.derivative_needs_input()`.
/// One pass, in parallel when large, each value written once.
pub(crate) fn grad_from_output<T: Element>(f: UnaryFn, grad: &[T], output: &[T]) -> Vec<T> {
    elementwise::map_slices(grad.len(), |offset, chunk| {
        let range = offset..offset + chunk.len();
        let values = chunk.iter_mut();
        for_grad_from_output(f, &grad[range.clone()], &output[range], values, |o, v| {
            o.write(v);
        });
    })
}

/// `grad_from_output` into `out`, one thread.
pub(crate) fn grad_from_output_into<T: Element>(
    f: UnaryFn,
    grad: &[T],
    output: &[T],
    out: &mut [T],
) {
    for_grad_from_output(f, grad, output, out.iter_mut(), |o, v| *o = v);
}

/// Calls `write(slot, grad * f'(y))` for each slot, gradient and output, the activation chosen
/// outside the loop. The same values as the separate op's gradient: ReLU's derivative tests
/// `y > 0`, which holds exactly when `x > 0`.
#[inline]
fn for_grad_from_output<T: Element, S>(
    f: UnaryFn,
    grad: &[T],
    output: &[T],
    slots: impl Iterator<Item = S>,
    mut write: impl FnMut(S, T),
) {
    debug_assert!(!f.derivative_needs_input());
    let values = slots.zip(grad).zip(output);
    match f {
        UnaryFn::Relu => {
            for ((o, &g), &y) in values {
                write(o, g * if y > T::zero() { T::one() } else { T::zero() });
            }
        }
        other => {
            for ((o, &g), &y) in values {
                write(o, g * other.df_from_output(y));
            }
        }
    }
}

fn unary_grad<T: Element>(
    f: UnaryFn,
    g: &ArrayRefD<T>,
    x: &ArrayRefD<T>,
    y: &ArrayRefD<T>,
) -> ArrayD<T> {
    if let (Some(gs), Some(xs), Some(ys)) = (g.as_slice(), x.as_slice(), y.as_slice())
        && gs.len() == xs.len()
        && gs.len() == ys.len()
        && g.shape() == x.shape()
    {
        // One vectorisable pass, `g * f'(x, y)` as below, with ReLU's derivative inlined.
        let out = elementwise::map_slices(gs.len(), |offset, chunk| {
            let range = offset..offset + chunk.len();
            let (gs, xs, ys) = (&gs[range.clone()], &xs[range.clone()], &ys[range]);
            let values = chunk.iter_mut().zip(gs).zip(xs.iter().zip(ys));
            match f {
                UnaryFn::Relu => {
                    for ((o, &g), (&x, _)) in values {
                        o.write(g * if x > T::zero() { T::one() } else { T::zero() });
                    }
                }
                other => {
                    for ((o, &g), (&x, &y)) in values {
                        o.write(g * other.df(x, y));
                    }
                }
            }
        });
        return ArrayD::from_shape_vec(g.raw_dim(), out).expect("the shape of the gradient");
    }
    let mut out = g.to_owned();
    ndarray::Zip::from(&mut out)
        .and(x)
        .and(y)
        .for_each(|o, &x, &y| *o *= f.df(x, y));
    out
}

impl Tensor {
    pub fn apply(&self, f: UnaryFn) -> Result<Tensor> {
        unary(f, self)
    }

    pub fn neg(&self) -> Result<Tensor> {
        unary(UnaryFn::Neg, self)
    }

    pub fn exp(&self) -> Result<Tensor> {
        unary(UnaryFn::Exp, self)
    }

    pub fn log(&self) -> Result<Tensor> {
        unary(UnaryFn::Log, self)
    }

    pub fn sqrt(&self) -> Result<Tensor> {
        unary(UnaryFn::Sqrt, self)
    }

    pub fn abs(&self) -> Result<Tensor> {
        unary(UnaryFn::Abs, self)
    }

    pub fn square(&self) -> Result<Tensor> {
        unary(UnaryFn::Square, self)
    }

    pub fn powf(&self, exponent: f64) -> Result<Tensor> {
        unary(UnaryFn::Powf { exponent }, self)
    }

    pub fn relu(&self) -> Result<Tensor> {
        unary(UnaryFn::Relu, self)
    }

    pub fn sigmoid(&self) -> Result<Tensor> {
        unary(UnaryFn::Sigmoid, self)
    }

    pub fn tanh(&self) -> Result<Tensor> {
        unary(UnaryFn::Tanh, self)
    }

    pub fn sin(&self) -> Result<Tensor> {
        unary(UnaryFn::Sin, self)
    }

    pub fn cos(&self) -> Result<Tensor> {
        unary(UnaryFn::Cos, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn literal_values() {
        let x = Tensor::from_array(ndarray::arr1(&[-2.0f64, 0.5, 3.0]).into_dyn(), false);
        assert_eq!(x.relu().unwrap().to_f64_vec(), vec![0.0, 0.5, 3.0]);
        assert_eq!(x.abs().unwrap().to_f64_vec(), vec![2.0, 0.5, 3.0]);
        let s = x.sigmoid().unwrap().to_f64_vec();
        assert!((s[1] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn rounding_and_sign_follow_numpy() {
        let x = Tensor::from_array(
            ndarray::arr1(&[-2.5f64, -0.0, 0.5, 1.5, 2.7]).into_dyn(),
            false,
        );
        let round = x.apply(UnaryFn::Round).unwrap().to_f64_vec();
        assert_eq!(round, vec![-2.0, 0.0, 0.0, 2.0, 3.0]);
        let sign = x.apply(UnaryFn::Sign).unwrap().to_f64_vec();
        assert_eq!(sign, vec![-1.0, 0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn nan_propagates_like_numpy() {
        let x = Tensor::from_array(ndarray::arr1(&[f64::NAN, -1.0]).into_dyn(), false);
        let y = x.relu().unwrap().to_f64_vec();
        assert!(y[0].is_nan() && y[1] == 0.0, "{y:?}");
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let x = Tensor::from_array(ndarray::arr1(&[-1e4f32, 1e4]).into_dyn(), false);
        assert_eq!(x.sigmoid().unwrap().to_f64_vec(), vec![0.0, 1.0]);
        let sp = x.apply(UnaryFn::Softplus).unwrap().to_f64_vec();
        assert_eq!(sp, vec![0.0, 1e4]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let all = [
            UnaryFn::Neg,
            UnaryFn::Exp,
            UnaryFn::Abs,
            UnaryFn::Square,
            UnaryFn::Relu,
            UnaryFn::Sigmoid,
            UnaryFn::Tanh,
            UnaryFn::LeakyRelu { alpha: 0.2 },
            UnaryFn::Elu { alpha: 1.3 },
            UnaryFn::Gelu,
            UnaryFn::GeluTanh,
            UnaryFn::Softplus,
            UnaryFn::Softsign,
            UnaryFn::Silu,
            UnaryFn::Selu,
            UnaryFn::Sin,
            UnaryFn::Cos,
            UnaryFn::Arctan,
            UnaryFn::Sinh,
            UnaryFn::Cosh,
            UnaryFn::Expm1,
            UnaryFn::Sign,
            UnaryFn::Floor,
        ];
        for f in all {
            check_gradients(&[randn(&[4, 3], 7)], |t| t[0].apply(f).unwrap());
        }
        let positive = randn(&[5], 8).abs().unwrap().detach();
        let positive = positive
            .scalar_op(crate::ops::binary::BinaryOp::Add, 0.5, false)
            .unwrap();
        positive.set_requires_grad(true).unwrap();
        for f in [
            UnaryFn::Log,
            UnaryFn::Sqrt,
            UnaryFn::Powf { exponent: 2.5 },
            UnaryFn::Log1p,
            UnaryFn::Log2,
            UnaryFn::Rsqrt,
            UnaryFn::Tan,
        ] {
            check_gradients(std::slice::from_ref(&positive), |t| t[0].apply(f).unwrap());
        }
    }
}

//! Vectorizable float32 `exp`, `sigmoid` and `tanh` for the cells' gate math.
//!
//! The standard library's `exp` and `tanh` are scalar calls, and in an LSTM step they cost more
//! than the GEMM. These are branch-free polynomials that the compiler turns into SIMD loops,
//! built twice: for the baseline CPU and for AVX2, picked at run time. They are accurate to a
//! few units in the last place (the test below bounds them), like vectorized math libraries.
//! NaN inputs give NaN.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two (Cody and Waite): `n * LN2_HIGH` is exact for |n| <= 127, so
/// `x - n ln 2` keeps its low bits.
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;
/// Adding and then subtracting 1.5 * 2^23 rounds to the nearest integer without a branch.
const ROUND: f32 = 12_582_912.0;
/// `1 / k!` for the Taylor series of `e^r` on `|r| <= ln 2 / 2` (error below 1e-8).
const EXP_TERMS: [f32; 6] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
];
/// Below this `|x|`, tanh comes from its Taylor series (the exp form would cancel).
const TANH_SERIES_BELOW: f32 = 0.25;
/// The Taylor coefficients of tanh after `x`: -1/3, 2/15, -17/315, 62/2835, -1382/155925.
const TANH_TERMS: [f32; 5] = [
    -1.0 / 3.0,
    2.0 / 15.0,
    -17.0 / 315.0,
    62.0 / 2835.0,
    -1382.0 / 155_925.0,
];

#[inline(always)]
fn exp(x: f32) -> f32 {
    // Within these bounds 2^n is a normal float.
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HIGH) - n * LN2_LOW;
    let mut p = EXP_TERMS[5];
    for &c in EXP_TERMS[..5].iter().rev() {
        p = p * r + c;
    }
    let e_r = (p * r + 1.0) * r + 1.0;
    let two_to_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    e_r * two_to_n
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let y = 1.0 / (1.0 + exp(-x));
    if x.is_nan() { x } else { y }
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    let from_exp = 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
    let x2 = x * x;
    let mut p = TANH_TERMS[4];
    for &c in TANH_TERMS[..4].iter().rev() {
        p = p * x2 + c;
    }
    let from_series = x + x * x2 * p;
    let y = if x.abs() < TANH_SERIES_BELOW {
        from_series
    } else {
        from_exp
    };
    if x.is_nan() { x } else { y }
}

macro_rules! dispatched {
    ($name:ident, $avx2:ident, $f:ident) => {
        pub(crate) fn $name(values: &mut [f32]) {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, which is all the function is compiled for.
                unsafe { $avx2(values) };
                return;
            }
            values.iter_mut().for_each(|v| *v = $f(*v));
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2(values: &mut [f32]) {
            values.iter_mut().for_each(|v| *v = $f(*v));
        }
    };
}

dispatched!(tanh_in_place, tanh_avx2, tanh);
dispatched!(sigmoid_in_place, sigmoid_avx2, sigmoid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_to_the_float64_functions() {
        let xs: Vec<f32> = (-40_000..=40_000).map(|i| i as f32 * 5e-4).collect();
        let (mut t, mut s) = (xs.clone(), xs.clone());
        tanh_in_place(&mut t);
        sigmoid_in_place(&mut s);
        for ((&x, &t), &s) in xs.iter().zip(&t).zip(&s) {
            let (x64, t64) = (f64::from(x), f64::from(x).tanh());
            let s64 = 1.0 / (1.0 + (-x64).exp());
            assert!(
                (f64::from(t) - t64).abs() <= 6e-7 * t64.abs().max(1e-30) + 1e-12,
                "tanh({x}) = {t}, not {t64}"
            );
            assert!(
                (f64::from(s) - s64).abs() <= 3e-7 * s64,
                "sigmoid({x}) = {s}, not {s64}"
            );
        }
        let mut extremes = [-1e30f32, -100.0, 100.0, 1e30, 0.0, -0.0, f32::NAN];
        tanh_in_place(&mut extremes);
        assert_eq!(&extremes[..6], &[-1.0, -1.0, 1.0, 1.0, 0.0, 0.0]);
        assert!(extremes[6].is_nan());
        let mut extremes = [-1e30f32, 1e30, f32::NAN];
        sigmoid_in_place(&mut extremes);
        assert!(extremes[0] < 1e-37 && extremes[1] == 1.0 && extremes[2].is_nan());
    }
}

//! Direct (nested-loop) definitions of the convolutional ops, for the tests to compare the
//! im2col implementations against, and the helpers those tests share.

use crate::dtype::DType;
use crate::parallel;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The arguments of one 2-D convolution case: everything as 2-D (a 1-D case has height 1).
#[derive(Clone, Debug)]
pub struct Case {
    pub batch: usize,
    pub input: [usize; 2],
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    /// Padding before each axis and the output size, worked out by hand from TF's rules.
    pub pad_before: [usize; 2],
    pub output: [usize; 2],
}

fn at(shape: &[usize], index: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}

/// `y[n, oh, ow, co] = sum x[n, oh*s + i*d - p, ow*s + j*d - p, g*cin_g + ci] * k[i, j, ci, co]`.
pub fn conv(case: &Case, x: &[f64], kernel: &[f64]) -> Vec<f64> {
    let [h, w] = case.input;
    let [oh_n, ow_n] = case.output;
    let (cin_g, cout_g) = (
        case.in_channels / case.groups,
        case.out_channels / case.groups,
    );
    let mut y = vec![0.0; case.batch * oh_n * ow_n * case.out_channels];
    for n in 0..case.batch {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                for co in 0..case.out_channels {
                    let g = co / cout_g;
                    let mut sum = 0.0;
                    for i in 0..case.kernel[0] {
                        for j in 0..case.kernel[1] {
                            let ih = (oh * case.strides[0] + i * case.dilation[0]) as isize
                                - case.pad_before[0] as isize;
                            let iw = (ow * case.strides[1] + j * case.dilation[1]) as isize
                                - case.pad_before[1] as isize;
                            if ih < 0 || iw < 0 || ih >= h as isize || iw >= w as isize {
                                continue;
                            }
                            for ci in 0..cin_g {
                                let xv = x[at(
                                    &[case.batch, h, w, case.in_channels],
                                    &[n, ih as usize, iw as usize, g * cin_g + ci],
                                )];
                                let kv = kernel[at(
                                    &[case.kernel[0], case.kernel[1], cin_g, case.out_channels],
                                    &[i, j, ci, co],
                                )];
                                sum += xv * kv;
                            }
                        }
                    }
                    y[at(
                        &[case.batch, oh_n, ow_n, case.out_channels],
                        &[n, oh, ow, co],
                    )] = sum;
                }
            }
        }
    }
    y
}

/// The transposed convolution as a scatter: input position `(h, w)` adds
/// `x * k[i, j, co, ci]` to output position `(h*s + i*d - p, w*s + j*d - p)`. Here `case`
/// describes the transposed op directly: `input` and `in_channels` are its input's, `output`
/// and `out_channels` its output's.
pub fn conv_transpose(case: &Case, x: &[f64], kernel: &[f64]) -> Vec<f64> {
    let [h, w] = case.input;
    let [oh_n, ow_n] = case.output;
    let (cin, cout) = (case.in_channels, case.out_channels);
    let mut y = vec![0.0; case.batch * oh_n * ow_n * cout];
    for n in 0..case.batch {
        for ih in 0..h {
            for iw in 0..w {
                for i in 0..case.kernel[0] {
                    for j in 0..case.kernel[1] {
                        let oh = (ih * case.strides[0] + i * case.dilation[0]) as isize
                            - case.pad_before[0] as isize;
                        let ow = (iw * case.strides[1] + j * case.dilation[1]) as isize
                            - case.pad_before[1] as isize;
                        if oh < 0 || ow < 0 || oh >= oh_n as isize || ow >= ow_n as isize {
                            continue;
                        }
                        for co in 0..cout {
                            for ci in 0..cin {
                                let xv = x[at(&[case.batch, h, w, cin], &[n, ih, iw, ci])];
                                let kv = kernel[at(
                                    &[case.kernel[0], case.kernel[1], cout, cin],
                                    &[i, j, co, ci],
                                )];
                                y[at(
                                    &[case.batch, oh_n, ow_n, cout],
                                    &[n, oh as usize, ow as usize, co],
                                )] += xv * kv;
                            }
                        }
                    }
                }
            }
        }
    }
    y
}

/// Max (first maximum, NaN wins) or mean over the in-bounds part of each window.
pub fn pool(case: &Case, x: &[f64], max: bool) -> Vec<f64> {
    let [h, w] = case.input;
    let [oh_n, ow_n] = case.output;
    let c = case.in_channels;
    let mut y = Vec::new();
    for n in 0..case.batch {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                for ch in 0..c {
                    let mut seen = Vec::new();
                    for i in 0..case.kernel[0] {
                        for j in 0..case.kernel[1] {
                            let ih =
                                (oh * case.strides[0] + i) as isize - case.pad_before[0] as isize;
                            let iw =
                                (ow * case.strides[1] + j) as isize - case.pad_before[1] as isize;
                            if ih >= 0 && iw >= 0 && ih < h as isize && iw < w as isize {
                                seen.push(
                                    x[at(
                                        &[case.batch, h, w, c],
                                        &[n, ih as usize, iw as usize, ch],
                                    )],
                                );
                            }
                        }
                    }
                    y.push(if max {
                        seen.iter().copied().fold(f64::NEG_INFINITY, |m, v| {
                            if v.is_nan() || m.is_nan() {
                                f64::NAN
                            } else {
                                m.max(v)
                            }
                        })
                    } else {
                        seen.iter().sum::<f64>() / seen.len() as f64
                    });
                }
            }
        }
    }
    y
}

/// A float64 tensor of `shape` holding `values`, requiring a gradient.
pub fn tensor(shape: &[usize], values: Vec<f64>) -> Tensor {
    Tensor::new(
        Storage::from_f64_vec(DType::F64, shape, values).unwrap(),
        true,
    )
}

/// Asserts two vectors agree to a relative 1e-12.
pub fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-12 * (1.0 + e.abs()) || (a.is_nan() && e.is_nan()),
            "{what}: element {i}: {a} vs {e}"
        );
    }
}

/// Runs `f` (which returns the output and the gradients, as bits) on 1, 2, 3 and 8 threads and
/// asserts that every run gives the same bits.
pub fn assert_same_bits_on_any_thread_count(what: &str, f: impl Fn() -> Vec<Vec<u64>>) {
    parallel::set_num_threads(1).unwrap();
    let one = f();
    for threads in [2, 3, 8] {
        parallel::set_num_threads(threads).unwrap();
        let other = f();
        for (i, (a, b)) in one.iter().zip(&other).enumerate() {
            assert!(
                a == b,
                "{what}: array {i} (0 is the output) differs on {threads} threads"
            );
        }
    }
    parallel::set_num_threads(2).unwrap();
}

/// The bits of a tensor's values (f32 or f64).
pub fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// TensorFlow's output size and padding before, along one axis (written out again here, from
/// TF's documentation, rather than shared with the implementation).
pub fn tf_axis(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: super::Padding,
) -> (usize, usize) {
    let effective = (kernel - 1) * dilation + 1;
    match padding {
        super::Padding::Valid => ((input - effective + stride) / stride, 0),
        super::Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + effective) as isize - input as isize;
            (out, total.max(0) as usize / 2)
        }
        super::Padding::Causal => (input.div_ceil(stride), effective - 1),
    }
}

/// Deterministic values in [-1, 1) for a shape.
pub fn values(len: usize, seed: u64) -> Vec<f64> {
    crate::ops::test_util::randn(&[len], seed).to_f64_vec()
}

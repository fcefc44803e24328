//! The convolutional ops at the shapes of the keras.io MNIST convnet (batch 128, float32):
//! 28x28x1 -> Conv2D 3x3x32 -> MaxPooling2D 2 -> Conv2D 3x3x64 -> MaxPooling2D 2, each op's
//! forward and backward timed on its own, with the GFLOP/s of the convolutions (a multiply-add
//! counts as 2 FLOPs; the backward of the first convolution computes only the kernel gradient,
//! as in training, where the images need none).
//!
//!     cargo bench --bench conv_shapes -- [threads]

use std::time::Instant;

use ferrograd::dtype::DType;
use ferrograd::ops::conv::{Conv2dOptions, Pool2dOptions, conv2d, max_pool2d};
use ferrograd::parallel;
use ferrograd::storage::Storage;
use ferrograd::tensor::Tensor;

const BATCH: usize = 128;
const ROUNDS: usize = 15;

fn tensor(shape: &[usize], seed: usize, requires_grad: bool) -> Tensor {
    let len: usize = shape.iter().product();
    let values = (0..len)
        .map(|i| ((i * 31 + seed * 7) % 97) as f64 * 0.01 - 0.5)
        .collect();
    Tensor::new(
        Storage::from_f64_vec(DType::F32, shape, values).expect("shape"),
        requires_grad,
    )
}

/// Median and minimum seconds of `ROUNDS` runs of `f` (after one warm-up run), where `f`
/// returns the seconds of the part it times.
fn time(mut f: impl FnMut() -> f64) -> (f64, f64) {
    f();
    let mut times: Vec<f64> = (0..ROUNDS).map(|_| f()).collect();
    times.sort_by(f64::total_cmp);
    (times[ROUNDS / 2], times[0])
}

fn report(label: &str, (median, min): (f64, f64), flops: Option<f64>) {
    let rate = flops.map_or(String::new(), |f| {
        format!("  {:6.1} GFLOP/s", f / median / 1e9)
    });
    println!(
        "  {label:34} median {:7.2} ms  (min {:7.2}){rate}",
        median * 1e3,
        min * 1e3
    );
}

/// One layer: its input shape, whether the input needs a gradient, and the op.
struct Layer {
    name: &'static str,
    input: Vec<usize>,
    input_grad: bool,
    kernel: Option<Vec<usize>>,
    /// Multiply-adds of the forward pass (convolutions only).
    macs: Option<f64>,
}

fn run_layer(layer: &Layer) {
    let x = tensor(&layer.input, 1, layer.input_grad);
    let k = layer.kernel.as_ref().map(|s| tensor(s, 2, true));
    let b = layer.kernel.as_ref().map(|s| tensor(&[s[3]], 3, true));
    let apply = || match (&k, &b) {
        (Some(k), Some(b)) => conv2d(&x, k, Some(b), &Conv2dOptions::default()).expect("conv2d"),
        _ => max_pool2d(&x, &Pool2dOptions::new([2, 2])).expect("max_pool2d"),
    };
    let forward = time(|| {
        let start = Instant::now();
        let y = apply();
        let seconds = start.elapsed().as_secs_f64();
        drop(y);
        seconds
    });
    let backward = time(|| {
        let y = apply();
        let grad = Storage::full(DType::F32, y.shape(), 0.01).expect("gradient");
        let start = Instant::now();
        y.backward(Some(grad), false).expect("backward");
        start.elapsed().as_secs_f64()
    });
    let out_shape = apply().shape().to_vec();
    println!("{} {:?} -> {:?}:", layer.name, layer.input, out_shape);
    let flops = layer.macs.map(|m| 2.0 * m);
    report("forward", forward, flops);
    let backward_products = if layer.input_grad { 2.0 } else { 1.0 };
    report("backward", backward, flops.map(|f| f * backward_products));
}

fn main() {
    let threads = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2);
    parallel::set_num_threads(threads).expect("thread count");
    println!("keras.io MNIST convnet, batch {BATCH}, float32, {threads} threads");
    let layers = [
        Layer {
            name: "Conv2D 3x3x32",
            input: vec![BATCH, 28, 28, 1],
            input_grad: false,
            kernel: Some(vec![3, 3, 1, 32]),
            macs: Some((BATCH * 26 * 26 * 9 * 32) as f64),
        },
        Layer {
            name: "MaxPooling2D 2",
            input: vec![BATCH, 26, 26, 32],
            input_grad: true,
            kernel: None,
            macs: None,
        },
        Layer {
            name: "Conv2D 3x3x64",
            input: vec![BATCH, 13, 13, 32],
            input_grad: true,
            kernel: Some(vec![3, 3, 32, 64]),
            macs: Some((BATCH * 11 * 11 * 9 * 32 * 64) as f64),
        },
        Layer {
            name: "MaxPooling2D 2",
            input: vec![BATCH, 11, 11, 64],
            input_grad: true,
            kernel: None,
            macs: None,
        },
    ];
    for layer in &layers {
        run_layer(layer);
    }
}

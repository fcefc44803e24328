//! The GEMMs of one training epoch at their exact shapes: ferrograd's split GEMM against a single
//! matrixmultiply call and the `gemm` crate, on the same thread count. Prints the median epoch
//! time of each.
//!
//! By default the model is the MNIST MLP (784-512-256-128-10, 60,000 images); with `--lstm` it
//! is the whole-sequence GEMMs of benchmark case 8 (two LSTM(128) layers over 80 steps of
//! 128 features, 2,000 sequences), i.e. everything but the per-step recurrent products.
//!
//!     cargo bench --bench gemm_shapes -- [threads] [batch] [--lstm] [--shapes]

use std::time::Instant;

use ferrograd::kernels::gemm::{MatMut, MatRef, gemm as split_gemm};
use ferrograd::parallel;

/// (m, k, n, a transposed, b transposed) of every GEMM in one step.
fn step_shapes(batch: usize) -> Vec<(usize, usize, usize, bool, bool)> {
    if lstm_mode() {
        return lstm_shapes(batch);
    }
    let sizes = [784, 512, 256, 128, 10];
    let mut shapes = Vec::new();
    for (i, w) in sizes.windows(2).enumerate() {
        let (fan_in, fan_out) = (w[0], w[1]);
        shapes.push((batch, fan_in, fan_out, false, false)); // forward x @ W
        shapes.push((fan_in, batch, fan_out, true, false)); // weight gradient x^T @ dz
        if i > 0 {
            shapes.push((batch, fan_out, fan_in, false, true)); // input gradient dz @ W^T
        }
    }
    shapes
}

fn lstm_mode() -> bool {
    std::env::args().any(|a| a == "--lstm")
}

/// One LSTM(128) layer over a batch of 80 steps of 128 features: the input projection, then in
/// backward the kernel gradient, the input gradient and the recurrent kernel gradient.
fn lstm_shapes(batch: usize) -> Vec<(usize, usize, usize, bool, bool)> {
    let (rows, features, width, units) = (batch * 80, 128, 512, 128);
    vec![
        (rows, features, width, false, false), // x @ W
        (features, rows, width, true, false),  // x^T @ dz
        (rows, width, features, false, true),  // dz @ W^T
        (units, rows, width, true, false),     // h^T @ dz
    ]
}

/// One GEMM implementation: `(m, k, n, a transposed, b transposed, a, b, c)`.
type GemmFn = dyn Fn(usize, usize, usize, bool, bool, &[f32], &[f32], &mut [f32]);

fn matrices(m: usize, k: usize, n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let a = (0..m * k).map(|i| (i % 17) as f32 * 0.01).collect();
    let b = (0..k * n).map(|i| (i % 13) as f32 * 0.01).collect();
    (a, b, vec![0.0; m * n])
}

fn view(data: &[f32], rows: usize, cols: usize, transposed: bool) -> MatRef<'_, f32> {
    if transposed {
        MatRef::row_major(data, cols, rows).t()
    } else {
        MatRef::row_major(data, rows, cols)
    }
}

fn epoch_time(batch: usize, steps: usize, run: &GemmFn) -> f64 {
    let shapes = step_shapes(batch);
    let buffers: Vec<_> = shapes
        .iter()
        .map(|&(m, k, n, _, _)| matrices(m, k, n))
        .collect();
    let mut outputs: Vec<Vec<f32>> = buffers.iter().map(|(_, _, c)| c.clone()).collect();
    let start = Instant::now();
    for _ in 0..steps {
        for (i, &(m, k, n, ta, tb)) in shapes.iter().enumerate() {
            run(
                m,
                k,
                n,
                ta,
                tb,
                &buffers[i].0,
                &buffers[i].1,
                &mut outputs[i],
            );
        }
    }
    start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let threads = args.first().copied().unwrap_or(2);
    let batch = args.get(1).copied().unwrap_or(64);
    // An "epoch" of the LSTM case: two layers per batch of its 2,000 sequences.
    let steps = if lstm_mode() {
        2 * 2_000usize.div_ceil(batch)
    } else {
        60_000usize.div_ceil(batch)
    };
    parallel::set_num_threads(threads).expect("thread count");
    let flops: f64 = step_shapes(batch)
        .iter()
        .map(|&(m, k, n, _, _)| 2.0 * (m * k * n) as f64)
        .sum::<f64>()
        * steps as f64;
    println!(
        "GEMMs of one epoch: batch {batch}, {steps} steps, {:.1} GFLOP, {threads} threads",
        flops / 1e9
    );

    let ours = |m, k, n, ta, tb, a: &[f32], b: &[f32], c: &mut [f32]| {
        split_gemm(
            1.0,
            view(a, m, k, ta),
            view(b, k, n, tb),
            0.0,
            MatMut::row_major(c, m, n),
        );
    };
    let plain =
        |m: usize, k: usize, n: usize, ta: bool, tb: bool, a: &[f32], b: &[f32], c: &mut [f32]| {
            let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
            let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
            // SAFETY: the strides describe the buffers' own shapes.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    rsa,
                    csa,
                    b.as_ptr(),
                    rsb,
                    csb,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            }
        };
    let gemm_crate = move |m: usize,
                           k: usize,
                           n: usize,
                           ta: bool,
                           tb: bool,
                           a: &[f32],
                           b: &[f32],
                           c: &mut [f32]| {
        let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
        let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
        let parallelism = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: as above.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                csa,
                rsa,
                b.as_ptr(),
                csb,
                rsb,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                parallelism,
            )
        }
    };
    let candidates: [(&str, &GemmFn); 3] = [
        ("ferrograd (split blocks)", &ours),
        ("matrixmultiply, one call", &plain),
        ("gemm crate", &gemm_crate),
    ];
    if std::env::args().any(|a| a == "--shapes") {
        per_shape(batch, steps);
    }
    for (name, run) in candidates {
        let times: Vec<f64> = (0..5).map(|_| epoch_time(batch, steps, run)).collect();
        let best = median(times.clone());
        println!(
            "{name:28} median {best:.3} s  (min {:.3}, max {:.3})  {:.0} GFLOP/s",
            times.iter().cloned().fold(f64::INFINITY, f64::min),
            times.iter().cloned().fold(0.0, f64::max),
            flops / best / 1e9
        );
    }
}

/// Time per shape for one epoch (printed with `--shapes`).
#[allow(dead_code)]
fn per_shape(batch: usize, steps: usize) {
    for (m, k, n, ta, tb) in step_shapes(batch) {
        let (a, b, mut c) = matrices(m, k, n);
        let start = Instant::now();
        for _ in 0..steps {
            split_gemm(
                1.0,
                view(&a, m, k, ta),
                view(&b, k, n, tb),
                0.0,
                MatMut::row_major(&mut c, m, n),
            );
        }
        let t = start.elapsed().as_secs_f64();
        println!(
            "  {m:>4} x {k:>4} x {n:>4} (a^T {ta:5}, b^T {tb:5}): {t:.3} s  {:.0} GFLOP/s",
            2.0 * (m * k * n * steps) as f64 / t / 1e9
        );
    }
}

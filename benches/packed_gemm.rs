//! Repeated products with one right-hand matrix, as in a recurrent layer's time steps and in
//! `predict`'s batches: ferrograd's split GEMM (matrixmultiply, which packs both operands on
//! every call) against the packed-panel GEMM (the matrix packed once per run, packing included).
//!
//!     cargo bench --bench packed_gemm -- [threads]

use std::time::Instant;

use ferrograd::kernels::gemm::{MatMut, MatRef, gemm};
use ferrograd::kernels::packed::{PackedRhs, gemm_packed};
use ferrograd::parallel;

/// A named workload: `(m, k, n)` products, each repeated `repeats` times with the same matrix.
struct Workload {
    name: &'static str,
    shapes: Vec<(usize, usize, usize)>,
    repeats: usize,
    /// Pack the matrix again for every product (a GEMM whose right-hand side is new each time).
    pack_each_call: bool,
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "LSTM(128) steps, batch 64, 80 steps",
            shapes: vec![(64, 128, 512), (64, 512, 128)],
            repeats: 80,
            pack_each_call: false,
        },
        Workload {
            name: "predict 784-512-256-128-10, batch 32",
            shapes: vec![
                (32, 784, 512),
                (32, 512, 256),
                (32, 256, 128),
                (32, 128, 10),
            ],
            repeats: 313,
            pack_each_call: false,
        },
        Workload {
            name: "LSTM(128) input projection, 80 steps x batch 64, packed each call",
            shapes: vec![(5120, 128, 512)],
            repeats: 10,
            pack_each_call: true,
        },
        Workload {
            name: "LSTM(128) input gradient, 80 steps x batch 64, packed each call",
            shapes: vec![(5120, 512, 128)],
            repeats: 10,
            pack_each_call: true,
        },
    ]
}

fn data(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 97) as f32 * 0.01 - 0.5)
        .collect()
}

fn run(workload: &Workload, packed: bool) -> f64 {
    let inputs: Vec<_> = workload
        .shapes
        .iter()
        .map(|&(m, k, n)| (data(m * k, 1), data(k * n, 2), vec![0.0f32; m * n]))
        .collect();
    let mut outputs: Vec<Vec<f32>> = inputs.iter().map(|(_, _, c)| c.clone()).collect();
    let start = Instant::now();
    for (i, &(m, k, n)) in workload.shapes.iter().enumerate() {
        let (a, b, _) = &inputs[i];
        let rhs = MatRef::row_major(b, k, n);
        let mut prepared = packed.then(|| PackedRhs::new(rhs));
        for _ in 0..workload.repeats {
            let a = MatRef::row_major(a, m, k);
            let c = MatMut::row_major(&mut outputs[i], m, n);
            if packed && workload.pack_each_call {
                prepared = Some(PackedRhs::new(rhs));
            }
            match &prepared {
                Some(rhs) => gemm_packed(a, rhs, 0.0, c),
                None => gemm(1.0, a, rhs, 0.0, c),
            }
        }
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let threads = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2);
    parallel::set_num_threads(threads).expect("thread count");
    for workload in workloads() {
        let flops: f64 = workload
            .shapes
            .iter()
            .map(|&(m, k, n)| 2.0 * (m * k * n * workload.repeats) as f64)
            .sum();
        println!("{} ({threads} threads):", workload.name);
        for (label, packed) in [("split matrixmultiply", false), ("packed panels", true)] {
            let mut times: Vec<f64> = (0..15).map(|_| run(&workload, packed)).collect();
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            println!(
                "  {label:22} median {:.2} ms  (min {:.2})  {:.0} GFLOP/s",
                median * 1e3,
                times[0] * 1e3,
                flops / median / 1e9
            );
        }
    }
}

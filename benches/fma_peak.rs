//! The most multiply-adds this machine's cores can do: every thread runs independent chains of
//! fused multiply-adds on registers only (no memory traffic), AVX2 and, where present, AVX-512.
//! No GEMM can run faster; `benches/NOTES.md` divides the GEMM work of a case by this rate.
//!
//!     cargo bench --bench fma_peak -- [threads]

fn main() {
    let threads = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2);
    #[cfg(target_arch = "x86_64")]
    x86::report(threads);
    #[cfg(not(target_arch = "x86_64"))]
    println!("no FMA kernel for this architecture ({threads} threads asked)");
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::time::Instant;

    /// Independent accumulators: enough to cover the latency of the FMA units (4 cycles, 2 units).
    const CHAINS: usize = 12;
    const ITERATIONS: usize = 200_000_000;

    /// Runs chains of multiply-adds for a number of iterations: (flops done, a checksum).
    type Chains = fn(usize) -> (f64, f32);

    pub fn report(threads: usize) {
        let mut kernels: Vec<(&str, Chains)> = Vec::new();
        if is_x86_feature_detected!("avx") && is_x86_feature_detected!("fma") {
            // SAFETY: the features were detected just above.
            kernels.push(("AVX2 + FMA", |n| unsafe { avx2(n) }));
        }
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected just above.
            kernels.push(("AVX-512", |n| unsafe { avx512(n) }));
        }
        for (name, work) in kernels {
            let mut rates: Vec<f64> = (0..5).map(|_| rate(threads, work)).collect();
            rates.sort_by(f64::total_cmp);
            println!(
                "{name:11} {threads} threads: median {:.0} GFLOP/s f32 (max {:.0})",
                rates[2], rates[4]
            );
        }
    }

    /// GFLOP/s of `threads` threads each running `work` at once.
    fn rate(threads: usize, work: Chains) -> f64 {
        let start = Instant::now();
        let flops: f64 = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..threads)
                .map(|_| scope.spawn(move || work(ITERATIONS / threads.max(1))))
                .collect();
            runs.into_iter()
                .map(|run| {
                    let (flops, check) = run.join().expect("an FMA thread panicked");
                    assert!(check.is_finite());
                    flops
                })
                .sum()
        });
        flops / start.elapsed().as_secs_f64() / 1e9
    }

    /// Flops done and a value that depends on every chain, so that none is optimised away.
    #[target_feature(enable = "avx,fma")]
    fn avx2(iterations: usize) -> (f64, f32) {
        let mut acc = [_mm256_set1_ps(0.0); CHAINS];
        let (scale, shift) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-6));
        for _ in 0..iterations {
            for value in acc.iter_mut() {
                *value = _mm256_fmadd_ps(scale, *value, shift);
            }
        }
        let mut lanes = [0.0f32; 8];
        let mut sum = 0.0;
        for value in acc {
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), value) };
            sum += lanes[0];
        }
        ((iterations * CHAINS * 16) as f64, sum)
    }

    #[target_feature(enable = "avx512f")]
    fn avx512(iterations: usize) -> (f64, f32) {
        let mut acc = [_mm512_set1_ps(0.0); CHAINS];
        let (scale, shift) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-6));
        for _ in 0..iterations {
            for value in acc.iter_mut() {
                *value = _mm512_fmadd_ps(scale, *value, shift);
            }
        }
        let sum = acc.iter().map(|&value| _mm512_reduce_add_ps(value)).sum();
        ((iterations * CHAINS * 32) as f64, sum)
    }
}

//! W6 `sgemm`: `C = A·B` in f32, row-major.
//!
//! Cases are `m x k x n` (A is m×k, B k×n): the squares of `BENCHMARKS.md` (n = 256, 1024,
//! 2048) and the course's skinny shapes (one example and a 20-example batch through a
//! 12288 -> 209 layer, and the 209 -> 12288 product of its backward pass). Figures: GFLOP/s
//! (`2 m k n / seconds`) and microseconds per call.
//!
//! Two variants per case: `kernel`, the raw `kernels::gemm` into a preallocated C (what
//! NumPy's `matmul(a, b, out=c)` does), and `tensor`, `Tensor::matmul` on tensors that do not
//! require gradients (it allocates its output, as a forward pass does).

use crate::{time, BenchError, Figure, Measurement, Settings, Timing};
use dlkit_core::kernels::gemm::{gemm, MatRef};
use dlkit_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The `m x k x n` shapes of W6, squares first.
pub const CASES: &[(usize, usize, usize)] = &[
    (256, 256, 256),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (1, 12288, 209),
    (20, 12288, 209),
    (20, 209, 12288),
];

/// Seed of the uniform random inputs.
pub const SEED: u64 = 6;

/// Times every case of [`CASES`], both variants, on the current rayon pool.
pub fn run(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let mut out = Vec::new();
    for &(m, k, n) in CASES {
        out.extend(run_case(m, k, n, settings)?);
    }
    Ok(out)
}

/// Times one `m x k x n` product with the kernel and with `Tensor::matmul`, after checking a
/// few entries of each C against f64 dot products.
pub fn run_case(
    m: usize,
    k: usize,
    n: usize,
    settings: &Settings,
) -> Result<[Measurement; 2], BenchError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let check = |variant: &str, c: &[f32]| -> Result<(), BenchError> {
        for (i, j) in [(0, 0), (m / 2, n / 2), (m - 1, n - 1)] {
            let want: f64 = (0..k)
                .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                .sum();
            let got = c[i * n + j] as f64;
            if (got - want).abs() > 1e-4 * k as f64 {
                let msg = format!("W6 {variant} {m}x{k}x{n}: C[{i},{j}] = {got}, not {want}");
                return Err(msg.into());
            }
        }
        Ok(())
    };

    let (ar, br) = (MatRef::row_major(&a, k), MatRef::row_major(&b, n));
    let mut c = vec![0.0f32; m * n];
    gemm(m, n, k, ar, br, &mut c, n, false);
    check("kernel", &c)?;
    let kernel = time(settings, || gemm(m, n, k, ar, br, &mut c, n, false));

    let ta = Tensor::from_vec(a.clone(), &[m, k]);
    let tb = Tensor::from_vec(b.clone(), &[k, n]);
    check("tensor", &ta.matmul(&tb).to_vec::<f32>())?;
    let tensor = time(settings, || drop(ta.matmul(&tb)));

    Ok([
        measurement(m, k, n, "kernel", kernel),
        measurement(m, k, n, "tensor", tensor),
    ])
}

fn measurement(m: usize, k: usize, n: usize, variant: &'static str, timing: Timing) -> Measurement {
    let flops = 2.0 * m as f64 * k as f64 * n as f64;
    Measurement {
        workload: "W6",
        case: format!("{m}x{k}x{n}"),
        variant,
        threads: rayon::current_num_threads(),
        scale: 1.0,
        note: String::new(),
        figures: vec![
            Figure {
                key: "gflops",
                unit: "GFLOP/s",
                value: flops / timing.median / 1e9,
            },
            Figure {
                key: "us",
                unit: "us",
                value: timing.median * 1e6,
            },
        ],
        timing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn small_case_checks_and_reports_both_variants() {
        let settings = Settings {
            reps: 5,
            min_rep_time: Duration::from_micros(50),
            full: false,
        };
        let [kernel, tensor] = run_case(3, 40, 7, &settings).unwrap();
        assert_eq!((kernel.case.as_str(), kernel.variant), ("3x40x7", "kernel"));
        assert_eq!(tensor.variant, "tensor");
        assert!(kernel.figures[0].value > 0.0 && tensor.figures[0].value > 0.0);
        let json = kernel.to_json_line();
        assert!(
            json.starts_with("{\"source\":\"dlkit\",\"workload\":\"W6\""),
            "{json}"
        );
    }
}

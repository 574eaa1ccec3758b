//! Helpers shared by the integration tests: seeded f64 tensors, inputs kept away from kinks,
//! and the course's gradient check with a well-conditioned scalar `sum(op(x) * G)`.
#![allow(dead_code)]

use dlkit_core::gradcheck::{EPSILON, THRESHOLD};
use dlkit_core::{gradient_check, no_grad, DType, GradCheckReport, Rng, Tensor};

/// N(0, 1) samples in f64.
pub fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_normal(shape, 0.0, 1.0, DType::F64, &mut Rng::new(seed))
}

/// Uniform samples in `[lo, hi)` in f64.
pub fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, lo, hi, DType::F64, &mut Rng::new(seed))
}

/// Values of magnitude in `[0.2, 1.5)` with random signs: at least 0.2 from a kink at 0.
pub fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| {
            let m = rng.uniform(0.2, 1.5);
            if rng.below(2) == 0 {
                m
            } else {
                -m
            }
        })
        .collect();
    Tensor::from_vec(v, shape)
}

/// A random permutation of `{-1.5 + 3 k / n}`: distinct values at least `3 / n` apart, so a
/// step of epsilon never changes which element is the largest (no ties for max reductions
/// and max pooling).
pub fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let mut v: Vec<f64> = (0..n).map(|k| -1.5 + 3.0 * k as f64 / n as f64).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i + 1));
    }
    Tensor::from_vec(v, shape)
}

/// The largest relative difference any check in this test binary has seen (printed with
/// `--nocapture`).
static WORST: std::sync::Mutex<f64> = std::sync::Mutex::new(0.0);

/// Runs the course's gradient check (epsilon 1e-7) of the scalar `f` and asserts the
/// relative difference is below `bound`; returns the report.
pub fn check_scalar_bound(
    name: &str,
    inputs: &[Tensor],
    bound: f64,
    f: impl Fn(&[Tensor]) -> Tensor,
) -> GradCheckReport {
    let r = gradient_check(inputs, EPSILON, f).unwrap_or_else(|e| panic!("{name}: {e}"));
    {
        let mut w = WORST.lock().unwrap();
        if r.relative_difference > *w {
            *w = r.relative_difference;
        }
    }
    eprintln!(
        "gradcheck {name}: relative difference {:.3e} (per input {:?})",
        r.relative_difference, r.per_input
    );
    assert!(
        r.relative_difference < bound,
        "{name}: relative difference {:e} >= {bound:e}\nanalytic {:?}\nnumeric  {:?}",
        r.relative_difference,
        r.analytic,
        r.numeric
    );
    // A check that compares zeros with zeros proves nothing.
    assert!(
        r.analytic.iter().flatten().any(|&g| g != 0.0),
        "{name}: every gradient is zero"
    );
    r
}

/// [`check_scalar_bound`] at the course's threshold, 1e-7.
pub fn check_scalar(
    name: &str,
    inputs: &[Tensor],
    f: impl Fn(&[Tensor]) -> Tensor,
) -> GradCheckReport {
    check_scalar_bound(name, inputs, THRESHOLD, f)
}

/// Checks `op` through the well-conditioned scalar `sum(op(inputs) * G)`, with `G` a fixed
/// N(0, 1) tensor of the output's shape drawn from `seed`.
pub fn check_op(
    name: &str,
    inputs: &[Tensor],
    seed: u64,
    op: impl Fn(&[Tensor]) -> Tensor,
) -> GradCheckReport {
    let shape = no_grad(|| op(inputs)).shape().to_vec();
    let g = randn(&shape, seed);
    check_scalar(name, inputs, |t| op(t).mul(&g).sum_all())
}

/// The largest relative difference seen so far by this test binary.
pub fn worst() -> f64 {
    *WORST.lock().unwrap()
}

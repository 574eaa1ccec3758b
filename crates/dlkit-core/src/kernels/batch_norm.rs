//! Batch normalisation over contiguous rows of `c` channels (channels last: `[.., c]`, any
//! leading axes), per channel `j`, with `N` the number of rows:
//!
//! ```text
//! μ = (1/N) Σ x          σ² = (1/N) Σ (x - μ)²      (biased)
//! x̂ = (x - μ) · s        s  = 1 / √(σ² + ε)         y = γ x̂ + β
//! dx = (γ s / N) (N dy - Σ dy - x̂ Σ dy ⊙ x̂)          (training: μ and σ² depend on x)
//! dx = γ s dy                                        (given statistics)
//! dγ = Σ dy ⊙ x̂          dβ = Σ dy
//! ```
//!
//! Sums run over bands of rows of a fixed size (about [`BAND_ELEMS`] elements), each band's
//! partial sums added in band order, so results do not depend on the number of threads;
//! inputs of at least [`PARALLEL_MIN_ELEMENTS`] elements run the bands on rayon's pool.
//! `x̂` is recomputed from `x`, `μ` and `s` in the backward instead of being stored.

use crate::element::Element;
use rayon::prelude::*;

/// Elements per band of rows (a band is at least one row).
const BAND_ELEMS: usize = 1 << 14;
/// Below this many elements a call runs on one thread.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Rows per band for rows of `c` elements.
fn band_rows(c: usize) -> usize {
    (BAND_ELEMS / c.max(1)).max(1)
}

fn parallel(len: usize) -> bool {
    len >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1
}

/// `k` per-channel sums (`k · c` values, sum `i` at `[i·c, (i+1)·c)`) over the rows of
/// `x` (and `dy`, of the same length), where `add(x_band, dy_band, acc)` adds one band's
/// rows into a zeroed `acc`.
fn channel_sums<T: Element>(
    x: &[T],
    dy: &[T],
    c: usize,
    k: usize,
    add: impl Fn(&[T], &[T], &mut [T]) + Sync,
) -> Vec<T> {
    let band = band_rows(c) * c;
    let partial = |(xb, db): (&[T], &[T])| {
        let mut acc = vec![T::zero(); k * c];
        add(xb, db, &mut acc);
        acc
    };
    let partials: Vec<Vec<T>> = if parallel(x.len()) {
        x.par_chunks(band)
            .zip(dy.par_chunks(band))
            .map(partial)
            .collect()
    } else {
        x.chunks(band).zip(dy.chunks(band)).map(partial).collect()
    };
    let mut total = vec![T::zero(); k * c];
    for p in partials {
        total.iter_mut().zip(&p).for_each(|(t, &v)| *t += v);
    }
    total
}

/// `out[r·c + j] = f(j, x[r·c + j], dy[r·c + j])` over every row, in parallel bands for
/// large inputs (`dy` may be `x` where a pass needs one input).
fn map_rows<T: Element>(
    x: &[T],
    dy: &[T],
    c: usize,
    out: &mut [T],
    f: impl Fn(usize, T, T) -> T + Sync,
) {
    let band = |(o, (xb, db)): (&mut [T], (&[T], &[T]))| {
        for ((o, xr), dr) in o
            .chunks_exact_mut(c)
            .zip(xb.chunks_exact(c))
            .zip(db.chunks_exact(c))
        {
            for (j, ((o, &v), &d)) in o.iter_mut().zip(xr).zip(dr).enumerate() {
                *o = f(j, v, d);
            }
        }
    };
    let rows = band_rows(c) * c;
    if parallel(x.len()) {
        out.par_chunks_mut(rows)
            .zip(x.par_chunks(rows).zip(dy.par_chunks(rows)))
            .for_each(band);
    } else {
        out.chunks_mut(rows)
            .zip(x.chunks(rows).zip(dy.chunks(rows)))
            .for_each(band);
    }
}

/// The per-channel mean and biased variance of the rows of `x` (`x.len()` a non-zero
/// multiple of `c`), in two passes: `μ = Σ x / N`, then `σ² = Σ (x - μ)² / N`.
pub fn batch_norm_stats<T: Element>(x: &[T], c: usize) -> (Vec<T>, Vec<T>) {
    let count = T::of((x.len() / c) as f64);
    let sums = channel_sums(x, x, c, 1, |xb, _, acc| {
        for row in xb.chunks_exact(c) {
            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
        }
    });
    let mean: Vec<T> = sums.iter().map(|&s| s / count).collect();
    let squares = channel_sums(x, x, c, 1, |xb, _, acc| {
        for row in xb.chunks_exact(c) {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&mean) {
                let d = v - m;
                *a += d * d;
            }
        }
    });
    let var = squares.iter().map(|&s| s / count).collect();
    (mean, var)
}

/// `s = 1 / √(σ² + ε)` per channel.
pub fn inv_std<T: Element>(var: &[T], epsilon: f64) -> Vec<T> {
    var.iter()
        .map(|&v| T::one() / (v + T::of(epsilon)).sqrt())
        .collect()
}

/// `y = (x - μ) · (γ s) + β` over the rows of `x` (all of `y` is written).
pub fn batch_norm_forward<T: Element>(
    x: &[T],
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
) {
    let c = mean.len();
    let scale: Vec<T> = gamma.iter().zip(inv_std).map(|(&g, &s)| g * s).collect();
    map_rows(x, x, c, y, |j, v, _| (v - mean[j]) * scale[j] + beta[j]);
}

/// `(Σ dy, Σ dy ⊙ x̂)` per channel, with `x̂ = (x - μ) s`.
pub fn batch_norm_grad_sums<T: Element>(
    x: &[T],
    dy: &[T],
    mean: &[T],
    inv_std: &[T],
) -> (Vec<T>, Vec<T>) {
    let c = mean.len();
    let sums = channel_sums(x, dy, c, 2, |xb, db, acc| {
        let (sdy, sdyx) = acc.split_at_mut(c);
        for (xr, dr) in xb.chunks_exact(c).zip(db.chunks_exact(c)) {
            for j in 0..c {
                let x_hat = (xr[j] - mean[j]) * inv_std[j];
                sdy[j] += dr[j];
                sdyx[j] += dr[j] * x_hat;
            }
        }
    });
    let (sdy, sdyx) = sums.split_at(c);
    (sdy.to_vec(), sdyx.to_vec())
}

/// The training backward's `dx = (γ s / N) (N dy - Σ dy - x̂ Σ dy ⊙ x̂)` (all of `dx` is
/// written), from the sums of [`batch_norm_grad_sums`].
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward_data<T: Element>(
    x: &[T],
    dy: &[T],
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    (sum_dy, sum_dy_x_hat): (&[T], &[T]),
    dx: &mut [T],
) {
    let c = mean.len();
    let count = T::of((x.len() / c.max(1)) as f64);
    let k: Vec<T> = gamma
        .iter()
        .zip(inv_std)
        .map(|(&g, &s)| g * s / count)
        .collect();
    map_rows(x, dy, c, dx, |j, v, d| {
        let x_hat = (v - mean[j]) * inv_std[j];
        k[j] * (count * d - sum_dy[j] - x_hat * sum_dy_x_hat[j])
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values that are not multiples of a power of two, per `(row, channel)`.
    fn values(rows: usize, c: usize, k: f64) -> Vec<f64> {
        (0..rows * c)
            .map(|i| (i as f64 * k).sin() * 3.0 + (i % c) as f64)
            .collect()
    }

    /// The forward and both backward formulas by direct loops over channels.
    #[allow(clippy::type_complexity)]
    fn naive(
        x: &[f64],
        dy: &[f64],
        gamma: &[f64],
        beta: &[f64],
        eps: f64,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let c = gamma.len();
        let n = x.len() / c;
        let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut mean, mut var, mut dg, mut db) =
            (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
        for j in 0..c {
            let col: Vec<f64> = (0..n).map(|r| x[r * c + j]).collect();
            let m = col.iter().sum::<f64>() / n as f64;
            let v = col.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / n as f64;
            let s = 1.0 / (v + eps).sqrt();
            let xh: Vec<f64> = col.iter().map(|a| (a - m) * s).collect();
            let g: Vec<f64> = (0..n).map(|r| dy[r * c + j]).collect();
            let sg: f64 = g.iter().sum();
            let sgx: f64 = g.iter().zip(&xh).map(|(a, b)| a * b).sum();
            for r in 0..n {
                y[r * c + j] = gamma[j] * xh[r] + beta[j];
                dx[r * c + j] = gamma[j] * s / n as f64 * (n as f64 * g[r] - sg - xh[r] * sgx);
            }
            (mean[j], var[j], dg[j], db[j]) = (m, v, sgx, sg);
        }
        (y, dx, mean, var, dg, db)
    }

    fn close(a: &[f64], b: &[f64], tol: f64) {
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * scale,
                "at {i} of {}: {x} vs {y}",
                a.len()
            );
        }
    }

    fn check(rows: usize, c: usize, threads: usize) {
        let (x, dy) = (values(rows, c, 0.37), values(rows, c, 1.91));
        let gamma: Vec<f64> = (0..c).map(|j| 0.5 + j as f64 * 0.25).collect();
        let beta: Vec<f64> = (0..c).map(|j| j as f64 * -0.125).collect();
        let eps = 1e-5;
        let (y0, dx0, m0, v0, dg0, db0) = naive(&x, &dy, &gamma, &beta, eps);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mean, var) = batch_norm_stats(&x, c);
            let s = inv_std(&var, eps);
            let mut y = vec![f64::NAN; x.len()];
            batch_norm_forward(&x, &mean, &s, &gamma, &beta, &mut y);
            let (sdy, sdyx) = batch_norm_grad_sums(&x, &dy, &mean, &s);
            let mut dx = vec![f64::NAN; x.len()];
            batch_norm_backward_data(&x, &dy, &mean, &s, &gamma, (&sdy, &sdyx), &mut dx);
            for (got, want) in [
                (&mean, &m0),
                (&var, &v0),
                (&y, &y0),
                (&dx, &dx0),
                (&sdyx, &dg0),
                (&sdy, &db0),
            ] {
                // Σ dy ⊙ x̂ moves by Σ dy times the mean's rounding: large for many rows.
                close(got, want, 1e-8);
            }
            // The code is generic; f32 is checked where its rounding of the sums (whose terms
            // exceed the sums in magnitude) stays far below the tolerance: few rows, and few
            // channels (the values grow with the channel, so f32 rounds wide rows' inputs).
            if rows > 64 || c > 64 {
                return;
            }
            let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            let (x32, dy32, g32, b32) = (f(&x), f(&dy), f(&gamma), f(&beta));
            let (mean, var) = batch_norm_stats(&x32, c);
            let s = inv_std(&var, eps);
            let mut y = vec![f32::NAN; x.len()];
            batch_norm_forward(&x32, &mean, &s, &g32, &b32, &mut y);
            let (sdy, sdyx) = batch_norm_grad_sums(&x32, &dy32, &mean, &s);
            let mut dx = vec![f32::NAN; x.len()];
            batch_norm_backward_data(&x32, &dy32, &mean, &s, &g32, (&sdy, &sdyx), &mut dx);
            let w = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
            close(&w(&y), &y0, 1e-4);
            close(&w(&dx), &dx0, 1e-3);
            close(&w(&sdyx), &dg0, 1e-3);
        });
    }

    #[test]
    fn matches_loops_on_one_and_several_threads() {
        check(6, 3, 1);
        check(1, 4, 1); // one row: x̂ = 0, dx = 0
        check(64, 16, 1);
        check(2 * 64 * 5, 7, 1);
        // Many bands of rows, parallel, and a row longer than a band.
        check(4096, 37, 2);
        check(3, BAND_ELEMS + 5, 2);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let x = values(4096, 33, 0.37);
        let run = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| batch_norm_stats(&x, 33))
        };
        assert_eq!(run(1), run(3));
    }
}

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

use super::conv::simd::{map, multiversion};
use crate::element::Element;
use rayon::prelude::*;

/// Elements per band of rows (a band is at least one group of rows).
const BAND_ELEMS: usize = 1 << 14;
/// Below this many elements a call runs on one thread.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;
/// Elements per group: `⌊64 / c⌋` consecutive rows are handled as one vector of `g·c`
/// elements, against per-channel coefficients repeated `g` times, so that few channels still
/// fill the SIMD registers.
const GROUP_ELEMS: usize = 64;

/// Rows per group and per band for rows of `c` elements (a band is whole groups).
fn group_and_band_rows(c: usize) -> (usize, usize) {
    let g = (GROUP_ELEMS / c.max(1)).max(1);
    (g, ((BAND_ELEMS / c.max(1)).max(1)).div_ceil(g) * g)
}

fn parallel(len: usize) -> bool {
    len >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1
}

/// `v` (per channel) repeated for each of the `g` rows of a group.
fn tiled<T: Element>(v: &[T], g: usize) -> Vec<T> {
    v.iter().copied().cycle().take(v.len() * g).collect()
}

/// `k` per-channel sums over the rows of `x` and `dy` (of one length): `add(x_band,
/// dy_band, acc)` adds a band into `k` zeroed accumulators of one group's width each (`acc`
/// is `k·g·c` long); the bands' partial sums are added in band order and each accumulator's
/// `g` rows folded in row order, so results do not depend on the number of threads. Sum `i`
/// is at `[i·c, (i+1)·c)` of the result.
fn channel_sums<T: Element>(
    x: &[T],
    dy: &[T],
    c: usize,
    k: usize,
    add: impl Fn(&[T], &[T], &mut [T]) + Sync,
) -> Vec<T> {
    let (g, band_rows) = group_and_band_rows(c);
    let (width, band) = (g * c, band_rows * c);
    let partial = |(xb, db): (&[T], &[T])| {
        let mut acc = vec![T::zero(); k * width];
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
    let mut total = vec![T::zero(); k * width];
    for p in partials {
        total.iter_mut().zip(&p).for_each(|(t, &v)| *t += v);
    }
    let mut sums = vec![T::zero(); k * c];
    for (s, t) in sums.chunks_exact_mut(c).zip(total.chunks_exact(width)) {
        for row in t.chunks_exact(c) {
            s.iter_mut().zip(row).for_each(|(s, &v)| *s += v);
        }
    }
    sums
}

/// Runs `band(x_band, dy_band, out_band)` over bands of whole groups of rows, in parallel for
/// large inputs (`dy` may be `x` where a pass needs one input).
fn for_bands<T: Element>(
    x: &[T],
    dy: &[T],
    c: usize,
    out: &mut [T],
    band: impl Fn(&[T], &[T], &mut [T]) + Sync,
) {
    let rows = group_and_band_rows(c).1 * c;
    if parallel(x.len()) {
        out.par_chunks_mut(rows)
            .zip(x.par_chunks(rows).zip(dy.par_chunks(rows)))
            .for_each(|(o, (xb, db))| band(xb, db, o));
    } else {
        out.chunks_mut(rows)
            .zip(x.chunks(rows).zip(dy.chunks(rows)))
            .for_each(|(o, (xb, db))| band(xb, db, o));
    }
}

multiversion!(
    /// `acc += x` group by group (`acc` one group wide; the last group may be short).
    fn add_groups<T: Element>(x: &[T], acc: &mut [T]) => add_groups_body
);

#[inline(always)]
fn add_groups_body<T: Element>(x: &[T], acc: &mut [T]) {
    for xg in x.chunks(acc.len()) {
        map(&mut acc[..xg.len()], [xg], |a, [v]| a + v);
    }
}

multiversion!(
    /// `acc += (x - m)²` group by group (`m` tiled to the group's width).
    fn add_square_deviations<T: Element>(x: &[T], m: &[T], acc: &mut [T]) => add_square_deviations_body
);

#[inline(always)]
fn add_square_deviations_body<T: Element>(x: &[T], m: &[T], acc: &mut [T]) {
    for xg in x.chunks(acc.len()) {
        map(&mut acc[..xg.len()], [xg, m], |a, [v, m]| {
            let d = v - m;
            a + d * d
        });
    }
}

multiversion!(
    /// `sdy += dy`, `sdyc += dy ⊙ (x - m)` group by group.
    fn add_grad_sums<T: Element>(x: &[T], dy: &[T], m: &[T], sdy: &mut [T], sdyc: &mut [T]) => add_grad_sums_body
);

#[inline(always)]
fn add_grad_sums_body<T: Element>(x: &[T], dy: &[T], m: &[T], sdy: &mut [T], sdyc: &mut [T]) {
    let w = sdy.len();
    for (xg, dg) in x.chunks(w).zip(dy.chunks(w)) {
        let n = xg.len();
        map(&mut sdy[..n], [dg], |a, [d]| a + d);
        map(&mut sdyc[..n], [xg, dg, m], |a, [v, d, m]| a + d * (v - m));
    }
}

multiversion!(
    /// `out = x ⊙ a + b` group by group (`a`, `b` tiled to the group's width).
    fn affine_groups<T: Element>(x: &[T], a: &[T], b: &[T], out: &mut [T]) => affine_groups_body
);

#[inline(always)]
fn affine_groups_body<T: Element>(x: &[T], a: &[T], b: &[T], out: &mut [T]) {
    for (o, xg) in out.chunks_mut(a.len()).zip(x.chunks(a.len())) {
        map(o, [xg, a, b], |_, [v, a, b]| v * a + b);
    }
}

multiversion!(
    /// `out = dy ⊙ a + x ⊙ b + k` group by group (`a`, `b`, `k` tiled).
    fn affine2_groups<T: Element>(x: &[T], dy: &[T], a: &[T], b: &[T], k: &[T], out: &mut [T]) => affine2_groups_body
);

#[inline(always)]
fn affine2_groups_body<T: Element>(x: &[T], dy: &[T], a: &[T], b: &[T], k: &[T], out: &mut [T]) {
    let w = a.len();
    for ((o, xg), dg) in out.chunks_mut(w).zip(x.chunks(w)).zip(dy.chunks(w)) {
        map(o, [dg, xg, a, b, k], |_, [d, v, a, b, k]| d * a + v * b + k);
    }
}

/// The per-channel mean and biased variance of the rows of `x` (`x.len()` a non-zero
/// multiple of `c`), in two passes: `μ = Σ x / N`, then `σ² = Σ (x - μ)² / N`.
pub fn batch_norm_stats<T: Element>(x: &[T], c: usize) -> (Vec<T>, Vec<T>) {
    let count = T::of((x.len() / c) as f64);
    let g = group_and_band_rows(c).0;
    let sums = channel_sums(x, x, c, 1, |xb, _, acc| add_groups(xb, acc));
    let mean: Vec<T> = sums.iter().map(|&s| s / count).collect();
    let m = tiled(&mean, g);
    let squares = channel_sums(x, x, c, 1, |xb, _, acc| add_square_deviations(xb, &m, acc));
    let var = squares.iter().map(|&s| s / count).collect();
    (mean, var)
}

/// `s = 1 / √(σ² + ε)` per channel.
pub fn inv_std<T: Element>(var: &[T], epsilon: f64) -> Vec<T> {
    var.iter()
        .map(|&v| T::one() / (v + T::of(epsilon)).sqrt())
        .collect()
}

/// `y = x · a + b` with `a = γ s`, `b = β - μ a`, over the rows of `x` (all of `y` is
/// written).
pub fn batch_norm_forward<T: Element>(
    x: &[T],
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
) {
    let c = mean.len();
    let g = group_and_band_rows(c).0;
    let a: Vec<T> = gamma.iter().zip(inv_std).map(|(&g, &s)| g * s).collect();
    let b: Vec<T> = beta
        .iter()
        .zip(&a)
        .zip(mean)
        .map(|((&b, &a), &m)| b - m * a)
        .collect();
    let (a, b) = (tiled(&a, g), tiled(&b, g));
    for_bands(x, x, c, y, |xb, _, o| affine_groups(xb, &a, &b, o));
}

/// `(Σ dy, Σ dy ⊙ x̂)` per channel, with `Σ dy ⊙ x̂ = s Σ dy ⊙ (x - μ)`.
pub fn batch_norm_grad_sums<T: Element>(
    x: &[T],
    dy: &[T],
    mean: &[T],
    inv_std: &[T],
) -> (Vec<T>, Vec<T>) {
    let c = mean.len();
    let g = group_and_band_rows(c).0;
    let (m, width) = (tiled(mean, g), g * c);
    let sums = channel_sums(x, dy, c, 2, |xb, db, acc| {
        let (sdy, sdyc) = acc.split_at_mut(width);
        add_grad_sums(xb, db, &m, sdy, sdyc);
    });
    let (sdy, sdyc) = sums.split_at(c);
    let sdyx = sdyc.iter().zip(inv_std).map(|(&v, &s)| v * s).collect();
    (sdy.to_vec(), sdyx)
}

/// The training backward's `dx = (γ s / N) (N dy - Σ dy - x̂ Σ dy ⊙ x̂)` (all of `dx` is
/// written), from the sums of [`batch_norm_grad_sums`], as `dx = a dy + b x + k` per channel
/// with `a = γ s`, `b = -(a / N) s Σ dy ⊙ x̂`, `k = -(a / N) Σ dy - b μ`.
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
    let g = group_and_band_rows(c).0;
    let count = T::of((x.len() / c.max(1)) as f64);
    let mut a = Vec::with_capacity(c);
    let mut b = Vec::with_capacity(c);
    let mut k = Vec::with_capacity(c);
    for j in 0..c {
        let aj = gamma[j] * inv_std[j];
        let per = aj / count;
        let bj = T::zero() - per * inv_std[j] * sum_dy_x_hat[j];
        a.push(aj);
        b.push(bj);
        k.push(T::zero() - per * sum_dy[j] - bj * mean[j]);
    }
    let (a, b, k) = (tiled(&a, g), tiled(&b, g), tiled(&k, g));
    for_bands(x, dy, c, dx, |xb, db, o| {
        affine2_groups(xb, db, &a, &b, &k, o)
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

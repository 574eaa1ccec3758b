//! The Parzen estimators of TPE, as Optuna builds them for one parameter (its univariate
//! `_ParzenEstimator` with the default `prior_weight = 1.0`, `consider_magic_clip = True`,
//! `consider_endpoints = False`).
//!
//! Numeric parameters, on their internal scale over `[low, high]`: one Gaussian kernel per
//! observation, centred on it, plus a prior kernel `N((low + high)/2, high - low)`, each
//! truncated to `[low, high]`. An observation's bandwidth is the larger distance to its
//! neighbours among the sorted centres (the prior's included, the range ends counting as
//! neighbours except for the outermost centres, which use their inner neighbour), clipped to
//! `[(high - low) / min(100, 1 + k), high - low]` for `k` kernels (the "magic clip").
//!
//! Categoricals: one kernel per observation, `prior_weight / k` on every choice plus 1 on the
//! observed one, normalised; the prior kernel is uniform.
//!
//! Mixture weights: Optuna's `default_weights`, 1 for each of the first 25 observations and a
//! ramp from `1/n` up to 1 for older ones beyond the latest 25 (observations in trial order),
//! then `prior_weight`, normalised.

use std::f64::consts::{PI, SQRT_2};

use rand::Rng;

/// The prior kernel's weight, relative to an observation's.
const PRIOR_WEIGHT: f64 = 1.0;

/// Optuna's `default_weights(n)`: `n < 25`: all 1; otherwise `linspace(1/n, 1, n - 25)`
/// followed by 25 ones.
pub(crate) fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let start = 1.0 / n as f64;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            if ramp == 1 {
                start
            } else {
                start + (1.0 - start) * i as f64 / (ramp - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// Mixture weights: `default_weights(n)` then the prior's, summing to 1.
fn mixture_weights(n: usize) -> Vec<f64> {
    let mut w = default_weights(n);
    w.push(PRIOR_WEIGHT);
    let sum: f64 = w.iter().sum();
    w.iter().map(|x| x / sum).collect()
}

/// The index drawn with probabilities `weights` (summing to 1).
fn pick(weights: &[f64], rng: &mut impl Rng) -> usize {
    let r = rng.random::<f64>();
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if r < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// `erfc(x)` by Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The standard normal CDF `Φ(z) = erfc(-z/√2) / 2`.
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// A mixture of Gaussians truncated to `[low, high]`.
#[derive(Clone, Debug)]
pub(crate) struct NumericParzen {
    weights: Vec<f64>,
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    /// `ln(Φ((high - μ)/σ) - Φ((low - μ)/σ))` of each kernel.
    log_mass: Vec<f64>,
    low: f64,
    high: f64,
}

impl NumericParzen {
    /// The estimator of `observations` (internal scale, trial order) over `[low, high]`.
    pub(crate) fn fit(observations: &[f64], low: f64, high: f64) -> NumericParzen {
        let n = observations.len();
        let width = high - low;
        let prior_mu = 0.5 * (low + high);
        let mut sigmas = vec![0.0; n];
        if n > 0 {
            let mut centres: Vec<f64> = observations.to_vec();
            centres.push(prior_mu);
            let mut order: Vec<usize> = (0..=n).collect();
            order.sort_by(|&a, &b| centres[a].total_cmp(&centres[b]));
            let mut ends = vec![low];
            ends.extend(order.iter().map(|&i| centres[i]));
            ends.push(high);
            let m = n + 1;
            let mut sorted: Vec<f64> = (0..m)
                .map(|i| (ends[i + 1] - ends[i]).max(ends[i + 2] - ends[i + 1]))
                .collect();
            sorted[0] = ends[2] - ends[1];
            sorted[m - 1] = ends[m] - ends[m - 1];
            let min_sigma = width / (100f64).min(1.0 + (n + 1) as f64);
            for (rank, &i) in order.iter().enumerate() {
                if i < n {
                    sigmas[i] = sorted[rank].clamp(min_sigma, width);
                }
            }
        }
        let mut mus = observations.to_vec();
        mus.push(prior_mu);
        sigmas.push(width);
        let log_mass = mus
            .iter()
            .zip(&sigmas)
            .map(|(mu, s)| (normal_cdf((high - mu) / s) - normal_cdf((low - mu) / s)).ln())
            .collect();
        NumericParzen {
            weights: mixture_weights(n),
            mus,
            sigmas,
            log_mass,
            low,
            high,
        }
    }

    /// A draw: a kernel by weight, then its truncated Gaussian (by rejection: a kernel's
    /// centre lies in the range and its bandwidth is at most the range's width, so at least
    /// a third of its draws fall inside).
    pub(crate) fn sample(&self, rng: &mut impl Rng) -> f64 {
        let k = pick(&self.weights, rng);
        let (mu, sigma) = (self.mus[k], self.sigmas[k]);
        for _ in 0..100 {
            let x = mu + sigma * standard_normal(rng);
            if (self.low..=self.high).contains(&x) {
                return x;
            }
        }
        mu
    }

    /// `ln p(x)`: `ln Σ w_k φ((x - μ_k)/σ_k) / (σ_k Z_k)`, with `x` clipped to the range
    /// (a value mapped back and forth between scales may stray out by a rounding error).
    pub(crate) fn log_pdf(&self, x: f64) -> f64 {
        let x = x.clamp(self.low, self.high);
        let terms: Vec<f64> = (0..self.mus.len())
            .map(|k| {
                let z = (x - self.mus[k]) / self.sigmas[k];
                self.weights[k].ln()
                    - 0.5 * z * z
                    - self.sigmas[k].ln()
                    - 0.5 * (2.0 * PI).ln()
                    - self.log_mass[k]
            })
            .collect();
        log_sum_exp(&terms)
    }
}

fn log_sum_exp(terms: &[f64]) -> f64 {
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

/// A mixture of categorical distributions over `n` choices.
#[derive(Clone, Debug)]
pub(crate) struct CategoricalParzen {
    weights: Vec<f64>,
    /// Each kernel's probabilities over the choices.
    rows: Vec<Vec<f64>>,
}

impl CategoricalParzen {
    /// The estimator of the observed choice indices (trial order) over `n_choices`.
    pub(crate) fn fit(observations: &[usize], n_choices: usize) -> CategoricalParzen {
        let n = observations.len();
        if n == 0 {
            return CategoricalParzen {
                weights: vec![1.0],
                rows: vec![vec![1.0 / n_choices as f64; n_choices]],
            };
        }
        let base = PRIOR_WEIGHT / (n + 1) as f64;
        let rows = observations
            .iter()
            .map(Some)
            .chain([None])
            .map(|obs| {
                let mut row = vec![base; n_choices];
                if let Some(&c) = obs {
                    row[c] += 1.0;
                }
                let sum: f64 = row.iter().sum();
                row.iter().map(|p| p / sum).collect()
            })
            .collect();
        CategoricalParzen {
            weights: mixture_weights(n),
            rows,
        }
    }

    pub(crate) fn sample(&self, rng: &mut impl Rng) -> usize {
        let k = pick(&self.weights, rng);
        pick(&self.rows[k], rng)
    }

    /// `ln Σ w_k p_k(c)`.
    pub(crate) fn log_pdf(&self, c: usize) -> f64 {
        self.weights
            .iter()
            .zip(&self.rows)
            .map(|(w, row)| w * row[c])
            .sum::<f64>()
            .ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::trial_rng;

    #[test]
    fn the_normal_cdf_matches_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_746), (-1.96, 0.024_997_895)] {
            assert!((normal_cdf(z) - p).abs() < 1e-7, "{z}");
        }
    }

    #[test]
    fn default_weights_ramp_up_older_observations() {
        assert_eq!(default_weights(3), vec![1.0; 3]);
        assert_eq!(default_weights(25), vec![1.0; 25]);
        let w = default_weights(30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-12 && w[4] == 1.0 && w[29] == 1.0);
    }

    #[test]
    fn bandwidths_follow_the_neighbour_rule() {
        // Centres 2, 5 (prior), 9 in [0, 10]: the outer ones take their inner neighbour's
        // distance (3 and 4), the prior keeps the range's width; clip [10/4, 10].
        let p = NumericParzen::fit(&[2.0, 9.0], 0.0, 10.0);
        assert_eq!(p.sigmas, vec![3.0, 4.0, 10.0]);
        assert_eq!(p.mus, vec![2.0, 9.0, 5.0]);
        // One observation next to the prior: the magic clip's floor 10 / min(100, 3).
        let p = NumericParzen::fit(&[5.1], 0.0, 10.0);
        assert!((p.sigmas[0] - 10.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn densities_integrate_to_one_and_draws_stay_in_range() {
        let p = NumericParzen::fit(&[1.0, 1.5, 8.0], 0.0, 10.0);
        let steps = 20_000;
        let integral: f64 = (0..steps)
            .map(|i| p.log_pdf((i as f64 + 0.5) * 10.0 / steps as f64).exp() * 10.0 / steps as f64)
            .sum();
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
        let mut rng = trial_rng(0, 0);
        assert!((0..1000).all(|_| (0.0..=10.0).contains(&p.sample(&mut rng))));
        let c = CategoricalParzen::fit(&[2, 2, 0], 3);
        let total: f64 = (0..3).map(|i| c.log_pdf(i).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!(c.log_pdf(2) > c.log_pdf(1));
    }
}

//! The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for
//! Hyper-Parameter Optimization", NeurIPS 2011), as Optuna's default `TPESampler` runs it
//! (univariate, one parameter at a time).
//!
//! 1. While fewer than `n_startup_trials` trials are finished with a value, sample at random.
//! 2. Rank those trials ([`ranked_trials`]: complete by value, then pruned, longer-running
//!    first) and split them into the best `γ(n) = min(⌈0.1 n⌉, 25)` ("good") and the rest.
//! 3. For each parameter, fit a Parzen estimator `l(x)` to the good trials' values and `g(x)`
//!    to the others', on the parameter's internal scale (`log10 x` for log ranges,
//!    `log10(1 - x)` for `one_minus_log_uniform`; integers on a continuous scale over their
//!    widened range); see the `parzen` module for Optuna's kernels, bandwidths and weights.
//! 4. Draw `n_ei_candidates` values from `l` (integers rounded) and keep the one with the
//!    largest `l(x) / g(x)`, which maximises the expected improvement (Bergstra et al., §4.1).

use serde::{Deserialize, Serialize};

use super::parzen::{CategoricalParzen, NumericParzen};
use super::{ranked_trials, sample_value, trial_rng, Sampler};
use crate::space::{Distribution, Param, SearchSpace};
use crate::trial::{Direction, ParamValue, Params, Trial};

/// `{ type = "tpe", n_startup_trials = 10, n_ei_candidates = 24 }` (Optuna's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpeOptions {
    /// Random trials before the estimators are used (default 10).
    pub n_startup_trials: usize,
    /// Candidates drawn from `l(x)` per parameter (default 24).
    pub n_ei_candidates: usize,
}

impl Default for TpeOptions {
    fn default() -> Self {
        TpeOptions {
            n_startup_trials: 10,
            n_ei_candidates: 24,
        }
    }
}

/// TPE (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct TpeSampler {
    pub seed: u64,
    pub options: TpeOptions,
}

/// Optuna's `default_gamma`: how many of `n` ranked trials are "good".
pub fn gamma(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

impl Sampler for TpeSampler {
    fn sample(
        &self,
        space: &SearchSpace,
        history: &[Trial],
        number: u64,
        direction: Direction,
    ) -> Params {
        let mut rng = trial_rng(self.seed, number);
        let ranked = ranked_trials(history, direction);
        if ranked.len() < self.options.n_startup_trials {
            return space
                .params()
                .iter()
                .map(|p| (p.path.clone(), sample_value(&p.distribution, &mut rng)))
                .collect();
        }
        let (good, bad) = ranked.split_at(gamma(ranked.len()));
        let mut good = good.to_vec();
        let mut bad = bad.to_vec();
        good.sort_by_key(|t| t.number);
        bad.sort_by_key(|t| t.number);
        space
            .params()
            .iter()
            .map(|p| {
                let value = self.sample_param(p, &good, &bad, &mut rng);
                (p.path.clone(), value)
            })
            .collect()
    }
}

impl TpeSampler {
    /// The candidate of `l(x)` with the largest `ln l(x) - ln g(x)` (the first on a tie).
    fn sample_param(
        &self,
        param: &Param,
        good: &[&Trial],
        bad: &[&Trial],
        rng: &mut impl rand::Rng,
    ) -> ParamValue {
        let d = &param.distribution;
        let observed = |trials: &[&Trial]| -> Vec<ParamValue> {
            trials
                .iter()
                .filter_map(|t| t.params.get(&param.path).copied())
                .filter(|v| d.contains(*v))
                .collect()
        };
        let (good, bad) = (observed(good), observed(bad));
        let candidates = self.options.n_ei_candidates;
        let scored: Vec<(ParamValue, f64)> = match d {
            Distribution::Choice { choices } => {
                let index = |vs: &[ParamValue]| -> Vec<usize> {
                    vs.iter().map(|v| v.as_f64() as usize).collect()
                };
                let l = CategoricalParzen::fit(&index(&good), choices.len());
                let g = CategoricalParzen::fit(&index(&bad), choices.len());
                (0..candidates)
                    .map(|_| {
                        let c = l.sample(rng);
                        (ParamValue::Choice(c), l.log_pdf(c) - g.log_pdf(c))
                    })
                    .collect()
            }
            _ => {
                let (lo, hi) = d.sampling_range();
                let internal = |vs: &[ParamValue]| -> Vec<f64> {
                    vs.iter().filter_map(|v| d.to_internal(*v)).collect()
                };
                let l = NumericParzen::fit(&internal(&good), lo, hi);
                let g = NumericParzen::fit(&internal(&bad), lo, hi);
                (0..candidates)
                    .map(|_| {
                        let v = d.from_internal(l.sample(rng));
                        let u = d.to_internal(v).expect("a value of the distribution");
                        (v, l.log_pdf(u) - g.log_pdf(u))
                    })
                    .collect()
            }
        };
        scored
            .into_iter()
            .reduce(|best, c| if c.1 > best.1 { c } else { best })
            .expect("at least one candidate")
            .0
    }
}

#[cfg(test)]
mod tests {
    use super::gamma;

    #[test]
    fn gamma_is_a_tenth_rounded_up_at_most_25() {
        assert_eq!(
            [1, 10, 11, 100, 250, 1000].map(gamma),
            [1, 1, 2, 10, 25, 25]
        );
    }
}

//! Coarse to fine, as the course describes it: sample at random over the whole space, then
//! "zoom into a smaller region around the best values and sample more densely".
//!
//! Trials come in rounds of `trials_per_round` (trial `n` is in round `n / trials_per_round`).
//! Round 0 samples the whole space. Round `j` takes the `top_k` best finished trials of all
//! earlier rounds ([`ranked_trials`]) and shrinks each range of round `j - 1`:
//!
//! - a numeric range `[lo, hi]` (on its internal scale, `log10 x` for log ranges) becomes
//!   `[min u - m (hi - lo), max u + m (hi - lo)]` clipped to `[lo, hi]`, where `u` are the top
//!   trials' values and `m` the `margin`;
//! - a categorical keeps only the choices of the top trials.
//!
//! Each round then samples its ranges at random, as densely as the round's trial count over
//! the smaller region allows. [`CoarseToFineSampler::rounds`] gives the ranges of each round
//! for the study's report.

use std::ops::Range;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{ranked_trials, sample_value, trial_rng, Sampler};
use crate::apply::{describe, describe_float};
use crate::space::{Distribution, SearchSpace};
use crate::trial::{Direction, ParamValue, Params, Trial};

/// `{ type = "coarse_to_fine", trials_per_round = 10, top_k = 3, margin = 0.1 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoarseToFineOptions {
    /// Trials per round (default 10).
    pub trials_per_round: u64,
    /// How many of the best trials the next round's ranges are fitted around (default 3).
    pub top_k: usize,
    /// The fraction of a range's width added on each side of the top trials' span (default
    /// 0.1).
    pub margin: f64,
}

impl Default for CoarseToFineOptions {
    fn default() -> Self {
        CoarseToFineOptions {
            trials_per_round: 10,
            top_k: 3,
            margin: 0.1,
        }
    }
}

/// One parameter's range in a round.
#[derive(Clone, Debug, PartialEq)]
pub enum RoundRange {
    /// A numeric range: the parameter's distribution with narrowed bounds.
    Numeric(Distribution),
    /// The indices of the choices still sampled.
    Choices(Vec<usize>),
}

impl RoundRange {
    /// `[0.0001, 0.01] (log_uniform)`, `[16, 64] (int_log)`, `{adam, sgd}`; `original` gives
    /// the choices' values.
    pub fn describe(&self, original: &Distribution) -> String {
        match self {
            RoundRange::Numeric(d @ Distribution::Float { low, high, .. }) => format!(
                "[{}, {}] ({})",
                describe_float(*low),
                describe_float(*high),
                d.name()
            ),
            RoundRange::Numeric(d @ Distribution::Int { low, high, .. }) => {
                format!("[{low}, {high}] ({})", d.name())
            }
            RoundRange::Numeric(Distribution::Choice { .. }) => String::new(),
            RoundRange::Choices(list) => {
                let names: Vec<String> = list
                    .iter()
                    .map(|i| describe(original, ParamValue::Choice(*i)))
                    .collect();
                format!("{{{}}}", names.join(", "))
            }
        }
    }
}

/// The ranges a round samples from.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// 0, 1, 2, ...
    pub index: usize,
    /// The trial numbers of the round.
    pub trials: Range<u64>,
    /// Each parameter's range, in the space's order.
    pub ranges: Vec<(String, RoundRange)>,
}

/// Coarse-to-fine random search (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseToFineSampler {
    pub seed: u64,
    pub options: CoarseToFineOptions,
}

impl CoarseToFineSampler {
    /// The rounds up to that of the highest-numbered trial in `history` (round 0 alone when
    /// it is empty), with the ranges the finished trials of earlier rounds give. With one
    /// worker these are the ranges the trials were drawn from; with several, a trial drawn
    /// before an earlier round's last trials finished used ranges fitted to fewer trials.
    pub fn rounds(
        &self,
        space: &SearchSpace,
        history: &[Trial],
        direction: Direction,
    ) -> Vec<Round> {
        let last = history.iter().map(|t| t.number).max().unwrap_or(0);
        self.rounds_to(space, history, direction, self.round_of(last))
    }

    fn round_of(&self, number: u64) -> usize {
        (number / self.options.trials_per_round) as usize
    }

    /// Rounds `0..=last`.
    fn rounds_to(
        &self,
        space: &SearchSpace,
        history: &[Trial],
        direction: Direction,
        last: usize,
    ) -> Vec<Round> {
        let per = self.options.trials_per_round;
        let full: Vec<(String, RoundRange)> = space
            .params()
            .iter()
            .map(|p| {
                let range = match &p.distribution {
                    Distribution::Choice { choices } => {
                        RoundRange::Choices((0..choices.len()).collect())
                    }
                    d => RoundRange::Numeric(d.clone()),
                };
                (p.path.clone(), range)
            })
            .collect();
        let mut rounds = vec![Round {
            index: 0,
            trials: 0..per,
            ranges: full,
        }];
        for index in 1..=last {
            let start = index as u64 * per;
            let earlier = history.iter().filter(|t| t.number < start);
            let ranked = ranked_trials(earlier, direction);
            let top = &ranked[..ranked.len().min(self.options.top_k)];
            let previous = &rounds[index - 1].ranges;
            let ranges = space
                .params()
                .iter()
                .zip(previous)
                .map(|(p, (path, range))| {
                    let values: Vec<ParamValue> = top
                        .iter()
                        .filter_map(|t| t.params.get(path).copied())
                        .filter(|v| p.distribution.contains(*v))
                        .collect();
                    (path.clone(), self.narrow(range, &values))
                })
                .collect();
            rounds.push(Round {
                index,
                trials: start..start + per,
                ranges,
            });
        }
        rounds
    }

    /// `range` shrunk around `values` (unchanged when there are none).
    fn narrow(&self, range: &RoundRange, values: &[ParamValue]) -> RoundRange {
        if values.is_empty() {
            return range.clone();
        }
        match range {
            RoundRange::Numeric(d) => {
                let (lo, hi) = d.internal_range();
                let us = values
                    .iter()
                    .filter_map(|v| d.to_internal(*v))
                    .map(|u| u.clamp(lo, hi));
                let (top_lo, top_hi) = us.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), u| {
                    (a.min(u), b.max(u))
                });
                let pad = self.options.margin * (hi - lo);
                RoundRange::Numeric(d.narrowed((top_lo - pad).max(lo), (top_hi + pad).min(hi)))
            }
            RoundRange::Choices(list) => {
                let mut kept: Vec<usize> = values
                    .iter()
                    .filter_map(|v| match v {
                        ParamValue::Choice(i) if list.contains(i) => Some(*i),
                        _ => None,
                    })
                    .collect();
                kept.sort_unstable();
                kept.dedup();
                if kept.is_empty() {
                    range.clone()
                } else {
                    RoundRange::Choices(kept)
                }
            }
        }
    }
}

impl Sampler for CoarseToFineSampler {
    fn sample(
        &self,
        space: &SearchSpace,
        history: &[Trial],
        number: u64,
        direction: Direction,
    ) -> Params {
        let rounds = self.rounds_to(space, history, direction, self.round_of(number));
        let round = rounds.last().expect("round 0 is always there");
        let mut rng = trial_rng(self.seed, number);
        round
            .ranges
            .iter()
            .map(|(path, range)| {
                let value = match range {
                    RoundRange::Numeric(d) => sample_value(d, &mut rng),
                    RoundRange::Choices(list) => {
                        ParamValue::Choice(list[rng.random_range(0..list.len())])
                    }
                };
                (path.clone(), value)
            })
            .collect()
    }
}

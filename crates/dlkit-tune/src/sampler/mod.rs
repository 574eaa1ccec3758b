//! Samplers: where the next trial's parameters come from.
//!
//! Every sampler is deterministic given its seed, the trial's number and the history it sees:
//! each trial draws from its own ChaCha8 stream, keyed by the seed with the trial number as
//! the stream ([`trial_rng`]), so trials sampled by parallel workers do not depend on which
//! worker drew first.
//!
//! `[tune] sampler` is a name or a table with `type` and the sampler's options:
//!
//! - `"random"` (default, [`RandomSampler`]): each parameter drawn on its own scale, as the
//!   course advises ("try random values: don't use a grid").
//! - `{ type = "grid", points_per_param = 5 }` ([`GridSampler`]): the cartesian product, for
//!   comparison.
//! - `{ type = "coarse_to_fine", trials_per_round = 10, top_k = 3, margin = 0.1 }`
//!   ([`CoarseToFineSampler`]): random rounds, each zoomed around the best trials so far.
//! - `{ type = "tpe", n_startup_trials = 10, n_ei_candidates = 24 }` ([`TpeSampler`]): the
//!   tree-structured Parzen estimator (Bergstra et al., 2011; Optuna's default).
//!
//! Samplers learn only from finished trials with a value (complete and pruned ones, see
//! [`ranked_trials`]); failed trials and trials without a value (a broken satisficing
//! constraint) are ignored.

mod coarse_to_fine;
mod grid;
mod parzen;
mod random;
mod tpe;

pub use coarse_to_fine::{CoarseToFineOptions, CoarseToFineSampler, Round, RoundRange};
pub use grid::{grid_points, GridOptions, GridSampler};
pub use random::{sample_value, RandomSampler};
pub use tpe::{TpeOptions, TpeSampler};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::space::SearchSpace;
use crate::space_error::SpaceError;
use crate::trial::{Direction, Params, Trial, TrialState};

/// Draws the parameters of trial `number`.
pub trait Sampler: Send + Sync {
    /// The parameters of trial `number`, given every trial of the study so far (`history`,
    /// which may include running and failed trials) and the objective's direction.
    fn sample(
        &self,
        space: &SearchSpace,
        history: &[Trial],
        number: u64,
        direction: Direction,
    ) -> Params;
}

/// The random stream of trial `number`: ChaCha8 keyed by `seed`, stream `number`.
pub fn trial_rng(seed: u64, number: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(number);
    rng
}

/// The finished trials with a value, best first, as Optuna's TPE ranks them: complete trials
/// by their loss, then pruned trials, those that ran more epochs first, each group by the
/// loss of its value (the last epoch's for a pruned trial). A NaN value ranks last in its
/// group; ties keep trial-number order.
pub fn ranked_trials<'a>(
    history: impl IntoIterator<Item = &'a Trial>,
    direction: Direction,
) -> Vec<&'a Trial> {
    let mut ranked: Vec<(f64, f64, &Trial)> = history
        .into_iter()
        .filter_map(|t| {
            let loss = t.loss(direction)?;
            let loss = if loss.is_nan() { f64::INFINITY } else { loss };
            let group = match t.state {
                TrialState::Complete => f64::NEG_INFINITY,
                _ => t
                    .intermediate
                    .iter()
                    .map(|(e, _)| -(*e as f64))
                    .reduce(f64::min)
                    .unwrap_or(f64::INFINITY),
            };
            Some((group, loss, t))
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.0, a.1, a.2.number)
            .partial_cmp(&(b.0, b.1, b.2.number))
            .expect("no NaN keys")
    });
    ranked.into_iter().map(|(_, _, t)| t).collect()
}

/// `[tune] sampler`.
///
/// `Random {}` has braces so that `{ type = "random", seed = 1 }` is refused as an unknown
/// field rather than ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SamplerConfig {
    Random {},
    Grid(GridOptions),
    CoarseToFine(CoarseToFineOptions),
    Tpe(TpeOptions),
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig::Random {}
    }
}

impl SamplerConfig {
    /// The sampler these options describe, seeded with `seed`.
    pub fn build(&self, seed: u64) -> Box<dyn Sampler> {
        match self {
            SamplerConfig::Random {} => Box::new(RandomSampler { seed }),
            SamplerConfig::Grid(o) => Box::new(GridSampler { options: o.clone() }),
            SamplerConfig::CoarseToFine(o) => Box::new(CoarseToFineSampler {
                seed,
                options: o.clone(),
            }),
            SamplerConfig::Tpe(o) => Box::new(TpeSampler {
                seed,
                options: o.clone(),
            }),
        }
    }

    /// The name `[tune] sampler` gives it.
    pub fn name(&self) -> &'static str {
        match self {
            SamplerConfig::Random {} => "random",
            SamplerConfig::Grid(_) => "grid",
            SamplerConfig::CoarseToFine(_) => "coarse_to_fine",
            SamplerConfig::Tpe(_) => "tpe",
        }
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<(), SpaceError> {
        let at_least = |name: &str, v: u64, min: u64| {
            if v < min {
                Err(SpaceError::new(
                    format!("[tune.sampler] {name}"),
                    format!("must be at least {min}, got {v}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            SamplerConfig::Random {} => Ok(()),
            SamplerConfig::Grid(o) => at_least("points_per_param", o.points_per_param as u64, 1),
            SamplerConfig::CoarseToFine(o) => {
                at_least("trials_per_round", o.trials_per_round, 1)?;
                at_least("top_k", o.top_k as u64, 1)?;
                if !(o.margin.is_finite() && o.margin >= 0.0) {
                    return Err(SpaceError::new(
                        "[tune.sampler] margin",
                        format!("must be a number of at least 0, got {}", o.margin),
                    ));
                }
                Ok(())
            }
            SamplerConfig::Tpe(o) => at_least("n_ei_candidates", o.n_ei_candidates as u64, 1),
        }
    }
}

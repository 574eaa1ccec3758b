//! Pruners: stopping hopeless trials early. A trial reports its dev value after every epoch
//! (epochs from 1); the study asks the pruner whether to go on. A pruned trial keeps its last
//! epoch's value as its own.
//!
//! `[tune] pruner` is a name or a table with `type` and the pruner's options:
//!
//! - `"none"` (default): every trial runs to the end.
//! - `{ type = "median", n_startup_trials = 5, n_warmup_steps = 0, interval_steps = 1,
//!   n_min_trials = 1 }` ([`MedianPruner`], Optuna's `MedianPruner`).
//! - `{ type = "asha", min_resource = 1, reduction_factor = 3, min_early_stopping_rate = 0,
//!   bootstrap_count = 0 }` ([`AshaPruner`], asynchronous successive halving, Li et al.,
//!   2020, as Optuna's `SuccessiveHalvingPruner` runs it).

mod asha;
mod median;

pub use asha::AshaPruner;
pub use median::MedianPruner;

use serde::{Deserialize, Serialize};

use crate::space_error::SpaceError;
use crate::trial::{Direction, Trial};

/// Decides whether a running trial stops.
pub trait Pruner: Send + Sync {
    /// Whether `trial` stops after `epoch` (from 1); `trial.intermediate` holds its values up
    /// to and including that epoch; `history` is every trial of the study (it may include
    /// `trial` itself, which is then skipped as a competitor).
    fn should_prune(
        &self,
        trial: &Trial,
        epoch: usize,
        history: &[Trial],
        direction: Direction,
    ) -> bool;
}

/// `[tune] pruner`. `None {}` has braces so that `{ type = "none", n = 1 }` is refused as an
/// unknown field rather than ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrunerConfig {
    None {},
    Median(MedianPruner),
    Asha(AshaPruner),
}

impl Default for PrunerConfig {
    fn default() -> Self {
        PrunerConfig::None {}
    }
}

impl PrunerConfig {
    /// The pruner; `None` for `"none"`.
    pub fn build(&self) -> Option<Box<dyn Pruner>> {
        match self {
            PrunerConfig::None {} => None,
            PrunerConfig::Median(p) => Some(Box::new(p.clone())),
            PrunerConfig::Asha(p) => Some(Box::new(p.clone())),
        }
    }

    /// The name `[tune] pruner` gives it.
    pub fn name(&self) -> &'static str {
        match self {
            PrunerConfig::None {} => "none",
            PrunerConfig::Median(_) => "median",
            PrunerConfig::Asha(_) => "asha",
        }
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<(), SpaceError> {
        let at_least = |name: &str, v: usize, min: usize| {
            if v < min {
                Err(SpaceError::new(
                    format!("[tune.pruner] {name}"),
                    format!("must be at least {min}, got {v}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            PrunerConfig::None {} => Ok(()),
            PrunerConfig::Median(p) => at_least("interval_steps", p.interval_steps, 1),
            PrunerConfig::Asha(p) => {
                at_least("min_resource", p.min_resource, 1)?;
                at_least("reduction_factor", p.reduction_factor, 2)
            }
        }
    }
}

/// Values not after `epoch`, without NaN, as losses.
pub(crate) fn losses_to(trial: &Trial, epoch: usize, direction: Direction) -> Vec<f64> {
    trial
        .intermediate
        .iter()
        .filter(|(e, v)| *e <= epoch && !v.is_nan())
        .map(|(_, v)| direction.as_loss(*v))
        .collect()
}

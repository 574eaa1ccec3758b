//! The median stopping rule (Golovin et al., 2017, "Google Vizier"), exactly as Optuna's
//! `MedianPruner` applies it, with Optuna's step `s` being epoch `s + 1`.
//!
//! At epoch `e` a trial is pruned when all of these hold:
//!
//! 1. at least `n_startup_trials` other trials are complete (pruned ones do not count);
//! 2. `e > n_warmup_steps` (the first `n_warmup_steps` epochs are never pruned);
//! 3. `e` is the trial's first report in its interval: with `s = e - 1`, the previous report's
//!    step is below `⌊(s - n_warmup_steps) / interval_steps⌋ · interval_steps + n_warmup_steps`;
//! 4. at least `n_min_trials` complete trials reported a value at epoch `e`;
//! 5. the trial's *best* value over epochs `1..=e` is worse than the median of those complete
//!    trials' values at epoch `e` (NaN values ignored; a trial whose values are all NaN is
//!    pruned).

use serde::{Deserialize, Serialize};

use super::{losses_to, Pruner};
use crate::trial::{Direction, Trial, TrialState};

/// `{ type = "median", ... }` (Optuna's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MedianPruner {
    /// Complete trials needed before any pruning (default 5).
    pub n_startup_trials: usize,
    /// Epochs at the start of a trial that are never pruned (default 0).
    pub n_warmup_steps: usize,
    /// Prune only every this many epochs after the warm-up (default 1).
    pub interval_steps: usize,
    /// Complete trials that must have a value at the epoch (default 1).
    pub n_min_trials: usize,
}

impl Default for MedianPruner {
    fn default() -> Self {
        MedianPruner {
            n_startup_trials: 5,
            n_warmup_steps: 0,
            interval_steps: 1,
            n_min_trials: 1,
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

impl MedianPruner {
    /// Condition 3: Optuna's `_is_first_in_interval_step` with steps `epoch - 1`.
    fn first_in_interval(&self, trial: &Trial, epoch: usize) -> bool {
        let step = epoch as i64 - 1;
        let (warm, every) = (self.n_warmup_steps as i64, self.interval_steps as i64);
        let nearest_lower = (step - warm) / every * every + warm;
        let previous = trial
            .intermediate
            .iter()
            .map(|(e, _)| *e as i64 - 1)
            .filter(|s| *s != step && *s < step)
            .max()
            .unwrap_or(-1);
        previous < nearest_lower
    }
}

impl Pruner for MedianPruner {
    fn should_prune(
        &self,
        trial: &Trial,
        epoch: usize,
        history: &[Trial],
        direction: Direction,
    ) -> bool {
        let complete: Vec<&Trial> = history
            .iter()
            .filter(|t| t.state == TrialState::Complete && t.number != trial.number)
            .collect();
        if complete.is_empty() || complete.len() < self.n_startup_trials {
            return false;
        }
        if epoch == 0 || epoch <= self.n_warmup_steps || !self.first_in_interval(trial, epoch) {
            return false;
        }
        if !trial.intermediate.iter().any(|(e, _)| *e <= epoch) {
            return false;
        }
        let Some(best) = losses_to(trial, epoch, direction)
            .into_iter()
            .reduce(f64::min)
        else {
            return true;
        };
        let others: Vec<f64> = complete
            .iter()
            .filter_map(|t| t.value_at(epoch))
            .filter(|v| !v.is_nan())
            .map(|v| direction.as_loss(v))
            .collect();
        if others.is_empty() || others.len() < self.n_min_trials {
            return false;
        }
        best > median(others)
    }
}

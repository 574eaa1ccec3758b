//! Asynchronous successive halving (Li et al., "A System for Massively Parallel
//! Hyperparameter Tuning", MLSys 2020), as Optuna's `SuccessiveHalvingPruner` runs it.
//!
//! Rung `k` sits at epoch `r η^(s + k)` (`r = min_resource`, `η = reduction_factor`,
//! `s = min_early_stopping_rate`): with `r = 1, η = 3`, epochs 1, 3, 9, 27, ... At a rung,
//! the trial's value competes with the values every other trial of the study reported at
//! that same epoch (running, complete and pruned trials alike; NaN counting as the worst),
//! itself included, `n` values in all:
//!
//! - with `n <= bootstrap_count` it is pruned (not enough trials reached the rung yet);
//! - otherwise it goes on only if it is among the best `⌊n / η⌋` values, or is the best when
//!   `n < η` (trials cannot wait for others to reach the rung, so the first ones must lead);
//! - a NaN value is always pruned.
//!
//! At other epochs nothing is pruned.

use serde::{Deserialize, Serialize};

use super::Pruner;
use crate::trial::{Direction, Trial};

/// `{ type = "asha", ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AshaPruner {
    /// `r`: epochs before the first rung (default 1).
    pub min_resource: usize,
    /// `η`: a rung keeps the best `1/η` (default 3).
    pub reduction_factor: usize,
    /// `s`: the first rung is at `r η^s` epochs (default 0).
    pub min_early_stopping_rate: u32,
    /// Values a rung needs before any trial passes it (default 0).
    pub bootstrap_count: usize,
}

impl Default for AshaPruner {
    fn default() -> Self {
        AshaPruner {
            min_resource: 1,
            reduction_factor: 3,
            min_early_stopping_rate: 0,
            bootstrap_count: 0,
        }
    }
}

impl AshaPruner {
    /// Whether `epoch` is a rung: `r η^(s + k)` for some `k >= 0`.
    pub fn is_rung(&self, epoch: usize) -> bool {
        let mut rung = self.min_resource as u128
            * (self.reduction_factor as u128).pow(self.min_early_stopping_rate);
        while rung < epoch as u128 {
            rung *= self.reduction_factor as u128;
        }
        rung == epoch as u128
    }
}

impl Pruner for AshaPruner {
    fn should_prune(
        &self,
        trial: &Trial,
        epoch: usize,
        history: &[Trial],
        direction: Direction,
    ) -> bool {
        if !self.is_rung(epoch) {
            return false;
        }
        let Some(value) = trial.value_at(epoch) else {
            return false;
        };
        if value.is_nan() {
            return true;
        }
        let loss = |v: f64| {
            if v.is_nan() {
                f64::INFINITY
            } else {
                direction.as_loss(v)
            }
        };
        let mut competing: Vec<f64> = history
            .iter()
            .filter(|t| t.number != trial.number)
            .filter_map(|t| t.value_at(epoch))
            .map(loss)
            .collect();
        let own = loss(value);
        competing.push(own);
        if competing.len() <= self.bootstrap_count {
            return true;
        }
        competing.sort_by(f64::total_cmp);
        let kept = (competing.len() / self.reduction_factor).max(1);
        own > competing[kept - 1]
    }
}

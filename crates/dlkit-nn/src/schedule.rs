//! Learning-rate decay across epochs, as in the course: `α = f(epoch) · α₀`.
//!
//! Epochs are counted from 0, so every schedule gives α₀ at epoch 0. The training loop calls
//! [`LrSchedule::lr`] at the start of each epoch and hands the result to
//! [`Optimizer::set_learning_rate`](crate::optim::Optimizer::set_learning_rate).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A learning-rate schedule, as written in a TOML config:
/// `schedule = { type = "inverse_time", decay_rate = 1.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// `α = α₀` (written `Constant {}` so that stray fields in a config are rejected).
    Constant {},
    /// `α = α₀ / (1 + decay_rate · epoch)`.
    InverseTime { decay_rate: f64 },
    /// `α = base^epoch · α₀` (the course's `0.95^epoch_num · α₀`; `base` defaults to 0.95).
    Exponential {
        #[serde(default = "base_095")]
        base: f64,
    },
    /// `α = k / √(epoch + 1) · α₀`: the course's `k / √epoch_num · α₀` with epochs numbered
    /// from 1, so that epoch 0 is defined (`k` defaults to 1, giving α₀ at epoch 0).
    InverseSqrt {
        #[serde(default = "one")]
        k: f64,
    },
    /// `α = factor^⌊epoch / step_size⌋ · α₀`: multiply by `factor` (default 0.5) every
    /// `step_size` epochs; `step_size = 1` is the course's halving at the end of each epoch.
    StepDecay {
        step_size: usize,
        #[serde(default = "half")]
        factor: f64,
    },
    /// `α = α₀ / (1 + decay_rate · ⌊epoch / time_interval⌋)`: the course's inverse-time
    /// decay on a fixed interval of epochs.
    FixedInterval {
        decay_rate: f64,
        time_interval: usize,
    },
}

impl Default for LrSchedule {
    /// No decay.
    fn default() -> Self {
        LrSchedule::Constant {}
    }
}

fn base_095() -> f64 {
    0.95
}
fn one() -> f64 {
    1.0
}
fn half() -> f64 {
    0.5
}

impl LrSchedule {
    /// The learning rate for `epoch` (from 0) given the base rate α₀.
    pub fn lr(&self, epoch: usize, base_lr: f64) -> f64 {
        let e = epoch as f64;
        match *self {
            LrSchedule::Constant {} => base_lr,
            LrSchedule::InverseTime { decay_rate } => base_lr / (1.0 + decay_rate * e),
            LrSchedule::Exponential { base } => base.powf(e) * base_lr,
            LrSchedule::InverseSqrt { k } => k / (e + 1.0).sqrt() * base_lr,
            LrSchedule::StepDecay { step_size, factor } => {
                factor.powf((epoch / step_size.max(1)) as f64) * base_lr
            }
            LrSchedule::FixedInterval {
                decay_rate,
                time_interval,
            } => base_lr / (1.0 + decay_rate * (epoch / time_interval.max(1)) as f64),
        }
    }

    /// Checks the parameters' ranges; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, expected: &str, got: String| {
            Err(Error::Config(format!(
                "schedule: `{field}` must be {expected}, got {got}"
            )))
        };
        match *self {
            LrSchedule::InverseTime { decay_rate }
            | LrSchedule::FixedInterval { decay_rate, .. }
                if !(decay_rate.is_finite() && decay_rate >= 0.0) =>
            {
                bad("decay_rate", ">= 0", decay_rate.to_string())
            }
            LrSchedule::FixedInterval {
                time_interval: 0, ..
            } => bad("time_interval", ">= 1 epoch", "0".into()),
            LrSchedule::Exponential { base } if !(base > 0.0 && base <= 1.0) => {
                bad("base", "in (0, 1]", base.to_string())
            }
            LrSchedule::InverseSqrt { k } if !(k.is_finite() && k > 0.0) => {
                bad("k", "> 0", k.to_string())
            }
            LrSchedule::StepDecay { step_size: 0, .. } => {
                bad("step_size", ">= 1 epoch", "0".into())
            }
            LrSchedule::StepDecay { factor, .. } if !(factor > 0.0 && factor <= 1.0) => {
                bad("factor", "in (0, 1]", factor.to_string())
            }
            _ => Ok(()),
        }
    }
}

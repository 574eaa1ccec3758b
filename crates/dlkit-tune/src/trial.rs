//! A study's trials: the parameters a sampler drew, the per-epoch dev values a trial
//! reported, and the state it ended in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One sampled value. Categorical parameters hold the index of their choice, so samplers
/// treat every categorical alike whatever its choices are (numbers, strings, layer lists).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamValue {
    Float(f64),
    Int(i64),
    Choice(usize),
}

impl ParamValue {
    /// The value as a number on its own (linear) scale: the choice's index for a categorical.
    pub fn as_f64(self) -> f64 {
        match self {
            ParamValue::Float(v) => v,
            ParamValue::Int(v) => v as f64,
            ParamValue::Choice(i) => i as f64,
        }
    }
}

/// A trial's parameters by their config path (`optimizer.lr`, `model.layers[0].units`).
pub type Params = BTreeMap<String, ParamValue>;

/// Where a trial is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialState {
    /// Queued (a grid point, or a failed trial's parameters re-queued): any worker may claim it.
    Waiting,
    /// Claimed by a worker, which sends heartbeats while it trains.
    Running,
    /// Trained to the end; its value is the dev objective.
    Complete,
    /// Stopped early by a pruner; its value is that of its last epoch.
    Pruned,
    /// Ended by an error, or its worker stopped sending heartbeats.
    Failed,
}

impl TrialState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrialState::Waiting => "waiting",
            TrialState::Running => "running",
            TrialState::Complete => "complete",
            TrialState::Pruned => "pruned",
            TrialState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<TrialState> {
        [
            TrialState::Waiting,
            TrialState::Running,
            TrialState::Complete,
            TrialState::Pruned,
            TrialState::Failed,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Complete or pruned: a value samplers and pruners can learn from.
    pub fn is_finished(self) -> bool {
        matches!(self, TrialState::Complete | TrialState::Pruned)
    }
}

/// Whether the objective is better high (accuracy, F1) or low (cost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Minimize,
    Maximize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }

    /// `v` as a loss (lower is better): samplers and pruners minimise.
    pub fn as_loss(self, v: f64) -> f64 {
        match self {
            Direction::Minimize => v,
            Direction::Maximize => -v,
        }
    }
}

/// One trial of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 0, 1, 2, ... in the order trials were created in the study.
    pub number: u64,
    pub state: TrialState,
    pub params: Params,
    /// `(epoch, dev value)` as reported after each epoch, epochs from 1.
    pub intermediate: Vec<(usize, f64)>,
    /// The objective: the final dev value (complete), the last reported one (pruned).
    /// `None` while waiting or running, when failed, and when a satisficing constraint
    /// was broken (such a trial never wins).
    pub value: Option<f64>,
    /// The worker that ran (or runs) it: `host:pid:index`.
    pub worker: Option<String>,
    /// Free-form results kept with the trial: run folder, test figures, error message.
    pub attrs: BTreeMap<String, serde_json::Value>,
}

impl Trial {
    /// The value of a finished trial as a loss (lower is better) under `direction`.
    pub fn loss(&self, direction: Direction) -> Option<f64> {
        self.value
            .filter(|_| self.state.is_finished())
            .map(|v| direction.as_loss(v))
    }

    /// The dev value reported at `epoch`.
    pub fn value_at(&self, epoch: usize) -> Option<f64> {
        self.intermediate
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, v)| *v)
    }
}

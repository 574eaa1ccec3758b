//! The settings of [`fit`](super::fit): one classifier, one optimiser, the loop's options.

use dlkit_data::AugmentConfig;
use dlkit_nn::{Loss, LrSchedule, Reduction, Regularizer};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::EpochHook;

/// The quantity early stopping watches on the dev set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    DevCost,
    DevAccuracy,
}

/// Stop when the monitored dev figure has not improved by `min_delta` for `patience` epochs,
/// and restore the weights of the best epoch; a [`Callback`](super::Callback) itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    #[serde(default = "default_monitor")]
    pub monitor: Monitor,
    pub patience: usize,
    #[serde(default)]
    pub min_delta: f64,
}

fn default_monitor() -> Monitor {
    Monitor::DevCost
}

/// How to train.
#[derive(Clone, Debug)]
pub struct TrainSettings {
    pub epochs: usize,
    /// `None` (or the training set size) is batch gradient descent; 1 is stochastic.
    pub batch_size: Option<usize>,
    pub seed: u64,
    pub loss: Loss,
    /// The loss's reduction over a batch: `Mean` (default) or `Sum` (`None` is an error).
    pub loss_reduction: Reduction,
    pub regularizer: Option<Regularizer>,
    pub schedule: LrSchedule,
    pub augment: Option<AugmentConfig>,
    /// Record the cost every this many iterations (mini-batch steps).
    pub record_every: usize,
    pub early_stopping: Option<EarlyStopping>,
    /// Write a checkpoint every this many epochs (and after the last one) into `run_dir`.
    pub checkpoint_every: Option<usize>,
    pub run_dir: Option<PathBuf>,
    /// Draw a progress bar (it hides itself when stderr is not a terminal).
    pub progress: bool,
    /// Told of each epoch's record; may stop the run (a tuner's pruner).
    pub on_epoch: Option<EpochHook>,
}

impl TrainSettings {
    pub fn new(epochs: usize, loss: Loss) -> Self {
        TrainSettings {
            epochs,
            batch_size: None,
            seed: 0,
            loss,
            loss_reduction: Reduction::Mean,
            regularizer: None,
            schedule: LrSchedule::default(),
            augment: None,
            record_every: 100,
            early_stopping: None,
            checkpoint_every: None,
            run_dir: None,
            progress: false,
            on_epoch: None,
        }
    }
}

//! Callbacks: code run by the [`Trainer`](super::Trainer) at the start and end of training,
//! after each mini-batch and after each epoch (Keras' callbacks). The built-in ones are the
//! progress bar, early stopping, checkpoints and the NaN guard.

use crate::checkpoint::{CheckpointState, Snapshot};
use crate::error::TrainResult;
use crate::history::EpochRecord;
use crate::trainer::groups::Group;

/// Whether training goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// End the run after this epoch (the history then records `stopped_early`).
    Stop,
}

/// What a mini-batch step reported, with where it happened.
#[derive(Clone, Debug)]
pub struct BatchEnd {
    pub epoch: usize,
    /// Iterations completed before this one (0 for the run's first step).
    pub iteration: usize,
    pub cost: f64,
    /// The learning rate of the step's first group in this epoch.
    pub learning_rate: f64,
}

/// The run as callbacks see it: its state (what a checkpoint records) and the step's groups.
pub struct Run<'a> {
    /// The epoch count the run goes to.
    pub epochs: usize,
    /// Mini-batches per epoch.
    pub batches_per_epoch: usize,
    pub state: &'a mut CheckpointState,
    /// The best weights so far (one snapshot per group), kept by early stopping.
    pub best: &'a mut Option<Vec<Snapshot>>,
    pub groups: Vec<Group<'a>>,
    /// Whether a callback before this one asked to stop after this epoch.
    pub stopping: bool,
}

/// Code run at fixed points of training. Callbacks run in the order they were added, so one
/// that writes checkpoints goes after those that may stop the run or change its state.
/// An error from any method ends training with that error.
pub trait Callback {
    /// Before the first epoch (after a checkpoint was loaded, when resuming).
    fn on_train_begin(&mut self, _run: &mut Run<'_>) -> TrainResult<()> {
        Ok(())
    }

    /// After each mini-batch step, before the iteration is counted.
    fn on_batch_end(&mut self, _batch: &BatchEnd) -> TrainResult<()> {
        Ok(())
    }

    /// After each epoch, once its record is in the history and `epochs_done` counts it.
    fn on_epoch_end(&mut self, _record: &EpochRecord, _run: &mut Run<'_>) -> TrainResult<Control> {
        Ok(Control::Continue)
    }

    /// After the last epoch (or the one a callback stopped at).
    fn on_train_end(&mut self, _run: &mut Run<'_>) -> TrainResult<()> {
        Ok(())
    }
}

//! The training step users implement (Keras' `train_step`, Lightning's `training_step`):
//! what one mini-batch does to the step's groups; the [`Trainer`](super::Trainer) runs the
//! epochs, schedule and callbacks around it.

use super::groups::Group;
use crate::error::TrainResult;
use crate::evaluate::Evaluation;
use dlkit_data::{Batch, Dataset};

/// What one mini-batch step reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepOutput {
    /// The batch's cost (mean over its examples). The epoch's cost is the mean of these
    /// weighted by batch size; a callback such as the NaN guard may stop on it.
    pub cost: f64,
    /// Examples of the batch predicted correctly, for classifiers: the epoch's train
    /// accuracy is their sum over the training set size.
    pub correct: Option<usize>,
    /// Further named figures (e.g. each model's cost), averaged over the epoch weighted by
    /// batch size into [`EpochRecord::metrics`](crate::EpochRecord::metrics).
    pub metrics: Vec<(String, f64)>,
}

/// A training step: forward pass(es), costs, backward pass(es) and updates of its groups for
/// one mini-batch.
///
/// A resumed run repeats an uninterrupted one exactly when everything random the step draws
/// comes from generators seeded in [`TrainStep::on_epoch_start`] by `(seed, epoch)` (for
/// instance with [`epoch_seed`](dlkit_data::epoch_seed)), and the modules' own streams are
/// reseeded by the trainer.
pub trait TrainStep {
    /// The step's named groups, in the same order on every call (checkpoints and best-weight
    /// snapshots are matched to them by name and position).
    fn groups(&mut self) -> Vec<Group<'_>>;

    /// Runs one mini-batch (the modules are in training mode).
    fn train_step(&mut self, batch: &Batch) -> TrainResult<StepOutput>;

    /// Called at the start of each epoch, after the trainer put the groups in training mode,
    /// reseeded them and set their learning rates; `seed` is the trainer's seed.
    fn on_epoch_start(&mut self, _epoch: usize, _seed: u64) -> TrainResult<()> {
        Ok(())
    }

    /// Called after the epoch's last batch, with the modules in evaluation mode, before
    /// the evaluation on the dev set.
    fn on_epoch_end(&mut self, _epoch: usize) -> TrainResult<()> {
        Ok(())
    }

    /// Evaluates the step's models on `data` (the dev set, each epoch; modules in evaluation
    /// mode). `None` (the default) records no dev figures.
    fn evaluate(&mut self, _data: &Dataset) -> TrainResult<Option<Evaluation>> {
        Ok(None)
    }
}

//! [`fit`]: one classifier and one optimiser through the [`Trainer`] with the built-in
//! callbacks, as the CLI trains.

use super::{Checkpoints, ClassifierStep, NanGuard, Progress, TrainSettings, Trainer};
use crate::error::TrainResult;
use crate::history::History;
use dlkit_data::Dataset;
use dlkit_nn::{Optimizer, Sequential};

/// Trains `model` on `train` with `optimizer`, evaluating on `dev` each epoch. With `resume`,
/// continues from the checkpoint in `settings.run_dir` if there is one. Leaves the model in
/// evaluation mode.
///
/// The step is a [`ClassifierStep`]; the callbacks, in order: the progress bar, early
/// stopping, the [`EpochHook`](super::EpochHook) of `on_epoch`, checkpoints every `checkpoint_every` epochs into `run_dir`, the NaN guard.
pub fn fit(
    model: &mut Sequential,
    optimizer: &mut dyn Optimizer,
    train: &Dataset,
    dev: Option<&Dataset>,
    settings: &TrainSettings,
    resume: bool,
) -> TrainResult<History> {
    let s = settings;
    let mut step = ClassifierStep::new(model, optimizer, s.loss)
        .with_reduction(s.loss_reduction)
        .with_regularizer(s.regularizer)
        .with_augment(s.augment.clone());
    let mut trainer = Trainer::new(s.epochs).callback(Progress::new(s.progress));
    trainer.batch_size = s.batch_size;
    trainer.seed = s.seed;
    trainer.schedule = s.schedule.clone();
    trainer.record_every = s.record_every;
    if let Some(es) = &s.early_stopping {
        trainer = trainer.callback(es.clone());
    }
    if let Some(hook) = &s.on_epoch {
        trainer = trainer.callback(hook.clone());
    }
    let checkpoint_dir = s.checkpoint_every.and(s.run_dir.clone());
    if let (Some(every), Some(dir)) = (s.checkpoint_every, &checkpoint_dir) {
        trainer = trainer.callback(Checkpoints::new(dir, every));
    }
    trainer = trainer.callback(NanGuard::new(checkpoint_dir));
    if let (true, Some(dir)) = (resume, &s.run_dir) {
        trainer = trainer.resume_from(dir);
    }
    trainer.fit(&mut step, train, dev)
}

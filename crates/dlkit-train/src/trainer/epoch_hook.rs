//! A callback made of one closure told of each epoch's record, which may end the run: how a
//! hyperparameter search reports a trial's dev figure after every epoch and stops a trial
//! its pruner finds hopeless (Optuna's `trial.report` and `trial.should_prune`).

use std::fmt;
use std::sync::Arc;

use super::callback::{Callback, Control, Run};
use crate::error::TrainResult;
use crate::history::EpochRecord;

/// The closure of an [`EpochHook`].
pub type EpochFn = dyn Fn(&EpochRecord) -> TrainResult<Control> + Send + Sync;

/// Runs its closure after each epoch (after early stopping, before checkpoints); the closure
/// returns [`Control::Stop`] to end the run after this epoch, or an error to fail it.
#[derive(Clone)]
pub struct EpochHook(pub Arc<EpochFn>);

impl EpochHook {
    pub fn new(f: impl Fn(&EpochRecord) -> TrainResult<Control> + Send + Sync + 'static) -> Self {
        EpochHook(Arc::new(f))
    }
}

impl fmt::Debug for EpochHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochHook")
    }
}

impl Callback for EpochHook {
    fn on_epoch_end(&mut self, record: &EpochRecord, _run: &mut Run<'_>) -> TrainResult<Control> {
        (self.0)(record)
    }
}

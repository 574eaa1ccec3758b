//! Checkpoints as a callback: the whole run state written into the run folder every N
//! epochs and after the last one (see [`checkpoint`](crate::checkpoint) for the layout).

use super::callback::{Callback, Control, Run};
use crate::checkpoint;
use crate::error::TrainResult;
use crate::history::EpochRecord;
use std::path::PathBuf;

/// Writes a checkpoint into `dir` after every `every`-th epoch and after the run's last
/// epoch (the planned last one, or one a callback before this one stopped at).
pub struct Checkpoints {
    dir: PathBuf,
    every: usize,
}

impl Checkpoints {
    pub fn new(dir: impl Into<PathBuf>, every: usize) -> Self {
        Checkpoints {
            dir: dir.into(),
            every,
        }
    }
}

impl Callback for Checkpoints {
    fn on_epoch_end(&mut self, record: &EpochRecord, run: &mut Run<'_>) -> TrainResult<Control> {
        let done = record.epoch + 1;
        if run.stopping || done == run.epochs || done.is_multiple_of(self.every.max(1)) {
            checkpoint::save(&self.dir, &mut run.groups, run.best.as_deref(), run.state)?;
        }
        Ok(Control::Continue)
    }
}

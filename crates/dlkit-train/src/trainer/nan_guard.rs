//! The guard against a diverging cost: ends the run with [`TrainError::NonFinite`] as soon as
//! a mini-batch's cost is NaN or infinite.

use super::callback::{BatchEnd, Callback};
use crate::error::{TrainError, TrainResult};
use std::path::PathBuf;

/// Stops on a non-finite cost with a message naming the epoch, iteration and learning rate
/// and suggesting a rate ten times smaller.
pub struct NanGuard {
    /// The run folder checkpoints are written to, if any (the message points at it).
    checkpoints: Option<PathBuf>,
}

impl NanGuard {
    pub fn new(checkpoints: Option<PathBuf>) -> Self {
        NanGuard { checkpoints }
    }
}

impl Callback for NanGuard {
    fn on_batch_end(&mut self, b: &BatchEnd) -> TrainResult<()> {
        if b.cost.is_finite() {
            return Ok(());
        }
        Err(TrainError::NonFinite {
            epoch: b.epoch,
            iteration: b.iteration,
            cost: b.cost,
            lr: b.learning_rate,
            smaller: b.learning_rate / 10.0,
            kept: match &self.checkpoints {
                Some(dir) if b.epoch > 0 => format!(
                    "; the last good checkpoint (after epoch {}) is in {}",
                    b.epoch - 1,
                    dir.display()
                ),
                _ => String::new(),
            },
        })
    }
}

//! Early stopping as a callback: keeps the weights of the best epoch on the dev set, stops
//! after `patience` epochs without an improvement of more than `min_delta`, and restores the
//! best weights at the end of the run.
//!
//! The best score is read back from the history's best epoch, so a resumed run goes on with
//! the same best as an uninterrupted one.

use super::callback::{Callback, Control, Run};
use super::settings::{EarlyStopping, Monitor};
use crate::checkpoint;
use crate::error::TrainResult;
use crate::history::{EpochRecord, History};
use std::path::Path;

impl EarlyStopping {
    /// A score where larger is better: −dev cost, or dev accuracy (NaN when there is none,
    /// which never improves).
    fn score(&self, record: &EpochRecord) -> Option<f64> {
        let cost = record.dev_cost?;
        Some(match self.monitor {
            Monitor::DevCost => -cost,
            Monitor::DevAccuracy => record.dev_accuracy.unwrap_or(f64::NAN),
        })
    }

    /// The score of the history's best epoch, −∞ before there is one.
    fn best_score(&self, history: &History) -> f64 {
        history
            .best_epoch
            .and_then(|b| history.epochs.iter().find(|e| e.epoch == b))
            .map(|e| match self.monitor {
                Monitor::DevCost => -e.dev_cost.unwrap_or(f64::INFINITY),
                Monitor::DevAccuracy => e.dev_accuracy.unwrap_or(f64::NEG_INFINITY),
            })
            .unwrap_or(f64::NEG_INFINITY)
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, record: &EpochRecord, run: &mut Run<'_>) -> TrainResult<Control> {
        let Some(now) = self.score(record) else {
            return Ok(Control::Continue);
        };
        let state = &mut *run.state;
        if now > self.best_score(&state.history) + self.min_delta {
            *run.best = Some(
                run.groups
                    .iter()
                    .map(|g| checkpoint::snapshot(&*g.module))
                    .collect(),
            );
            state.history.best_epoch = Some(record.epoch);
            state.epochs_without_improvement = 0;
            return Ok(Control::Continue);
        }
        state.epochs_without_improvement += 1;
        Ok(if state.epochs_without_improvement >= self.patience {
            Control::Stop
        } else {
            Control::Continue
        })
    }

    fn on_train_end(&mut self, run: &mut Run<'_>) -> TrainResult<()> {
        if let Some(best) = run.best.as_ref() {
            for (g, saved) in run.groups.iter().zip(best) {
                checkpoint::restore(&*g.module, saved, Path::new("best weights"))?;
            }
        }
        Ok(())
    }
}

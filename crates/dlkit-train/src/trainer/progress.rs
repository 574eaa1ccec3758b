//! The progress bar as a callback: one tick per mini-batch, the epoch and its cost as the
//! message; it hides itself when stderr is not a terminal.

use super::callback::{BatchEnd, Callback, Control, Run};
use crate::error::TrainResult;
use crate::history::EpochRecord;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws a progress bar over the run's remaining mini-batches (nothing when off).
pub struct Progress {
    on: bool,
    bar: ProgressBar,
}

impl Progress {
    pub fn new(on: bool) -> Self {
        Progress {
            on,
            bar: ProgressBar::hidden(),
        }
    }
}

impl Callback for Progress {
    fn on_train_begin(&mut self, run: &mut Run<'_>) -> TrainResult<()> {
        if self.on {
            let left = run.epochs.saturating_sub(run.state.epochs_done) * run.batches_per_epoch;
            self.bar = ProgressBar::new(left as u64);
            self.bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] epoch {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
        }
        Ok(())
    }

    fn on_batch_end(&mut self, _batch: &BatchEnd) -> TrainResult<()> {
        self.bar.inc(1);
        Ok(())
    }

    fn on_epoch_end(&mut self, record: &EpochRecord, run: &mut Run<'_>) -> TrainResult<Control> {
        self.bar.set_message(format!(
            "{}/{}  cost {:.4}",
            record.epoch + 1,
            run.epochs,
            record.cost
        ));
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _run: &mut Run<'_>) -> TrainResult<()> {
        self.bar.finish_and_clear();
        Ok(())
    }
}

impl Drop for Progress {
    /// A run that ended with an error leaves the bar where it stopped.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.abandon();
        }
    }
}

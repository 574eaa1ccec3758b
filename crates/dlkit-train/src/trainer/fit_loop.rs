//! The [`Trainer`]: epochs of shuffled mini-batches through a [`TrainStep`], the
//! learning-rate schedule on every group, evaluation on dev each epoch, the history, and
//! callbacks at fixed points.
//!
//! Each epoch, in order: every group goes into training mode, is reseeded with
//! [`group_seed`] and gets the rate `schedule.lr(epoch, α₀)` of its own initial rate α₀; then
//! [`TrainStep::on_epoch_start`], the batches of [`BatchLoader::epoch`] (each followed by the
//! callbacks' `on_batch_end` and the iteration count), evaluation mode,
//! [`TrainStep::on_epoch_end`], [`TrainStep::evaluate`] on dev, the epoch's record, and the
//! callbacks' `on_epoch_end`.

use super::callback::{BatchEnd, Callback, Control, Run};
use super::groups::group_seed;
use super::step::TrainStep;
use crate::checkpoint::{self, CheckpointState, Snapshot};
use crate::error::TrainResult;
use crate::history::{EpochRecord, History};
use dlkit_data::{BatchLoader, Dataset};
use dlkit_nn::LrSchedule;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Runs a [`TrainStep`] for a number of epochs with callbacks.
pub struct Trainer<'c> {
    pub epochs: usize,
    /// `None` (or the training set size) is batch gradient descent; 1 is stochastic.
    pub batch_size: Option<usize>,
    /// The seed of the batch order and of every random stream of the run.
    pub seed: u64,
    pub schedule: LrSchedule,
    /// Record the cost every this many iterations (mini-batch steps).
    pub record_every: usize,
    callbacks: Vec<Box<dyn Callback + 'c>>,
    resume_from: Option<PathBuf>,
}

/// The figures an epoch's batches add up.
#[derive(Default)]
struct Totals {
    /// Σ cost · batch size.
    cost: f64,
    correct: Option<usize>,
    /// Σ metric · batch size, per name.
    metrics: BTreeMap<String, f64>,
}

/// The callbacks' view of the run.
fn view<'a>(
    epochs: usize,
    batches_per_epoch: usize,
    state: &'a mut CheckpointState,
    best: &'a mut Option<Vec<Snapshot>>,
    step: &'a mut dyn TrainStep,
) -> Run<'a> {
    Run {
        epochs,
        batches_per_epoch,
        state,
        best,
        groups: step.groups(),
        stopping: false,
    }
}

impl<'c> Trainer<'c> {
    /// `epochs` epochs of batch gradient descent with seed 0, a constant learning rate, the
    /// cost recorded every 100 iterations and no callbacks.
    pub fn new(epochs: usize) -> Self {
        Trainer {
            epochs,
            batch_size: None,
            seed: 0,
            schedule: LrSchedule::default(),
            record_every: 100,
            callbacks: Vec::new(),
            resume_from: None,
        }
    }

    /// Adds a callback; callbacks run in the order they were added.
    pub fn callback(mut self, callback: impl Callback + 'c) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Continues from the checkpoint in `dir` when there is one (else starts at epoch 0).
    pub fn resume_from(mut self, dir: impl Into<PathBuf>) -> Self {
        self.resume_from = Some(dir.into());
        self
    }

    /// Trains `step` on `train`, evaluating on `dev` each epoch; returns the history and
    /// leaves the groups in evaluation mode.
    pub fn fit(
        &mut self,
        step: &mut dyn TrainStep,
        train: &Dataset,
        dev: Option<&Dataset>,
    ) -> TrainResult<History> {
        let m = train.len();
        let loader = BatchLoader::new(
            train.clone(),
            self.batch_size.unwrap_or(m).clamp(1, m.max(1)),
            self.seed,
        )?;
        let base_lrs: Vec<f64> = step
            .groups()
            .iter()
            .map(|g| g.optimizer.learning_rate())
            .collect();
        let mut state = CheckpointState::default();
        let mut best: Option<Vec<Snapshot>> = None;
        if let Some(ckpt) = self.resume_from.as_deref().and_then(checkpoint::find) {
            (state, best) = checkpoint::load(&ckpt, &mut step.groups())?;
        }
        let batches_per_epoch = loader.num_batches();
        let mut run = view(self.epochs, batches_per_epoch, &mut state, &mut best, step);
        for cb in &mut self.callbacks {
            cb.on_train_begin(&mut run)?;
        }
        for epoch in state.epochs_done..self.epochs {
            let started = Instant::now();
            let lrs: Vec<f64> = base_lrs
                .iter()
                .map(|&base| self.schedule.lr(epoch, base))
                .collect();
            for (i, (g, &lr)) in step.groups().into_iter().zip(&lrs).enumerate() {
                g.module.set_training(true);
                g.module.reseed(group_seed(self.seed, i, epoch));
                g.optimizer.set_learning_rate(lr);
            }
            step.on_epoch_start(epoch, self.seed)?;
            let lr = lrs.first().copied().unwrap_or(0.0);
            let mut totals = Totals::default();
            for batch in loader.epoch(epoch as u64) {
                let out = step.train_step(&batch)?;
                let end = BatchEnd {
                    epoch,
                    iteration: state.iterations_done,
                    cost: out.cost,
                    learning_rate: lr,
                };
                for cb in &mut self.callbacks {
                    cb.on_batch_end(&end)?;
                }
                let n = batch.len() as f64;
                totals.cost += out.cost * n;
                if let Some(c) = out.correct {
                    *totals.correct.get_or_insert(0) += c;
                }
                for (name, v) in out.metrics {
                    *totals.metrics.entry(name).or_insert(0.0) += v * n;
                }
                state.iterations_done += 1;
                if state
                    .iterations_done
                    .is_multiple_of(self.record_every.max(1))
                {
                    state
                        .history
                        .iterations
                        .push((state.iterations_done, out.cost));
                }
            }
            for g in step.groups() {
                g.module.set_training(false);
            }
            step.on_epoch_end(epoch)?;
            let dev_eval = match dev {
                Some(d) => step.evaluate(d)?,
                None => None,
            };
            let per_example = |total: f64| total / m.max(1) as f64;
            let record = EpochRecord {
                epoch,
                cost: per_example(totals.cost),
                learning_rate: lr,
                train_accuracy: totals.correct.map(|c| per_example(c as f64)),
                dev_cost: dev_eval.as_ref().map(|e| e.cost),
                dev_accuracy: dev_eval.as_ref().and_then(|e| e.accuracy),
                seconds: started.elapsed().as_secs_f64(),
                metrics: totals
                    .metrics
                    .into_iter()
                    .map(|(k, v)| (k, per_example(v)))
                    .collect(),
            };
            state.history.epochs.push(record.clone());
            state.epochs_done = epoch + 1;
            let mut run = view(self.epochs, batches_per_epoch, &mut state, &mut best, step);
            for cb in &mut self.callbacks {
                if cb.on_epoch_end(&record, &mut run)? == Control::Stop {
                    run.stopping = true;
                }
            }
            if run.stopping {
                state.history.stopped_early = true;
                break;
            }
        }
        let mut run = view(self.epochs, batches_per_epoch, &mut state, &mut best, step);
        for cb in &mut self.callbacks {
            cb.on_train_end(&mut run)?;
        }
        for g in step.groups() {
            g.module.set_training(false);
        }
        Ok(state.history)
    }
}

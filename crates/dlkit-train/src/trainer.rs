//! The training loop: epochs of shuffled mini-batches, a learning-rate schedule, optional
//! L1/L2 penalty and augmentation, evaluation on dev every epoch, early stopping that restores
//! the best weights, checkpoints that resume exactly, and a guard against NaN costs.
//!
//! Every random choice of an epoch (the batch order, dropout masks, augmentation) is drawn
//! from generators seeded by `(seed, epoch)`, so a run resumed from the checkpoint after
//! epoch k repeats epochs k+1.. exactly as an uninterrupted run does.

use crate::checkpoint::{self, CheckpointState};
use crate::error::{TrainError, TrainResult};
use crate::evaluate::{classes_from_logits, evaluate, targets, Evaluation};
use crate::history::{EpochRecord, History};
use dlkit_core::Rng;
use dlkit_data::{epoch_seed, AugmentConfig, BatchLoader, Dataset};
use dlkit_nn::{Loss, LrSchedule, Module, Optimizer, Regularizer, Sequential};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// The quantity early stopping watches on the dev set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    DevCost,
    DevAccuracy,
}

/// Stop when the monitored dev figure has not improved by `min_delta` for `patience` epochs,
/// and restore the weights of the best epoch.
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
}

impl TrainSettings {
    pub fn new(epochs: usize, loss: Loss) -> Self {
        TrainSettings {
            epochs,
            batch_size: None,
            seed: 0,
            loss,
            regularizer: None,
            schedule: LrSchedule::default(),
            augment: None,
            record_every: 100,
            early_stopping: None,
            checkpoint_every: None,
            run_dir: None,
            progress: false,
        }
    }
}

/// A score where larger is better, for early stopping.
fn score(monitor: Monitor, dev: &Evaluation) -> f64 {
    match monitor {
        Monitor::DevCost => -dev.cost,
        Monitor::DevAccuracy => dev.accuracy.unwrap_or(f64::NAN),
    }
}

fn progress_bar(on: bool, total: u64) -> ProgressBar {
    if !on {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] epoch {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Trains `model` on `train` with `optimizer`, evaluating on `dev` each epoch. With `resume`,
/// continues from the checkpoint in `settings.run_dir` if there is one. Leaves the model in
/// evaluation mode.
pub fn fit(
    model: &mut Sequential,
    optimizer: &mut dyn Optimizer,
    train: &Dataset,
    dev: Option<&Dataset>,
    settings: &TrainSettings,
    resume: bool,
) -> TrainResult<History> {
    let s = settings;
    let m = train.len();
    let loader = BatchLoader::new(
        train.clone(),
        s.batch_size.unwrap_or(m).clamp(1, m.max(1)),
        s.seed,
    )?;
    let base_lr = optimizer.learning_rate();
    let params = model.parameters();
    let mut state = CheckpointState {
        epochs_done: 0,
        iterations_done: 0,
        epochs_without_improvement: 0,
        history: History::default(),
    };
    let mut best = None;
    if let (true, Some(dir)) = (resume, &s.run_dir) {
        if let Some(ckpt) = checkpoint::find(dir) {
            (state, best) = checkpoint::load(&ckpt, model, optimizer)?;
        }
    }
    let mut best_score = state
        .history
        .best_epoch
        .and_then(|b| state.history.epochs.iter().find(|e| e.epoch == b))
        .and_then(|e| {
            s.early_stopping.as_ref().map(|es| match es.monitor {
                Monitor::DevCost => -e.dev_cost.unwrap_or(f64::INFINITY),
                Monitor::DevAccuracy => e.dev_accuracy.unwrap_or(f64::NEG_INFINITY),
            })
        })
        .unwrap_or(f64::NEG_INFINITY);

    let bar = progress_bar(
        s.progress,
        (s.epochs.saturating_sub(state.epochs_done) * loader.num_batches()) as u64,
    );
    for epoch in state.epochs_done..s.epochs {
        let started = Instant::now();
        model.set_training(true);
        model.reseed(epoch_seed(s.seed ^ 0x5EED_D0D0, epoch as u64));
        let mut augment_rng = Rng::new(epoch_seed(s.seed ^ 0xA06_0E7, epoch as u64));
        let lr = s.schedule.lr(epoch, base_lr);
        optimizer.set_learning_rate(lr);
        let (mut total, mut hits) = (0.0, 0usize);
        for batch in loader.epoch(epoch as u64) {
            let x = match &s.augment {
                Some(a) => a.apply(&batch.x, &mut augment_rng)?,
                None => batch.x.clone(),
            };
            let logits = model.forward_logits(&x)?;
            if let Some(truth) = batch.y.class_indices() {
                let predicted = classes_from_logits(&logits);
                hits += truth.iter().zip(&predicted).filter(|(t, p)| t == p).count();
            }
            let mut cost = s.loss.compute(&logits, targets(&batch.y))?;
            if let Some(r) = &s.regularizer {
                cost = cost.add(&r.penalty(&params, batch.len())?);
            }
            let c = cost.item();
            if !c.is_finite() {
                bar.abandon();
                return Err(TrainError::NonFinite {
                    epoch,
                    iteration: state.iterations_done,
                    cost: c,
                    lr,
                    smaller: lr / 10.0,
                    kept: match (&s.run_dir, state.epochs_done) {
                        (Some(dir), n) if n > 0 && s.checkpoint_every.is_some() => {
                            format!(
                                "; the last good checkpoint (after epoch {}) is in {}",
                                n - 1,
                                dir.display()
                            )
                        }
                        _ => String::new(),
                    },
                });
            }
            optimizer.zero_grad();
            cost.backward();
            optimizer.step();
            total += c * batch.len() as f64;
            state.iterations_done += 1;
            if state.iterations_done.is_multiple_of(s.record_every.max(1)) {
                state.history.iterations.push((state.iterations_done, c));
            }
            bar.inc(1);
        }
        model.set_training(false);
        let train_accuracy = train
            .y
            .class_indices()
            .map(|_| hits as f64 / m.max(1) as f64);
        let dev_eval = dev.map(|d| evaluate(model, d, s.loss)).transpose()?;
        let record = EpochRecord {
            epoch,
            cost: total / m.max(1) as f64,
            learning_rate: lr,
            train_accuracy,
            dev_cost: dev_eval.as_ref().map(|e| e.cost),
            dev_accuracy: dev_eval.as_ref().and_then(|e| e.accuracy),
            seconds: started.elapsed().as_secs_f64(),
        };
        bar.set_message(format!(
            "{}/{}  cost {:.4}",
            epoch + 1,
            s.epochs,
            record.cost
        ));
        state.history.epochs.push(record);
        state.epochs_done = epoch + 1;

        let mut stop = false;
        if let (Some(es), Some(d)) = (&s.early_stopping, &dev_eval) {
            let now = score(es.monitor, d);
            if now > best_score + es.min_delta {
                best_score = now;
                best = Some(checkpoint::snapshot(model));
                state.history.best_epoch = Some(epoch);
                state.epochs_without_improvement = 0;
            } else {
                state.epochs_without_improvement += 1;
                stop = state.epochs_without_improvement >= es.patience;
            }
        }
        let last = stop || epoch + 1 == s.epochs;
        if let (Some(every), Some(dir)) = (s.checkpoint_every, &s.run_dir) {
            if last || (epoch + 1).is_multiple_of(every.max(1)) {
                checkpoint::save(dir, model, optimizer, best.as_deref(), &state)?;
            }
        }
        if stop {
            state.history.stopped_early = true;
            break;
        }
    }
    bar.finish_and_clear();
    if let Some(best) = &best {
        checkpoint::restore(model, best, std::path::Path::new("best weights"))?;
    }
    model.set_training(false);
    Ok(state.history)
}

//! One trial run: the trial's config trained in-process into its own run folder, its dev
//! value reported to the storage after every epoch (the heartbeat with it, and from a
//! thread of its own between epochs), the pruner asked after each report, and the trial
//! finished as complete, pruned or failed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dlkit_train::metrics::Metric;
use dlkit_train::run_writer::write_run;
use dlkit_train::{Control, EpochHook, EpochRecord, Experiment, ExperimentOptions, TrainError};
use serde_json::{json, Value};

use crate::error::Result;
use crate::objective::trial_value;
use crate::pruner::Pruner;
use crate::storage::{Storage, StudyId, TrialRef};
use crate::study::Study;
use crate::trial::{Trial, TrialState};

/// How a trial ended, as stored.
#[derive(Clone, Debug)]
pub struct TrialEnd {
    pub state: TrialState,
    pub value: Option<f64>,
    pub attrs: BTreeMap<String, Value>,
}

/// The per-epoch figure a trial reports: the optimizing metric when the epoch's record has
/// it (accuracy, error, cost on the dev set), else dev accuracy (precision, recall and F1
/// are measured once, at the end).
fn epoch_value(metric: Metric, r: &EpochRecord) -> Option<f64> {
    match metric {
        Metric::Cost => r.dev_cost,
        Metric::Error => r.dev_accuracy.map(|a| 1.0 - a),
        _ => r.dev_accuracy,
    }
}

/// Runs `trial` of `study` in `run_dir` with `threads` threads and finishes it in
/// `storage`. Errors of the trial itself (a config the search space made that does not
/// build, a diverging cost) fail the trial and are kept in its attrs; errors of the storage
/// are returned.
#[allow(clippy::too_many_arguments)]
pub fn run_trial(
    study: &Study,
    storage: &Arc<dyn Storage>,
    id: &StudyId,
    trial: &Trial,
    worker: &str,
    pruner: Option<&Arc<dyn Pruner>>,
    run_dir: &Path,
    threads: usize,
    heartbeat_every: Duration,
) -> Result<TrialEnd> {
    let tref = TrialRef::claimed(id, trial, worker);
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let beat = {
        let (storage, tref, done) = (storage.clone(), tref.clone(), done.clone());
        std::thread::spawn(move || {
            let tick = Duration::from_millis(100);
            let mut since = Duration::ZERO;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                since += tick;
                if since >= heartbeat_every {
                    since = Duration::ZERO;
                    if storage.heartbeat(&tref).is_err() {
                        return;
                    }
                }
            }
        })
    };
    let result = train(study, storage, &tref, trial, pruner, run_dir, threads);
    done.store(true, Ordering::Relaxed);
    let _ = beat.join();
    let mut end = match result {
        Ok(end) => end,
        Err(TrialFailure::Storage(e)) => return Err(e),
        Err(TrialFailure::Trial(message)) => TrialEnd {
            state: TrialState::Failed,
            value: None,
            attrs: BTreeMap::from([("error".to_string(), json!(message))]),
        },
    };
    end.attrs
        .insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
    end.attrs
        .insert("run_dir".into(), json!(run_dir.display().to_string()));
    storage.finish(&tref, end.state, end.value, &end.attrs)?;
    Ok(end)
}

enum TrialFailure {
    Storage(crate::error::TuneError),
    Trial(String),
}

fn train(
    study: &Study,
    storage: &Arc<dyn Storage>,
    tref: &TrialRef,
    trial: &Trial,
    pruner: Option<&Arc<dyn Pruner>>,
    run_dir: &Path,
    threads: usize,
) -> std::result::Result<TrialEnd, TrialFailure> {
    let fail = |e: &dyn std::fmt::Display| TrialFailure::Trial(e.to_string());
    let cfg = study.config_for(&trial.params).map_err(|e| fail(&e))?;
    let metric = cfg.config.metrics.optimizing;
    let pruned = Arc::new(AtomicBool::new(false));
    let storage_error: Arc<Mutex<Option<crate::error::TuneError>>> = Arc::default();
    let hook = {
        let (storage, tref, pruned, storage_error) = (
            storage.clone(),
            tref.clone(),
            pruned.clone(),
            storage_error.clone(),
        );
        let pruner = pruner.cloned();
        let direction = study.direction;
        let base = trial.clone();
        let reported = Mutex::new(trial.intermediate.clone());
        EpochHook::new(move |r| {
            let Some(v) = epoch_value(metric, r) else {
                return Ok(Control::Continue);
            };
            let keep = |e: crate::error::TuneError| {
                let msg = e.to_string();
                *storage_error.lock().unwrap() = Some(e);
                TrainError::Callback(msg)
            };
            storage.report(&tref, r.epoch, v).map_err(keep)?;
            let mut values = reported.lock().unwrap();
            values.push((r.epoch, v));
            let Some(p) = &pruner else {
                return Ok(Control::Continue);
            };
            let history = storage.trials(&tref.study).map_err(keep)?;
            let now = Trial {
                intermediate: values.clone(),
                ..base.clone()
            };
            if p.should_prune(&now, r.epoch, &history, direction) {
                pruned.store(true, Ordering::Relaxed);
                return Ok(Control::Stop);
            }
            Ok(Control::Continue)
        })
    };
    let options = ExperimentOptions {
        run_dir: Some(run_dir.to_path_buf()),
        on_epoch: Some(hook),
        ..ExperimentOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| fail(&e))?;
    let outcome = pool.install(|| Experiment::new(cfg, options).and_then(|e| e.run()));
    if let Some(e) = storage_error.lock().unwrap().take() {
        return Err(TrialFailure::Storage(e));
    }
    let outcome = outcome.map_err(|e| fail(&e))?;
    write_run(&outcome, run_dir).map_err(|e| fail(&e))?;
    let results = &outcome.results;
    let mut attrs = BTreeMap::new();
    for set in &results.sets {
        attrs.insert(format!("{}_accuracy", set.name), json!(set.accuracy()));
    }
    attrs.insert("epochs".into(), json!(outcome.history.epochs.len()));
    let pruned = pruned.load(Ordering::Relaxed);
    let value = if results.objective_set == "dev" {
        trial_value(&results.objective)
    } else {
        None
    };
    if !results.objective.feasible {
        attrs.insert("infeasible".into(), json!(true));
    }
    let value = if pruned {
        // A pruned trial keeps the value of its last epoch.
        outcome
            .history
            .epochs
            .last()
            .and_then(|r| epoch_value(metric, r))
    } else {
        value
    };
    Ok(TrialEnd {
        state: if pruned {
            TrialState::Pruned
        } else {
            TrialState::Complete
        },
        value,
        attrs,
    })
}

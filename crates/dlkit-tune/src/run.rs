//! A study run: workers (threads of this process; other processes may join through the
//! storage) claim trials until the study's budget is spent. Each worker samples inside its
//! claim, so trial `n` is drawn from the trials before it; with one worker the same seed
//! gives the same trials and results.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::error::{Result, TuneError};
use crate::pruner::Pruner;
use crate::sampler::{grid_points, SamplerConfig};
use crate::storage::{self, Storage, StudyId, StudyMeta};
use crate::study::Study;
use crate::trial::Trial;
use crate::worker::{run_trial, TrialEnd};

/// How a study runs.
#[derive(Clone, Debug)]
pub struct TuneOptions {
    /// The folder of the study's trials' run folders, report and best config.
    pub out_dir: PathBuf,
    /// The storage URL; `None`: `sqlite:<out_dir>/study.db`.
    pub storage: Option<String>,
    /// Trials trained at once by this process.
    pub workers: usize,
    /// Threads of each trial; `None`: the cores divided among the workers.
    pub threads: Option<usize>,
    /// Continue (or join) a study that exists in the storage.
    pub resume: bool,
    /// A running trial whose heartbeat is older than this is failed and re-queued.
    pub heartbeat_timeout: Duration,
    /// Replaces `[tune] trials`.
    pub trials: Option<u64>,
}

impl TuneOptions {
    pub fn new(out_dir: PathBuf) -> Self {
        TuneOptions {
            out_dir,
            storage: None,
            workers: 1,
            threads: None,
            resume: false,
            heartbeat_timeout: Duration::from_secs(60),
            trials: None,
        }
    }

    /// The storage URL used.
    pub fn storage_url(&self) -> String {
        self.storage
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.out_dir.join("study.db").display()))
    }

    /// Threads per trial: `threads`, else the available cores divided by `workers` (at
    /// least 1), so that workers x threads fits the cores.
    pub fn threads_per_trial(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            (cores / self.workers.max(1)).max(1)
        })
    }
}

/// What a worker tells the caller (the CLI's live table).
#[derive(Clone, Debug)]
pub enum Event {
    Started { trial: Trial, worker: String },
    Finished { trial: Trial, end: TrialEnd },
    Requeued { numbers: Vec<u64> },
}

/// The opened study: its storage and id.
pub struct Opened {
    pub storage: Arc<dyn Storage>,
    pub id: StudyId,
}

/// Opens `study` in the storage of `opts`, creating it (and queueing a grid's points) unless
/// it exists; an existing study is an error without `resume`. Nothing is written when the
/// study cannot be opened.
pub fn open_study(study: &Study, opts: &TuneOptions) -> Result<Opened> {
    let url = opts.storage_url();
    if opts.storage.is_none() {
        std::fs::create_dir_all(&opts.out_dir).map_err(|e| {
            TuneError::Config(format!("{}: cannot create: {e}", opts.out_dir.display()))
        })?;
    }
    let storage: Arc<dyn Storage> = Arc::from(storage::open(&url)?);
    let existing = storage.study(&study.name)?;
    if let (Some(info), false) = (&existing, opts.resume) {
        let n = storage.trials(&info.id)?.len();
        return Err(TuneError::Config(format!(
            "study {:?} already exists in {} ({n} trials): pass --resume to continue it (or \
             to join its other workers), or give another --study name",
            study.name,
            storage.url()
        )));
    }
    let meta = StudyMeta {
        config_fingerprint: study.fingerprint(),
        direction: study.direction,
        meta: json!({
            "config": study.base_file.display().to_string(),
            "sampler": study.tune.sampler.name(),
            "pruner": study.tune.pruner.name(),
            "seed": study.tune.seed,
        }),
    };
    let id = storage.open_study(&study.name, &meta)?;
    if existing.is_none() {
        if let SamplerConfig::Grid(g) = &study.tune.sampler {
            for p in grid_points(&study.tune.params, g.points_per_param) {
                storage.enqueue(&id, &p)?;
            }
        }
    }
    Ok(Opened { storage, id })
}

/// Runs workers on the opened study until no trial is left to claim; returns every trial.
pub fn run_workers(
    study: &Study,
    opened: &Opened,
    opts: &TuneOptions,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<Vec<Trial>> {
    let budget = opts.trials.or(Some(study.tune.trial_count()));
    let sampler = study.tune.build_sampler();
    let pruner: Option<Arc<dyn Pruner>> = study.tune.build_pruner().map(Arc::from);
    let threads = opts.threads_per_trial();
    let first_error: Mutex<Option<TuneError>> = Mutex::new(None);
    let host = hostname();
    let beat = (opts.heartbeat_timeout / 4).max(Duration::from_millis(200));
    std::thread::scope(|scope| {
        for w in 0..opts.workers.max(1) {
            let worker = format!("{host}:{}:{w}", std::process::id());
            let (sampler, pruner, first_error) = (&sampler, &pruner, &first_error);
            scope.spawn(move || {
                let run = || -> Result<()> {
                    let (storage, id) = (&opened.storage, &opened.id);
                    loop {
                        if first_error.lock().unwrap().is_some() {
                            return Ok(());
                        }
                        let requeued = storage.fail_stale(id, opts.heartbeat_timeout)?;
                        if !requeued.is_empty() {
                            events(&Event::Requeued { numbers: requeued });
                        }
                        let mut sample =
                            |number: u64, history: &[Trial]| {
                                Ok(sampler.sample(
                                    &study.tune.params,
                                    history,
                                    number,
                                    study.direction,
                                ))
                            };
                        let Some(trial) = storage.claim(id, &worker, budget, &mut sample)? else {
                            if storage
                                .trials(id)?
                                .iter()
                                .any(|t| t.state == crate::TrialState::Running)
                            {
                                // Others still train: a dead one's trial may come back.
                                std::thread::sleep(beat);
                                continue;
                            }
                            return Ok(());
                        };
                        events(&Event::Started {
                            trial: trial.clone(),
                            worker: worker.clone(),
                        });
                        let dir = opts
                            .out_dir
                            .join("trials")
                            .join(format!("{:04}", trial.number));
                        let end = run_trial(
                            study,
                            storage,
                            id,
                            &trial,
                            &worker,
                            pruner.as_ref(),
                            &dir,
                            threads,
                            beat,
                        )?;
                        events(&Event::Finished { trial, end });
                    }
                };
                if let Err(e) = run() {
                    first_error.lock().unwrap().get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap() {
        return Err(e);
    }
    opened.storage.trials(&opened.id)
}

/// This machine's name, for worker ids (`host:pid:index`).
fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

//! `dlkit tune STUDY`: a hyperparameter search over a config's fields, its trials printed
//! as they end, then the best trial, its config and the report.

use std::path::PathBuf;
use std::time::Duration;

use dlkit_tune::report::{describe_params, write_report};
use dlkit_tune::run::{open_study, run_workers, Event, TuneOptions};
use dlkit_tune::{Study, TuneError};

use crate::error::{CliError, CliResult};

pub struct TuneArgs {
    pub study: PathBuf,
    pub out: Option<PathBuf>,
    pub storage: Option<String>,
    pub name: Option<String>,
    pub workers: usize,
    pub threads: Option<usize>,
    pub trials: Option<u64>,
    pub seed: Option<u64>,
    pub sampler: Option<String>,
    pub resume: bool,
    pub heartbeat_timeout: f64,
    pub quiet: bool,
}

impl From<TuneError> for CliError {
    fn from(e: TuneError) -> Self {
        if e.is_input() {
            CliError::input(e.to_string())
        } else {
            CliError::runtime(e.to_string())
        }
    }
}

pub fn tune(args: &TuneArgs) -> CliResult<()> {
    if args.workers == 0 {
        return Err(CliError::input("--workers must be at least 1"));
    }
    if args.heartbeat_timeout.is_nan() || args.heartbeat_timeout <= 0.0 {
        return Err(CliError::input(
            "--heartbeat-timeout must be above 0 seconds",
        ));
    }
    let mut study = Study::from_file(&args.study)?;
    if let Some(name) = &args.name {
        study.name = name.clone();
    }
    if let Some(seed) = args.seed {
        study.tune.seed = seed;
    }
    if let Some(sampler) = &args.sampler {
        study
            .tune
            .set_sampler(sampler)
            .map_err(|e| CliError::input(format!("--sampler: {e}")))?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("tunes").join(&study.name));
    let opts = TuneOptions {
        storage: args.storage.clone(),
        workers: args.workers,
        threads: args.threads,
        resume: args.resume,
        heartbeat_timeout: Duration::from_secs_f64(args.heartbeat_timeout),
        trials: args.trials,
        ..TuneOptions::new(out.clone())
    };
    let opened = open_study(&study, &opts)?;
    let quiet = args.quiet;
    let space = &study.tune.params;
    if !quiet {
        println!(
            "study {} in {}: {} sampler, {} pruner, {} trials, {} worker(s) x {} thread(s)",
            study.name,
            opened.storage.url(),
            study.tune.sampler.name(),
            study.tune.pruner.name(),
            opts.trials.unwrap_or(study.tune.trial_count()),
            opts.workers,
            opts.threads_per_trial()
        );
        println!(
            "{:>5}  {:<9} {:>8} {:>8} {:>7}  params",
            "trial", "state", "value", "test", "secs"
        );
    }
    let events = |e: &Event| {
        if quiet {
            return;
        }
        match e {
            Event::Started { .. } => {}
            Event::Requeued { numbers } => {
                println!("trials {numbers:?}: worker stopped sending heartbeats; parameters queued again")
            }
            Event::Finished { trial, end } => {
                let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
                println!(
                    "{:>5}  {:<9} {:>8} {:>8} {:>7.1}  {}{}",
                    trial.number,
                    end.state.as_str(),
                    f(end.value),
                    f(end.attrs.get("test_accuracy").and_then(|v| v.as_f64())),
                    end.attrs
                        .get("seconds")
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0),
                    describe_params(space, &trial.params),
                    end.attrs
                        .get("error")
                        .and_then(|v| v.as_str())
                        .map_or(String::new(), |m| format!("  error: {m}"))
                );
            }
        }
    };
    let trials = run_workers(&study, &opened, &opts, &events)?;
    let files = write_report(&study, opened.storage.url(), &trials, &out)?;
    match dlkit_tune::report::best(&study, &trials) {
        Some(b) => {
            println!(
                "best: trial {} dev {} {:.4} ({})",
                b.number,
                study.loaded.config.metrics.optimizing.name(),
                b.value.unwrap_or(f64::NAN),
                describe_params(space, &b.params)
            );
            if let Some(cfg) = &files.best_config {
                println!(
                    "best config: {} (dlkit train {})",
                    cfg.display(),
                    cfg.display()
                );
            }
        }
        None => println!("no trial completed with a value"),
    }
    println!("report: {}", files.report.display());
    Ok(())
}

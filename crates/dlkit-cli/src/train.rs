//! `dlkit train`: config in; model, metrics, plots, report and diagnosis out, in one run folder.

use std::path::{Path, PathBuf};

use dlkit_train::metrics::Average;
use dlkit_train::run_writer::{new_run_folder, write_run};
use dlkit_train::{Experiment, ExperimentOptions, History, LoadedConfig, Outcome};

use crate::error::CliResult;

/// The arguments of `dlkit train`.
pub struct TrainArgs {
    pub config: Option<PathBuf>,
    pub run_dir: Option<PathBuf>,
    pub resume: bool,
    pub quiet: bool,
    /// Replaces `[model] seed` and `[train] seed`.
    pub seed: Option<u64>,
}

pub fn train(args: &TrainArgs) -> CliResult<()> {
    let options = ExperimentOptions {
        run_dir: args.run_dir.clone(),
        resume: args.resume,
        progress: !args.quiet,
        seed: args.seed,
        on_epoch: None,
    };
    let mut exp = Experiment::new(load_config(args)?, options)?;
    let run_dir = match &args.run_dir {
        Some(dir) => dir.clone(),
        None => new_run_folder(Path::new("runs"))?,
    };
    exp.set_run_dir(run_dir.clone());
    if !args.quiet {
        print_header(&exp, args.resume, &run_dir);
    }
    let outcome = exp.run()?;
    if !args.quiet {
        print_costs(&outcome.history);
    }
    write_run(&outcome, &run_dir)?;
    print_summary(&outcome, &run_dir);
    Ok(())
}

/// The config named on the command line; with `--resume` and none, the run folder's own
/// `config.toml`; otherwise the built-in default.
fn load_config(args: &TrainArgs) -> CliResult<LoadedConfig> {
    if let Some(path) = &args.config {
        return Ok(LoadedConfig::from_file(path)?);
    }
    if let (true, Some(dir)) = (args.resume, &args.run_dir) {
        let saved = dir.join("config.toml");
        if saved.is_file() {
            return Ok(LoadedConfig::from_file(&saved)?);
        }
    }
    Ok(LoadedConfig::default_config()?)
}

/// The data, the model and the training settings, before training starts.
fn print_header(exp: &Experiment, resume: bool, run_dir: &Path) {
    let cfg = exp.config();
    let c = &cfg.config;
    println!("config: {}", cfg.name);
    for (name, d) in exp.splits().named() {
        println!(
            "{name:<9} {:>6} examples of shape {:?}",
            d.len(),
            d.feature_shape()
        );
    }
    println!("classes: {}", exp.class_names().join(", "));
    println!(
        "model: input {:?} -> {}; {} parameters ({})",
        exp.input_shape(),
        exp.layers().join(" -> "),
        exp.parameters(),
        c.model.dtype.dtype()
    );
    let batch = exp.batch_size();
    println!(
        "training: {} epochs, batch size {}{}, {} (lr {}), loss {}",
        c.train.epochs,
        batch,
        if batch >= exp.splits().train.len() {
            " (full batch)"
        } else {
            ""
        },
        c.optimizer.name(),
        c.optimizer.lr(),
        exp.loss().name()
    );
    match exp.resumed_from() {
        Some(e) => println!("resuming from the checkpoint after epoch {e}"),
        None if resume => eprintln!(
            "note: no checkpoint in {}: training starts from epoch 0",
            run_dir.display()
        ),
        None => {}
    }
    println!("run folder: {}", run_dir.display());
}

/// The recorded costs, at most about 25 lines.
fn print_costs(history: &History) {
    let it = &history.iterations;
    if !it.is_empty() {
        let step = it.len().div_ceil(25);
        for (i, (iteration, cost)) in it.iter().enumerate() {
            if i % step == 0 || i + 1 == it.len() {
                println!("Cost after iteration {iteration}: {cost:.6}");
            }
        }
    } else if let Some(last) = history.epochs.last() {
        println!("Cost after epoch {}: {:.6}", last.epoch + 1, last.cost);
    }
}

fn print_summary(o: &Outcome, run_dir: &Path) {
    let h = &o.history;
    let r = &o.results;
    let iterations = h.epochs.len() * o.iterations_per_epoch;
    let epoch_seconds: f64 = h.epochs.iter().map(|e| e.seconds).sum();
    println!(
        "Trained {} epochs{} in {:.2} s{}{}",
        h.epochs.len(),
        if iterations != h.epochs.len() {
            format!(" ({iterations} iterations)")
        } else {
            String::new()
        },
        epoch_seconds,
        if o.resumed_from.is_some() {
            format!(" (this process: {:.2} s)", o.wall_seconds)
        } else {
            String::new()
        },
        if h.stopped_early {
            format!(
                "; stopped early, weights of epoch {} kept",
                h.best_epoch.map_or(0, |b| b + 1)
            )
        } else {
            String::new()
        }
    );
    for s in &r.sets {
        let label = match s.name {
            "train_dev" => "Train-dev".to_string(),
            n => {
                let mut c = n.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        };
        println!(
            "{label} accuracy: {:.4} ({}/{}), cost {:.4}",
            s.accuracy(),
            s.correct(),
            s.examples,
            s.eval.cost
        );
    }
    let sc = &r.scores;
    let which = match sc.average {
        Average::Binary { positive } => format!(
            "class \"{}\" as positive",
            r.confusion
                .class_label(positive.min(r.confusion.n_classes() - 1))
        ),
        Average::Macro => "macro average".to_string(),
    };
    println!(
        "{} set: precision {:.4}, recall {:.4}, F1 {:.4} ({which})",
        r.report_set, sc.precision, sc.recall, sc.f1
    );
    println!("{}", r.confusion);
    println!("Objective on the {} set: {}", r.objective_set, r.objective);
    println!();
    println!("Diagnosis:");
    print!("{}", r.diagnosis);
    println!();
    println!("Run folder: {}", run_dir.display());
}

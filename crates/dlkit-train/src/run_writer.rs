//! The files of a run folder, each written atomically:
//!
//! - `config.toml`: the config as used (written before training starts, so that a stopped
//!   run can be resumed with it);
//! - `metrics.csv`: per epoch `epoch,cost,lr,train_acc,dev_acc,dev_cost,seconds`;
//! - `iterations.csv`: `iteration,cost` every `record_every` iterations;
//! - `cost.png`/`.svg`, `accuracy.png`/`.svg`, `confusion_matrix.png`/`.svg`, and for
//!   classifiers of 2-D inputs `decision_boundary_<set>.png`/`.svg` per set;
//! - `model/`: `model.json` + `model.safetensors`, with [`TrainingMetadata`] for the
//!   [`Predictor`](crate::Predictor);
//! - `diagnosis.json`: the [`Diagnosis`](crate::diagnose::Diagnosis);
//! - `results.json`: accuracies, costs, scores, confusion matrix and the objective;
//! - `report.md`: all of it for a person, with the figures (`dlkit errors` adds a section
//!   with [`replace_report_section`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use dlkit_core::Tensor;
use serde_json::json;

use crate::config::LoadedConfig;
use crate::error::{TrainError, TrainResult};
use crate::outcome::{set_title, Outcome};
use crate::plots::{
    plot_accuracy, plot_confusion_matrix, plot_cost, plot_decision_boundary, PlotOptions,
};
use crate::predictor::TrainingMetadata;

/// The folder a run writes its model into.
pub const MODEL_DIR: &str = "model";

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> TrainResult<()> {
    dlkit_nn::io::write_atomic(path, bytes).map_err(|e| TrainError::write(path, e))
}

/// Writes `config.toml` into `dir`: the config as used, with a header naming its source.
pub fn write_config(dir: &Path, cfg: &LoadedConfig) -> TrainResult<()> {
    let header = format!(
        "# dlkit config as used by the run in this folder (from {}; data paths resolved)\n\n",
        cfg.name
    );
    write(
        &dir.join("config.toml"),
        (header + &cfg.config.to_toml()?).as_bytes(),
    )
}

/// Writes every file of run folder `dir` but the config: the model, the tables, figures,
/// diagnosis, results and report.
pub fn write_run(o: &Outcome, dir: &Path) -> TrainResult<()> {
    let model_dir = dir.join(MODEL_DIR);
    let meta: TrainingMetadata = o.metadata();
    dlkit_nn::io::save_with(
        &o.model,
        &o.input_shape,
        &meta.to_model_metadata(&o.class_names),
        &model_dir,
    )
    .map_err(|e| TrainError::write(&model_dir, e))?;
    write(&dir.join("metrics.csv"), metrics_csv(o).as_bytes())?;
    write(&dir.join("iterations.csv"), iterations_csv(o).as_bytes())?;
    let figures = plots(o, dir)?;
    let diagnosis =
        serde_json::to_vec_pretty(&o.results.diagnosis).map_err(|e| TrainError::write(dir, e))?;
    write(&dir.join("diagnosis.json"), &diagnosis)?;
    let results =
        serde_json::to_vec_pretty(&results_json(o)).map_err(|e| TrainError::write(dir, e))?;
    write(&dir.join("results.json"), &results)?;
    write(
        &dir.join("report.md"),
        report_md(o, dir, &figures).as_bytes(),
    )?;
    Ok(())
}

/// Puts `body` under `heading` (`"## Error analysis"`) in the `report.md` of run folder
/// `dir`, written atomically: a section with that heading is replaced (up to the next `## `
/// heading), otherwise the section is appended; the rest of the report is kept as it was. A
/// run without a report gets one holding only the section.
pub fn replace_report_section(dir: &Path, heading: &str, body: &str) -> TrainResult<()> {
    let path = dir.join("report.md");
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(TrainError::read(&path, e)),
    };
    let section = format!("{heading}\n\n{}\n", body.trim_end());
    let starts = |line: &str| line.trim_end() == heading;
    let mut lines = old.split_inclusive('\n').peekable();
    let mut out = String::new();
    let mut replaced = false;
    while let Some(line) = lines.next() {
        if !replaced && starts(line) {
            while lines.peek().is_some_and(|l| !l.starts_with("## ")) {
                lines.next();
            }
            out.push_str(&section);
            if lines.peek().is_some() {
                out.push('\n');
            }
            replaced = true;
        } else {
            out.push_str(line);
        }
    }
    if !replaced {
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        out.push_str(&section);
    }
    write(&path, out.as_bytes())
}

/// A config value as compact JSON, for the report's tables.
fn compact<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// An initialiser as the config writes it: `"he"`, or the table for `normal`.
fn compact_init(init: &dlkit_nn::Init) -> String {
    let mut out = Vec::new();
    let _ = dlkit_nn::Init::serialize_as_name(init, &mut serde_json::Serializer::new(&mut out));
    String::from_utf8(out).unwrap_or_default()
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

fn metrics_csv(o: &Outcome) -> String {
    let mut s = String::from("epoch,cost,lr,train_acc,dev_acc,dev_cost,seconds\n");
    for e in &o.history.epochs {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            e.epoch + 1,
            e.cost,
            e.learning_rate,
            opt(e.train_accuracy),
            opt(e.dev_accuracy),
            opt(e.dev_cost),
            e.seconds
        );
    }
    s
}

fn iterations_csv(o: &Outcome) -> String {
    let mut s = String::from("iteration,cost\n");
    for (i, c) in &o.history.iterations {
        let _ = writeln!(s, "{i},{c}");
    }
    s
}

/// Draws the figures as PNG and SVG; returns `(title, file stem)` of each.
fn plots(o: &Outcome, dir: &Path) -> TrainResult<Vec<(String, &'static str)>> {
    let h = &o.history;
    let lr = o.config.config.optimizer.lr();
    let mut figures = Vec::new();

    let (cost, x_label): (Vec<(f64, f64)>, &str) = if h.iterations.len() >= 2 {
        (
            h.iterations.iter().map(|&(i, c)| (i as f64, c)).collect(),
            "iteration",
        )
    } else {
        (
            h.epochs
                .iter()
                .map(|e| ((e.epoch + 1) as f64, e.cost))
                .collect(),
            "epoch",
        )
    };
    if cost.iter().any(|(_, c)| c.is_finite()) {
        let title = format!("Cost (learning rate {lr})");
        let opts = PlotOptions::new(&title).x_label(x_label);
        for ext in ["png", "svg"] {
            plot_cost(dir.join(format!("cost.{ext}")), &cost, &opts)?;
        }
        figures.push((title, "cost"));
    }

    // At most about 250 points per curve (every k-th epoch, and the last), so that long runs
    // stay readable.
    let stride = h.epochs.len().div_ceil(250).max(1);
    let series = |f: fn(&crate::EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        h.epochs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % stride == stride - 1 || i + 1 == h.epochs.len())
            .filter_map(|(_, e)| f(e).map(|a| ((e.epoch + 1) as f64, a)))
            .collect()
    };
    let (train, dev) = (series(|e| e.train_accuracy), series(|e| e.dev_accuracy));
    if !train.is_empty() || !dev.is_empty() {
        let title = match stride {
            1 => "Accuracy per epoch".to_string(),
            k => format!("Accuracy (every {k} epochs)"),
        };
        let opts = PlotOptions::new(&title);
        for ext in ["png", "svg"] {
            plot_accuracy(dir.join(format!("accuracy.{ext}")), &train, &dev, &opts)?;
        }
        figures.push((title, "accuracy"));
    }

    let title = format!("Confusion matrix ({} set)", set_title(o.results.report_set));
    let opts = PlotOptions::new(&title);
    for ext in ["png", "svg"] {
        plot_confusion_matrix(
            dir.join(format!("confusion_matrix.{ext}")),
            &o.results.confusion,
            &opts,
        )?;
    }
    figures.push((title, "confusion_matrix"));
    decision_boundaries(o, dir, &mut figures)?;
    Ok(figures)
}

/// For a classifier of 2-D inputs, the course's `plot_decision_boundary` of each set: the
/// model's regions over the raw input plane with the set's examples on top.
fn decision_boundaries(
    o: &Outcome,
    dir: &Path,
    figures: &mut Vec<(String, &'static str)>,
) -> TrainResult<()> {
    if o.raw_shape != [2] {
        return Ok(());
    }
    for (name, d) in o.splits.named() {
        let Some(labels) = d.y.class_indices() else {
            return Ok(());
        };
        let xs = d.x.to_vec_f64();
        let points: Vec<(f64, f64)> = xs.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        let stem: &'static str = match name {
            "train" => "decision_boundary_train",
            "train_dev" => "decision_boundary_train_dev",
            "dev" => "decision_boundary_dev",
            _ => "decision_boundary_test",
        };
        let title = format!("Decision boundary ({} set)", set_title(name));
        let opts = PlotOptions::new(&title)
            .size(700, 600)
            .class_names(&o.class_names);
        for ext in ["png", "svg"] {
            let mut failure: Option<TrainError> = None;
            let classify = |grid: &[(f64, f64)]| {
                let flat: Vec<f64> = grid.iter().flat_map(|&(a, b)| [a, b]).collect();
                let raw = Tensor::from_vec(flat, &[grid.len(), 2]);
                o.classify(&raw).unwrap_or_else(|e| {
                    failure = Some(e);
                    Vec::new()
                })
            };
            let drawn = plot_decision_boundary(
                dir.join(format!("{stem}.{ext}")),
                &points,
                labels,
                classify,
                &opts,
            );
            if let Some(e) = failure {
                return Err(e);
            }
            drawn?;
        }
        figures.push((title, stem));
    }
    Ok(())
}

fn results_json(o: &Outcome) -> serde_json::Value {
    let r = &o.results;
    let sets: serde_json::Map<String, serde_json::Value> = r
        .sets
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                json!({
                    "examples": s.examples,
                    "cost": s.eval.cost,
                    "accuracy": s.eval.accuracy,
                    "correct": s.correct(),
                }),
            )
        })
        .collect();
    let epoch_seconds: f64 = o.history.epochs.iter().map(|e| e.seconds).sum();
    json!({
        "config": o.config.name,
        "class_names": o.class_names,
        "raw_input_shape": o.raw_shape,
        "input_shape": o.input_shape,
        "parameters": o.parameters,
        "loss": o.loss.name(),
        "epochs": o.history.epochs.len(),
        "stopped_early": o.history.stopped_early,
        "best_epoch": o.history.best_epoch,
        "training_seconds": epoch_seconds,
        "resumed_after_epoch": o.resumed_from,
        "sets": sets,
        "report_set": r.report_set,
        "scores": r.scores,
        "confusion_matrix": r.confusion,
        "objective_set": r.objective_set,
        "objective": r.objective,
    })
}

fn report_md(o: &Outcome, dir: &Path, figures: &[(String, &str)]) -> String {
    let c = &o.config.config;
    let h = &o.history;
    let res = &o.results;
    let mut r = String::new();
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let _ = writeln!(r, "# dlkit run {name}\n");
    let _ = writeln!(
        r,
        "Config: `{}` (as used: [config.toml](config.toml)). Model: [model/](model/model.json).\n",
        o.config.name
    );

    let _ = writeln!(r, "## Data\n");
    let _ = writeln!(r, "Format `{}`.\n", c.data.format.name());
    let _ = writeln!(r, "| set | examples | example shape |\n|---|---:|---|");
    for (n, d) in o.splits.named() {
        let _ = writeln!(
            r,
            "| {} | {} | {:?} |",
            set_title(n),
            d.len(),
            d.feature_shape()
        );
    }
    let _ = writeln!(r, "\nClasses: {}.\n", o.class_names.join(", "));
    let p = &c.preprocess;
    let _ = writeln!(
        r,
        "Preprocessing (fitted on the training set): scale {}, standardize {}, flatten {}; \
         model inputs {:?}.\n",
        p.scale.map_or("none".to_string(), |s| format!("1/{s}")),
        compact(&p.standardize),
        p.flatten,
        o.input_shape
    );

    let _ = writeln!(r, "## Model\n");
    let _ = writeln!(
        r,
        "dtype {}, init {}, seed {}, {} parameters.\n",
        c.model.dtype.dtype(),
        compact_init(&c.model.init),
        c.model.seed,
        o.parameters
    );
    let _ = writeln!(r, "| # | layer -> output shape |\n|---:|---|");
    let _ = writeln!(r, "| | input {:?} |", o.input_shape);
    for (i, l) in o.layers.iter().enumerate() {
        let _ = writeln!(r, "| {i} | {l} |");
    }

    let _ = writeln!(r, "\n## Training\n");
    let t = &c.train;
    let batch = t
        .batch_size
        .map_or("the whole training set".to_string(), |b| b.to_string());
    let epoch_seconds: f64 = h.epochs.iter().map(|e| e.seconds).sum();
    let _ = writeln!(r, "| setting | value |\n|---|---|");
    let rows = [
        ("epochs", format!("{} (ran {})", t.epochs, h.epochs.len())),
        ("batch size", batch),
        ("loss", o.loss.name().to_string()),
        ("optimizer", compact(&c.optimizer)),
        ("schedule", compact(&t.schedule)),
        (
            "regularization",
            match (t.l2, t.l1) {
                (Some(l), _) => format!("L2, lambda {l}"),
                (_, Some(l)) => format!("L1, lambda {l}"),
                _ => "none".to_string(),
            },
        ),
        (
            "early stopping",
            t.early_stopping.as_ref().map_or("off".to_string(), compact),
        ),
        ("seed", t.seed.to_string()),
        ("training time", format!("{epoch_seconds:.2} s")),
    ];
    for (k, v) in rows {
        let _ = writeln!(r, "| {k} | {} |", v.replace('|', "\\|"));
    }
    if let Some(e) = o.resumed_from {
        let _ = writeln!(r, "\nResumed from the checkpoint written after epoch {e}.");
    }
    if h.stopped_early {
        let _ = writeln!(
            r,
            "\nStopped early; the weights of epoch {} were kept.",
            h.best_epoch.map_or(0, |b| b + 1)
        );
    }

    let _ = writeln!(r, "\n## Results\n");
    let _ = writeln!(
        r,
        "| set | examples | cost | accuracy | error |\n|---|---:|---:|---:|---:|"
    );
    for s in &res.sets {
        let _ = writeln!(
            r,
            "| {} | {} | {:.4} | {:.4} | {:.2}% |",
            set_title(s.name),
            s.examples,
            s.eval.cost,
            s.accuracy(),
            100.0 * (1.0 - s.accuracy())
        );
    }
    let sc = &res.scores;
    let _ = writeln!(
        r,
        "\nOn the {} set: precision {:.4}, recall {:.4}, F1 {:.4} ({}).\n",
        set_title(res.report_set),
        sc.precision,
        sc.recall,
        sc.f1,
        match sc.average {
            crate::metrics::Average::Binary { positive } =>
                format!("class {} as positive", res.confusion.class_label(positive)),
            crate::metrics::Average::Macro => "macro average".to_string(),
        }
    );
    for n in &sc.notes {
        let _ = writeln!(r, "- {n}");
    }
    let _ = writeln!(r, "```text\n{}\n```\n", res.confusion);

    let _ = writeln!(r, "## Optimizing and satisficing metrics\n");
    let _ = writeln!(r, "Measured on the {} set.\n", set_title(res.objective_set));
    let _ = writeln!(r, "```text\n{}\n```\n", res.objective);

    let _ = writeln!(r, "## Diagnosis\n");
    let _ = writeln!(r, "```text\n{}```\n", res.diagnosis);

    let _ = writeln!(r, "## Figures\n");
    for (title, stem) in figures {
        let _ = writeln!(r, "### {title}\n\n![{title}]({stem}.png)\n\n[{stem}.png]({stem}.png), [{stem}.svg]({stem}.svg)\n");
    }
    let _ = writeln!(
        r,
        "Per-epoch figures: [metrics.csv](metrics.csv); cost per iteration: \
         [iterations.csv](iterations.csv); diagnosis: [diagnosis.json](diagnosis.json); all \
         results: [results.json](results.json)."
    );
    r
}

/// A new run folder `<runs>/<UTC time>` (with `-2`, `-3`, ... if taken), created.
pub fn new_run_folder(runs: &Path) -> TrainResult<PathBuf> {
    std::fs::create_dir_all(runs).map_err(|e| TrainError::write(runs, e))?;
    let stamp = utc_stamp();
    for n in 1.. {
        let dir = match n {
            1 => runs.join(&stamp),
            n => runs.join(format!("{stamp}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(TrainError::write(&dir, e)),
        }
    }
    unreachable!("a free run folder name is always found")
}

/// `2026-11-25_08-01-02` (UTC).
fn utc_stamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}_{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_look_like_dates() {
        let s = super::utc_stamp();
        assert_eq!(s.len(), 19, "{s}");
        assert!(s.starts_with("20"), "{s}");
    }
}

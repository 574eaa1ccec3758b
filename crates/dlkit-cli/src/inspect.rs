//! `dlkit eval`, `dlkit predict` and `dlkit diagnose`: using a saved model and a run folder.

use std::path::{Path, PathBuf};

use dlkit_data::{guess_source, load_inputs, load_source};
use dlkit_nn::Loss;
use dlkit_train::diagnose::Diagnosis;
use dlkit_train::predictor::most_probable;
use dlkit_train::{LoadedConfig, Predictor, TrainError};

use crate::error::{CliError, CliResult};

/// `dlkit eval MODEL DATA [--config CONFIG]`.
pub fn eval(model: &Path, data: &Path, config: Option<&Path>) -> CliResult<()> {
    let m = Predictor::load(model)?;
    let raw = match config {
        Some(c) => {
            let mut cfg = LoadedConfig::from_file(c)?;
            // Paths that do not resolve are only a problem for the source actually used.
            let _ = cfg.resolve_data_paths();
            let (format, source) = cfg.config.data.source_for(data)?;
            load_source(Some(&cfg.name), format, "test", &source)?
        }
        None => {
            let (format, source) = guess_source(data)?;
            load_source(None, format, "test", &source)?
        }
    };
    let r = m.evaluate(&raw, &data.display().to_string())?;
    println!("model: {}", m.path.display());
    println!("data: {} ({} examples)", data.display(), r.examples);
    if r.names_differ() {
        println!(
            "note: the data name their classes {:?}, the model {:?}; labels are matched by index",
            r.data_classes, r.model_classes
        );
    }
    println!("accuracy: {:.4} ({}/{})", r.accuracy, r.correct, r.examples);
    println!("cost ({}): {:.6}", r.loss.name(), r.cost);
    let cm = &r.confusion;
    let n_classes = cm.n_classes();
    let which = if n_classes == 2 {
        format!("class \"{}\" as positive", cm.class_label(1))
    } else {
        "macro average".to_string()
    };
    let s = &r.scores;
    println!(
        "precision: {:.4}\nrecall: {:.4}\nF1: {:.4}\n({which})",
        s.precision, s.recall, s.f1
    );
    if n_classes > 2 {
        println!(
            "{:<16}{:>10}{:>10}{:>10}{:>9}",
            "class", "precision", "recall", "F1", "support"
        );
        for k in 0..n_classes {
            let c = cm.class_scores(k);
            println!(
                "{:<16}{:>10.4}{:>10.4}{:>10.4}{:>9}",
                cm.class_label(k),
                c.precision,
                c.recall,
                c.f1,
                c.support
            );
        }
    }
    for n in &s.notes {
        println!("note: {n}");
    }
    println!("{cm}");
    Ok(())
}

/// `dlkit predict MODEL INPUT [--x NAME]`.
pub fn predict(model: &Path, input: &Path, x_name: Option<&str>) -> CliResult<()> {
    let m = Predictor::load(model)?;
    let inputs = load_inputs(input, &m.raw_input_shape(), x_name)?;
    let probs = m.predict(&inputs.x, &input.display().to_string())?;
    let loss = m.loss();
    let classes = m.class_names();
    println!("model: {}", m.path.display());
    println!(
        "input: {} ({} examples)",
        input.display(),
        inputs.names.len()
    );
    if loss == Loss::MeanSquaredError {
        println!("{:<24} prediction", "example");
        for (name, row) in inputs.names.iter().zip(&probs) {
            println!("{name:<24} {row:?}");
        }
        return Ok(());
    }
    let width = inputs
        .names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let class_width = classes
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let all = classes.len() <= 10;
    print!(
        "{:<width$}  {:<class_width$}  probability",
        "example", "class"
    );
    if all {
        print!("  (all classes: {})", classes.join(", "));
    }
    println!();
    for (name, row) in inputs.names.iter().zip(&probs) {
        let (k, p) = most_probable(row);
        let class = classes.get(k).cloned().unwrap_or_else(|| k.to_string());
        print!("{name:<width$}  {class:<class_width$}  {p:.4}");
        if all {
            let shown: Vec<String> = row.iter().map(|p| format!("{p:.4}")).collect();
            print!("       [{}]", shown.join(", "));
        }
        println!();
    }
    Ok(())
}

/// `dlkit diagnose RUN`: the diagnosis a run saved, printed again.
pub fn diagnose(run: &Path) -> CliResult<()> {
    let path: PathBuf = if run.is_file() {
        run.to_path_buf()
    } else {
        run.join("diagnosis.json")
    };
    if !path.is_file() {
        return Err(CliError::input(format!(
            "{}: not a run folder: {} not found (`dlkit train` writes it)",
            run.display(),
            path.display()
        )));
    }
    let text = std::fs::read(&path).map_err(|e| TrainError::read(&path, e))?;
    let d: Diagnosis = serde_json::from_slice(&text).map_err(|e| {
        CliError::input(format!(
            "{}: not a diagnosis written by dlkit: {e}",
            path.display()
        ))
    })?;
    let results = path.with_file_name("results.json");
    if let Ok(bytes) = std::fs::read(&results) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let Some(sets) = v.get("sets").and_then(|s| s.as_object()) {
                for (name, s) in sets {
                    let acc = s.get("accuracy").and_then(|a| a.as_f64());
                    let m = s.get("examples").and_then(|a| a.as_u64()).unwrap_or(0);
                    if let Some(a) = acc {
                        println!("{name} accuracy: {a:.4} ({m} examples)");
                    }
                }
                println!();
            }
        }
    }
    print!("{d}");
    Ok(())
}

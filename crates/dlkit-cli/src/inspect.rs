//! `dlkit eval`, `dlkit predict` and `dlkit diagnose`: using a saved model and a run folder.

use std::path::{Path, PathBuf};

use dlkit_core::no_grad;
use dlkit_data::Dataset;
use dlkit_nn::Loss;
use dlkit_train::diagnose::Diagnosis;
use dlkit_train::evaluate;
use dlkit_train::metrics::{Average, ConfusionMatrix};

use crate::config::{DataFormat, LoadedConfig, Source};
use crate::data::{guess_source, load_inputs, load_source};
use crate::error::{read_error, CliError, CliResult};
use crate::model::{probabilities, LoadedModel};

/// `dlkit eval MODEL DATA [--config CONFIG]`.
pub fn eval(model: &Path, data: &Path, config: Option<&Path>) -> CliResult<()> {
    let m = LoadedModel::load(model)?;
    let (name, format, source) = match config {
        Some(c) => {
            let (name, format, source) = source_from_config(c, data)?;
            (Some(name), format, source)
        }
        None => {
            let (format, source) = guess_source(data)?;
            (None, format, source)
        }
    };
    let raw = load_source(name.as_deref(), format, "test", &source)?;
    let model_classes = m.class_names();
    let data_classes = raw
        .y
        .class_names()
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let truth = raw
        .y
        .class_indices()
        .map(<[usize]>::to_vec)
        .unwrap_or_default();
    let n_classes = model_classes.len().max(2);
    if let Some((i, &k)) = truth.iter().enumerate().find(|(_, &k)| k >= n_classes) {
        return Err(CliError::input(format!(
            "{}: example {i} has class {k} ({}) but the model knows {n_classes} classes ({})",
            data.display(),
            data_classes.get(k).map_or("?", String::as_str),
            model_classes.join(", ")
        )));
    }
    let x = m.prepare(&raw.x, &data.display().to_string())?;
    let d = Dataset::classification(x, truth.clone(), padded(&model_classes, n_classes))?;
    let loss = m.loss();
    let ev = evaluate(&m.model, &d, loss)?;
    let correct = truth
        .iter()
        .zip(&ev.predictions)
        .filter(|(t, p)| t == p)
        .count();
    println!("model: {}", m.path.display());
    println!("data: {} ({} examples)", data.display(), d.len());
    if !data_classes.is_empty()
        && data_classes.len() <= model_classes.len()
        && !model_classes.starts_with(&data_classes)
    {
        println!(
            "note: the data name their classes {data_classes:?}, the model {model_classes:?}; \
             labels are matched by index"
        );
    }
    println!(
        "accuracy: {:.4} ({correct}/{})",
        ev.accuracy.unwrap_or(f64::NAN),
        d.len()
    );
    println!("cost ({}): {:.6}", loss.name(), ev.cost);
    let cm = ConfusionMatrix::new(&truth, &ev.predictions, n_classes)?
        .with_class_names(padded(&model_classes, n_classes))?;
    let (average, which) = if n_classes == 2 {
        (
            Average::Binary { positive: 1 },
            format!("class \"{}\" as positive", cm.class_label(1)),
        )
    } else {
        (Average::Macro, "macro average".to_string())
    };
    let s = cm.scores(average);
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

fn padded(names: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|k| names.get(k).cloned().unwrap_or_else(|| k.to_string()))
        .collect()
}

/// The `[data]` options of a config for reading `data`: those of the source with that path,
/// else of its test, dev or train source, with the path replaced.
fn source_from_config(config: &Path, data: &Path) -> CliResult<(String, DataFormat, Source)> {
    let mut cfg = LoadedConfig::from_file(config)?;
    let target = data.canonicalize().map_err(|e| read_error(data, e))?;
    // Paths that do not resolve are only a problem for the source actually used.
    let _ = cfg.resolve_data_paths();
    let d = &cfg.config.data;
    let sources: Vec<&Source> = [d.test.as_ref(), d.dev.as_ref()]
        .into_iter()
        .flatten()
        .chain(&d.train.0)
        .collect();
    let same = sources
        .iter()
        .find(|s| s.path.canonicalize().ok().as_ref() == Some(&target));
    let mut source = (*same.unwrap_or(&sources[0])).clone();
    if same.is_none() {
        source.path = target;
        source.labels = None;
    }
    let format = source.format_in(d);
    Ok((cfg.name.clone(), format, source))
}

/// `dlkit predict MODEL INPUT [--x NAME]`.
pub fn predict(model: &Path, input: &Path, x_name: Option<&str>) -> CliResult<()> {
    let m = LoadedModel::load(model)?;
    let raw_shape = m.raw_input_shape();
    let inputs = load_inputs(input, &raw_shape, x_name)?;
    let x = m.prepare(&inputs.x, &input.display().to_string())?;
    let loss = m.loss();
    let logits = no_grad(|| m.model.forward_logits(&x))?;
    let probs = probabilities(&logits, loss);
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
        let (k, p) = row
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (k, &p)| {
                if p > best.1 {
                    (k, p)
                } else {
                    best
                }
            });
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
    let text = std::fs::read(&path).map_err(|e| read_error(&path, e))?;
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

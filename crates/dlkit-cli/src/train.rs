//! `dlkit train`: config in; model, metrics, plots, report and diagnosis out, in one run folder.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use dlkit_core::{no_grad, Tensor};
use dlkit_data::Dataset;
use dlkit_nn::{BuildContext, Loss, Module, Regularizer, Sequential};
use dlkit_train::diagnose::{diagnose_with_tolerance, Diagnosis, ErrorRates, DEFAULT_TOLERANCE};
use dlkit_train::evaluate::classes_from_logits;
use dlkit_train::metrics::{Average, ConfusionMatrix, Metric, MetricValues, Objective, Scores};
use dlkit_train::{evaluate, fit, Evaluation, History, TrainSettings};

use crate::config::LoadedConfig;
use crate::data::{self, Splits};
use crate::error::{write_error, CliResult};
use crate::model::{default_loss, describe_layers, parameter_count, CliMetadata};
use crate::report;

/// The arguments of `dlkit train`.
pub struct TrainArgs {
    pub config: Option<PathBuf>,
    pub run_dir: Option<PathBuf>,
    pub resume: bool,
    pub quiet: bool,
    /// Replaces `[model] seed` and `[train] seed`.
    pub seed: Option<u64>,
}

/// One set's figures after training.
pub struct SetResult {
    pub name: &'static str,
    pub examples: usize,
    pub eval: Evaluation,
    /// Labels, for the confusion matrix.
    pub truth: Vec<usize>,
}

impl SetResult {
    pub fn accuracy(&self) -> f64 {
        self.eval.accuracy.unwrap_or(f64::NAN)
    }

    pub fn correct(&self) -> usize {
        self.truth
            .iter()
            .zip(&self.eval.predictions)
            .filter(|(t, p)| t == p)
            .count()
    }
}

/// Everything a run produced, for the files of the run folder.
pub struct RunOutcome<'a> {
    pub cfg: &'a LoadedConfig,
    /// The trained model's classes for raw inputs `[m, ...]` (preprocessed as in training),
    /// for decision-boundary plots.
    pub classify: &'a dyn Fn(&Tensor) -> CliResult<Vec<usize>>,
    pub run_dir: &'a Path,
    pub history: &'a History,
    pub splits: &'a Splits,
    pub class_names: Vec<String>,
    pub raw_shape: Vec<usize>,
    pub input_shape: Vec<usize>,
    pub layers: Vec<String>,
    pub parameters: usize,
    pub loss: Loss,
    pub sets: Vec<SetResult>,
    /// The set the confusion matrix and precision/recall/F1 are of (test, else dev, else train).
    pub report_set: &'static str,
    pub confusion: ConfusionMatrix,
    pub scores: Scores,
    /// The set the optimizing and satisficing metrics are measured on (dev, else test, else
    /// train).
    pub objective_set: &'static str,
    pub objective: dlkit_train::metrics::Evaluation,
    pub diagnosis: Diagnosis,
    pub wall_seconds: f64,
    pub resumed_from: Option<usize>,
    /// Mini-batch steps per epoch.
    pub iterations_per_epoch: usize,
}

pub fn train(args: &TrainArgs) -> CliResult<()> {
    let mut cfg = load_config(args)?;
    if let Some(seed) = args.seed {
        cfg.config.model.seed = seed;
        cfg.config.train.seed = seed;
    }
    cfg.resolve_data_paths()?;
    check_settings(&cfg)?;
    let c = cfg.config.clone();

    // Data, preprocessing fitted on the training set only, the model's dtype.
    let splits = data::load_splits(&cfg)?;
    let fitted = c
        .preprocess
        .fit(&splits.train.x)
        .map_err(|e| cfg.error("[preprocess]", e))?;
    let dtype = c.model.dtype.dtype();
    let prepared = splits.map(|d| {
        let x = fitted
            .apply(&d.x)
            .map_err(|e| cfg.error("[preprocess]", e))?;
        Ok(d.with_x(x.to_dtype(dtype))?)
    })?;
    let raw_shape = splits.train.feature_shape().to_vec();
    let input_shape = prepared.train.feature_shape().to_vec();
    let class_names = splits.class_names();

    // The model, checked against the data before anything is written.
    if c.model.layers.is_empty() {
        return Err(cfg.error("[model] layers", "no layers given"));
    }
    let mut ctx = BuildContext::with_init_rng(dtype, c.model.seed, c.model.init.0, c.model.rng)
        .map_err(|e| cfg.error("[model] seed", e))?;
    let (mut model, out_shape) = Sequential::build(&c.model.layers, &mut ctx, &input_shape)
        .map_err(|e| {
            cfg.error(
                "[model] layers",
                format!(
                    "{e} (the data's examples have shape {input_shape:?}{})",
                    if input_shape != raw_shape {
                        format!(" after [preprocess], {raw_shape:?} before")
                    } else {
                        String::new()
                    }
                ),
            )
        })?;
    let loss = check_output(&cfg, &out_shape, class_names.len())?;
    if let Some(a) = c.augment.as_ref().filter(|a| !a.is_identity()) {
        a.validate().map_err(|e| cfg.error("[augment]", e))?;
        if input_shape.len() != 3 {
            return Err(cfg.error(
                "[augment]",
                format!(
                    "augmentation needs image inputs [h, w, c], but the model's inputs have shape \
                     {input_shape:?}: leave `flatten` out of [preprocess] and begin [model] \
                     layers with {{ type = \"flatten\" }} instead"
                ),
            ));
        }
    }
    if c.train.early_stopping.is_some() && prepared.dev.is_none() {
        return Err(cfg.error(
            "[train] early_stopping",
            "needs a dev set: give [data] dev or a split with dev > 0",
        ));
    }
    let mut optimizer = c
        .optimizer
        .build(model.parameters())
        .map_err(|e| cfg.error("[optimizer]", e))?;

    // The run folder, with the config as used.
    let run_dir = run_folder(args)?;
    if !args.resume {
        for stale in ["checkpoint", "checkpoint.old", "checkpoint.tmp"] {
            let _ = std::fs::remove_dir_all(run_dir.join(stale));
        }
    }
    let resumed_from = if args.resume {
        read_checkpoint_epoch(&run_dir)
    } else {
        None
    };
    let header = format!(
        "# dlkit config as used by the run in this folder (from {}; data paths resolved)\n\n",
        cfg.name
    );
    report::write(
        &run_dir.join("config.toml"),
        (header + &c.to_toml()?).as_bytes(),
    )?;

    let quiet = args.quiet;
    let say = |line: String| {
        if !quiet {
            println!("{line}");
        }
    };
    say(format!("config: {}", cfg.name));
    for (name, d) in splits.named() {
        say(format!(
            "{name:<9} {:>6} examples of shape {:?}",
            d.len(),
            d.feature_shape()
        ));
    }
    say(format!("classes: {}", class_names.join(", ")));
    let layers = describe_layers(&c.model.layers, &input_shape);
    say(format!(
        "model: input {:?} -> {}; {} parameters ({})",
        input_shape,
        layers.join(" -> "),
        parameter_count(&model),
        dtype
    ));
    let batch = c.train.batch_size.unwrap_or(prepared.train.len());
    say(format!(
        "training: {} epochs, batch size {}{}, {} (lr {}), loss {}",
        c.train.epochs,
        batch,
        if batch >= prepared.train.len() {
            " (full batch)"
        } else {
            ""
        },
        c.optimizer.name(),
        c.optimizer.lr(),
        loss.name()
    ));
    match resumed_from {
        Some(e) => say(format!("resuming from the checkpoint after epoch {e}")),
        None if args.resume => eprintln!(
            "note: no checkpoint in {}: training starts from epoch 0",
            run_dir.display()
        ),
        None => {}
    }
    say(format!("run folder: {}", run_dir.display()));

    // Training.
    let settings = TrainSettings {
        batch_size: c.train.batch_size,
        seed: c.train.seed,
        regularizer: regularizer(&cfg)?,
        schedule: c.train.schedule.clone(),
        augment: c.augment.clone().filter(|a| !a.is_identity()),
        record_every: c.train.record_every,
        early_stopping: c.train.early_stopping.clone(),
        checkpoint_every: c.train.checkpoint_every,
        run_dir: Some(run_dir.clone()),
        progress: !quiet,
        ..TrainSettings::new(c.train.epochs, loss)
    };
    let started = Instant::now();
    let history = fit(
        &mut model,
        &mut *optimizer,
        &prepared.train,
        prepared.dev.as_ref(),
        &settings,
        args.resume,
    )?;
    let wall_seconds = started.elapsed().as_secs_f64();
    if !quiet {
        print_costs(&history);
    }

    // Results.
    let mut sets = Vec::new();
    for (name, d) in prepared.named() {
        sets.push(SetResult {
            name,
            examples: d.len(),
            eval: evaluate(&model, d, loss)?,
            truth: d
                .y
                .class_indices()
                .map(<[usize]>::to_vec)
                .unwrap_or_default(),
        });
    }
    let pick = |order: [&'static str; 3]| {
        order
            .into_iter()
            .find(|n| sets.iter().any(|s| s.name == *n))
            .unwrap_or("train")
    };
    let report_set = pick(["test", "dev", "train"]);
    let objective_set = pick(["dev", "test", "train"]);
    let n_classes = class_names.len().max(2);
    let average = if n_classes == 2 {
        Average::Binary {
            positive: c.metrics.positive_class.unwrap_or(1),
        }
    } else {
        Average::Macro
    };
    let rs = sets.iter().find(|s| s.name == report_set).expect("present");
    let confusion = ConfusionMatrix::new(&rs.truth, &rs.eval.predictions, n_classes)?
        .with_class_names(padded_names(&class_names, n_classes))?;
    let scores = confusion.scores(average);

    let os = sets
        .iter()
        .find(|s| s.name == objective_set)
        .expect("present");
    let os_data = prepared
        .named()
        .into_iter()
        .find(|(n, _)| *n == objective_set)
        .map(|(_, d)| d)
        .expect("present");
    let values = metric_values(&model, os_data, os, n_classes, average, loss)?;
    let objective =
        Objective::new(c.metrics.optimizing, c.metrics.satisficing.clone()).evaluate(&values);
    let diagnosis = run_diagnosis(&cfg, &sets)?;

    // The model, with what eval and predict need to treat inputs the same way.
    let meta = CliMetadata {
        preprocessing: Some(fitted.clone()),
        raw_input_shape: Some(raw_shape.clone()),
        loss: Some(loss),
        data_format: Some(c.data.format.name().to_string()),
    };
    dlkit_nn::io::save_with(
        &model,
        &input_shape,
        &meta.to_model_metadata(&class_names),
        run_dir.join("model"),
    )
    .map_err(|e| write_error(&run_dir.join("model"), e))?;

    let raw_dtype = splits.train.x.dtype();
    let classify = |raw: &Tensor| -> CliResult<Vec<usize>> {
        let x = fitted
            .apply(&raw.to_dtype(raw_dtype))
            .map_err(|e| cfg.error("[preprocess]", e))?
            .to_dtype(dtype);
        let logits = no_grad(|| model.forward_logits(&x))?;
        Ok(classes_from_logits(&logits))
    };
    let outcome = RunOutcome {
        cfg: &cfg,
        classify: &classify,
        run_dir: &run_dir,
        history: &history,
        splits: &splits,
        class_names,
        raw_shape,
        input_shape,
        layers,
        parameters: parameter_count(&model),
        loss,
        sets,
        report_set,
        confusion,
        scores,
        objective_set,
        objective,
        diagnosis,
        wall_seconds,
        resumed_from,
        iterations_per_epoch: prepared.train.len().div_ceil(batch.max(1)),
    };
    report::write_run(&outcome)?;
    print_summary(&outcome);
    Ok(())
}

/// The config named on the command line; with `--resume` and none, the run folder's own
/// `config.toml`; otherwise the built-in default.
fn load_config(args: &TrainArgs) -> CliResult<LoadedConfig> {
    if let Some(path) = &args.config {
        return LoadedConfig::from_file(path);
    }
    if let (true, Some(dir)) = (args.resume, &args.run_dir) {
        let saved = dir.join("config.toml");
        if saved.is_file() {
            return LoadedConfig::from_file(&saved);
        }
    }
    LoadedConfig::default_config()
}

/// Ranges that serde cannot check, each error naming its field.
fn check_settings(cfg: &LoadedConfig) -> CliResult<()> {
    let c = &cfg.config;
    if c.train.epochs == 0 {
        return Err(cfg.error("[train] epochs", "must be at least 1"));
    }
    if c.train.batch_size == Some(0) {
        return Err(cfg.error(
            "[train] batch_size",
            "must be at least 1 (leave it out for full-batch gradient descent)",
        ));
    }
    if c.train.record_every == 0 {
        return Err(cfg.error("[train] record_every", "must be at least 1"));
    }
    if c.train.checkpoint_every == Some(0) {
        return Err(cfg.error(
            "[train] checkpoint_every",
            "must be at least 1 (leave it out for no checkpoints)",
        ));
    }
    c.train
        .schedule
        .validate()
        .map_err(|e| cfg.error("[train] schedule", e))?;
    c.optimizer
        .validate()
        .map_err(|e| cfg.error("[optimizer]", e))?;
    c.preprocess
        .validate()
        .map_err(|e| cfg.error("[preprocess]", e))?;
    regularizer(cfg)?;
    if let Some(h) = c.metrics.human_level_error {
        if !(0.0..=1.0).contains(&h) {
            return Err(cfg.error(
                "[metrics] human_level_error",
                format!("{h} is not a fraction in [0, 1] (0.01 for 1%)"),
            ));
        }
    }
    if let Some(t) = c.metrics.tolerance {
        if !(t.is_finite() && t >= 0.0) {
            return Err(cfg.error(
                "[metrics] tolerance",
                format!("{t} must be a fraction >= 0"),
            ));
        }
    }
    Ok(())
}

fn regularizer(cfg: &LoadedConfig) -> CliResult<Option<Regularizer>> {
    let t = &cfg.config.train;
    let check = |field: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(cfg.error(field, format!("{v} must be a finite number >= 0")))
        }
    };
    match (t.l2, t.l1) {
        (Some(_), Some(_)) => Err(cfg.error(
            "[train]",
            "give either l2 or l1, not both (one penalty per run)",
        )),
        (Some(l), None) => check("[train] l2", l).map(|_| Some(Regularizer::l2(l))),
        (None, Some(l)) => check("[train] l1", l).map(|_| Some(Regularizer::l1(l))),
        (None, None) => Ok(None),
    }
}

/// The loss, checked against the model's output and the number of classes.
fn check_output(cfg: &LoadedConfig, out: &[usize], n_classes: usize) -> CliResult<Loss> {
    let layers = &cfg.config.model.layers;
    let last = layers.len() - 1;
    let last_name = format!("the last layer (layer {last}, {})", layers[last].kind());
    let loss = cfg
        .config
        .train
        .loss
        .unwrap_or_else(|| default_loss(layers.last(), out));
    let problem = match (loss, out) {
        (_, [_, _, ..]) => Some(format!(
            "{last_name} outputs {out:?} per example; a classifier needs a flat output: add \
             {{ type = \"flatten\" }} and a dense layer"
        )),
        (Loss::BinaryCrossEntropy, [1]) if n_classes <= 2 => None,
        (Loss::BinaryCrossEntropy, [1]) => Some(format!(
            "binary_cross_entropy is for two classes but the data have {n_classes}: end with \
             {{ type = \"dense\", units = {n_classes} }}, {{ type = \"softmax\" }} and use \
             softmax_cross_entropy"
        )),
        (Loss::BinaryCrossEntropy, _) => Some(format!(
            "binary_cross_entropy needs one output unit, but {last_name} gives {out:?}"
        )),
        (Loss::SoftmaxCrossEntropy, [k]) if *k == n_classes && *k >= 2 => None,
        (Loss::SoftmaxCrossEntropy, _) => Some(format!(
            "softmax_cross_entropy needs one output unit per class ({n_classes}), but \
             {last_name} gives {out:?}"
        )),
        (Loss::MeanSquaredError, _) => Some(
            "mean_squared_error needs real-valued targets, but the data have class labels: use \
             binary_cross_entropy or softmax_cross_entropy"
                .to_string(),
        ),
    };
    match problem {
        Some(p) => Err(cfg.error("[train] loss", p)),
        None => Ok(loss),
    }
}

/// `--run-dir`, or a new `runs/<UTC time>` (with `-2`, `-3`, ... if taken).
fn run_folder(args: &TrainArgs) -> CliResult<PathBuf> {
    if let Some(dir) = &args.run_dir {
        std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        return Ok(dir.clone());
    }
    let runs = Path::new("runs");
    std::fs::create_dir_all(runs).map_err(|e| write_error(runs, e))?;
    let stamp = utc_stamp();
    for n in 1.. {
        let dir = match n {
            1 => runs.join(&stamp),
            n => runs.join(format!("{stamp}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(write_error(&dir, e)),
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

/// The epoch after which the run folder's checkpoint was written, if there is one.
fn read_checkpoint_epoch(dir: &Path) -> Option<usize> {
    let ckpt = dlkit_train::checkpoint::find(dir)?;
    let text = std::fs::read(ckpt.join("state.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("epochs_done")?
        .as_u64()?
        .checked_sub(1)
        .map(|e| e as usize)
}

/// Class names padded with numbers up to `n`.
fn padded_names(names: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|k| names.get(k).cloned().unwrap_or_else(|| k.to_string()))
        .collect()
}

/// The metrics an objective can name, measured on one set.
fn metric_values(
    model: &Sequential,
    data: &Dataset,
    set: &SetResult,
    n_classes: usize,
    average: Average,
    loss: Loss,
) -> CliResult<MetricValues> {
    let scores =
        ConfusionMatrix::new(&set.truth, &set.eval.predictions, n_classes)?.scores(average);
    let started = Instant::now();
    evaluate(model, data, loss)?;
    let ms = started.elapsed().as_secs_f64() * 1e3 / data.len().max(1) as f64;
    let mut v = MetricValues::new();
    v.insert(Metric::Accuracy, set.accuracy());
    v.insert(Metric::Error, 1.0 - set.accuracy());
    v.insert(Metric::Precision, scores.precision);
    v.insert(Metric::Recall, scores.recall);
    v.insert(Metric::F1, scores.f1);
    v.insert(Metric::Cost, set.eval.cost);
    v.insert(Metric::InferenceMsPerExample, ms);
    v.insert(Metric::ParameterCount, parameter_count(model) as f64);
    Ok(v)
}

/// The course's diagnosis from the errors of each set; without a dev set the test set stands
/// in for it (and the note says so).
fn run_diagnosis(cfg: &LoadedConfig, sets: &[SetResult]) -> CliResult<Diagnosis> {
    let err = |name: &str| {
        sets.iter()
            .find(|s| s.name == name)
            .map(|s| 1.0 - s.accuracy())
    };
    let train = err("train").unwrap_or(0.0);
    let (dev, stand_in) = match (err("dev"), err("test")) {
        (Some(d), _) => (d, None),
        (None, Some(t)) => (t, Some("test")),
        (None, None) => (train, Some("train")),
    };
    let mut rates = ErrorRates::new(train, dev);
    if let Some(td) = err("train_dev") {
        rates = rates.with_train_dev(td);
    }
    if let (None, Some(t)) = (stand_in, err("test")) {
        rates = rates.with_test(t);
    }
    if let Some(h) = cfg.config.metrics.human_level_error {
        rates = rates.with_human(h);
    }
    let tolerance = cfg.config.metrics.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    let mut d =
        diagnose_with_tolerance(&rates, tolerance).map_err(|e| cfg.error("[metrics]", e))?;
    match stand_in {
        Some("test") => d.notes.insert(
            0,
            "no dev set: the test error stands in for the dev error (give [data] dev or a split \
             with dev > 0 to keep the test set for the final estimate)"
                .into(),
        ),
        Some(_) => d.notes.insert(
            0,
            "no dev or test set: only the training error is known".into(),
        ),
        None => {}
    }
    Ok(d)
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

fn print_summary(o: &RunOutcome) {
    let h = o.history;
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
    for s in &o.sets {
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
    let sc = &o.scores;
    let which = match sc.average {
        Average::Binary { positive } => format!(
            "class \"{}\" as positive",
            o.confusion
                .class_label(positive.min(o.confusion.n_classes() - 1))
        ),
        Average::Macro => "macro average".to_string(),
    };
    println!(
        "{} set: precision {:.4}, recall {:.4}, F1 {:.4} ({which})",
        o.report_set, sc.precision, sc.recall, sc.f1
    );
    println!("{}", o.confusion);
    println!("Objective on the {} set: {}", o.objective_set, o.objective);
    println!();
    println!("Diagnosis:");
    print!("{}", o.diagnosis);
    println!();
    println!("Run folder: {}", o.run_dir.display());
}

/// Used by the report: the dataset's label in words.
pub fn set_title(name: &str) -> &'static str {
    match name {
        "train" => "train",
        "train_dev" => "train-dev",
        "dev" => "dev",
        "test" => "test",
        _ => "other",
    }
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

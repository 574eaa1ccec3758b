//! What an experiment produced: the trained model with its fitted preprocessing, the
//! history, and the figures of every set (accuracy, cost, confusion matrix, scores, the
//! optimizing/satisficing objective and the bias/variance diagnosis).

use std::path::PathBuf;
use std::time::Instant;

use dlkit_core::{no_grad, Tensor};
use dlkit_data::{Dataset, FittedPreprocessing, Splits};
use dlkit_nn::{parameter_count, Loss, Sequential};

use crate::config::LoadedConfig;
use crate::diagnose::{diagnose_with_tolerance, Diagnosis, ErrorRates, DEFAULT_TOLERANCE};
use crate::error::TrainResult;
use crate::evaluate::classes_from_logits;
use crate::metrics::{self, Average, ConfusionMatrix, Metric, MetricValues, Objective, Scores};
use crate::predictor::TrainingMetadata;
use crate::{evaluate, Evaluation, History};

/// One set's figures after training.
#[derive(Clone, Debug)]
pub struct SetResult {
    /// `"train"`, `"train_dev"`, `"dev"` or `"test"`.
    pub name: &'static str,
    pub examples: usize,
    pub eval: Evaluation,
    /// Labels, for the confusion matrix.
    pub truth: Vec<usize>,
}

impl SetResult {
    /// The fraction of examples classified right (NaN without class labels).
    pub fn accuracy(&self) -> f64 {
        self.eval.accuracy.unwrap_or(f64::NAN)
    }

    /// The number of examples classified right.
    pub fn correct(&self) -> usize {
        self.truth
            .iter()
            .zip(&self.eval.predictions)
            .filter(|(t, p)| t == p)
            .count()
    }
}

/// The figures of a trained model on every set.
#[derive(Clone, Debug)]
pub struct Results {
    /// Every set present, in the order train, train-dev, dev, test.
    pub sets: Vec<SetResult>,
    /// The set the confusion matrix and precision/recall/F1 are of (test, else dev, else train).
    pub report_set: &'static str,
    pub confusion: ConfusionMatrix,
    pub scores: Scores,
    /// The set the optimizing and satisficing metrics are measured on (dev, else test, else
    /// train).
    pub objective_set: &'static str,
    pub objective: metrics::Evaluation,
    pub diagnosis: Diagnosis,
}

/// Everything a run produced, for the files of its run folder and for use in-process.
pub struct Outcome {
    /// The config as used.
    pub config: LoadedConfig,
    pub run_dir: Option<PathBuf>,
    pub history: History,
    /// The sets as read, before preprocessing.
    pub splits: Splits,
    /// The preprocessing fitted on the training set, applied to raw inputs before the model.
    pub preprocessing: FittedPreprocessing,
    /// The trained model.
    pub model: Sequential,
    pub class_names: Vec<String>,
    /// The shape of one example before and after preprocessing.
    pub raw_shape: Vec<usize>,
    pub input_shape: Vec<usize>,
    /// Each layer with its output shape.
    pub layers: Vec<String>,
    pub parameters: usize,
    pub loss: Loss,
    pub results: Results,
    /// Seconds this process spent training.
    pub wall_seconds: f64,
    /// The epoch after which the checkpoint it resumed from was written.
    pub resumed_from: Option<usize>,
    /// Mini-batch steps per epoch.
    pub iterations_per_epoch: usize,
}

impl Outcome {
    /// The figures of set `name` (`"train"`, `"train_dev"`, `"dev"`, `"test"`), if present.
    pub fn set(&self, name: &str) -> Option<&SetResult> {
        self.results.sets.iter().find(|s| s.name == name)
    }

    /// The trained model's classes for raw inputs `[m, ...]`, preprocessed as in training.
    pub fn classify(&self, raw: &Tensor) -> TrainResult<Vec<usize>> {
        let x = self
            .preprocessing
            .apply(&raw.to_dtype(self.splits.train.x.dtype()))
            .map_err(|e| self.config.error("[preprocess]", e))?
            .to_dtype(self.config.config.model.dtype.dtype());
        let logits = no_grad(|| self.model.forward_logits(&x))?;
        Ok(classes_from_logits(&logits))
    }

    /// What is saved with the model so that a [`Predictor`](crate::Predictor) treats inputs
    /// the same way: the fitted preprocessing, the raw example shape, the loss, the format.
    pub fn metadata(&self) -> TrainingMetadata {
        TrainingMetadata {
            preprocessing: Some(self.preprocessing.clone()),
            raw_input_shape: Some(self.raw_shape.clone()),
            loss: Some(self.loss),
            data_format: Some(self.config.config.data.format.name().to_string()),
        }
    }
}

/// Evaluates `model` on every prepared set and derives the report's figures.
pub(crate) fn assess(
    cfg: &LoadedConfig,
    model: &Sequential,
    prepared: &Splits,
    loss: Loss,
) -> TrainResult<Results> {
    let c = &cfg.config;
    let mut sets = Vec::new();
    for (name, d) in prepared.named() {
        sets.push(SetResult {
            name,
            examples: d.len(),
            eval: evaluate(model, d, loss)?,
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
    let class_names = prepared.class_names();
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
    let values = metric_values(model, os_data, os, n_classes, average, loss)?;
    let objective =
        Objective::new(c.metrics.optimizing, c.metrics.satisficing.clone()).evaluate(&values);
    let diagnosis = run_diagnosis(cfg, &sets)?;
    Ok(Results {
        sets,
        report_set,
        confusion,
        scores,
        objective_set,
        objective,
        diagnosis,
    })
}

/// Class names padded with numbers up to `n`.
pub(crate) fn padded_names(names: &[String], n: usize) -> Vec<String> {
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
) -> TrainResult<MetricValues> {
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
fn run_diagnosis(cfg: &LoadedConfig, sets: &[SetResult]) -> TrainResult<Diagnosis> {
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

/// A set's name in words (`"train_dev"` is `"train-dev"`).
pub fn set_title(name: &str) -> &'static str {
    match name {
        "train" => "train",
        "train_dev" => "train-dev",
        "dev" => "dev",
        "test" => "test",
        _ => "other",
    }
}

//! A trained model loaded back for use: the model with what treats raw inputs as training
//! did (the fitted preprocessing, the raw example shape), its class names and its loss,
//! which says how outputs become probabilities (σ for one unit, softmax otherwise).
//!
//! ```no_run
//! use dlkit_train::Predictor;
//!
//! # fn main() -> dlkit_train::TrainResult<()> {
//! let p = Predictor::load("runs/mnist".as_ref())?; // a run folder, a model folder or model.json
//! let inputs = dlkit_data::load_inputs("digit.png".as_ref(), &p.raw_input_shape(), None)?;
//! let classes = p.predict_classes(&inputs.x, "digit.png")?;
//! println!("{}", p.class_names()[classes[0]]);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use dlkit_core::{no_grad, Tensor};
use dlkit_data::{Dataset, FittedPreprocessing};
use dlkit_nn::io::{ModelInfo, ModelMetadata, Normalization};
use dlkit_nn::{default_loss, Loss, Sequential};
use serde::{Deserialize, Serialize};

use crate::error::{TrainError, TrainResult};
use crate::evaluate;
use crate::metrics::{Average, ConfusionMatrix, Scores};
use crate::outcome::padded_names;

/// What training stores beside a model (`metadata.extra` of `model.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainingMetadata {
    /// Applied to raw inputs before the model: scale, standardise, flatten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<FittedPreprocessing>,
    /// The shape of one raw example (before preprocessing), e.g. `[64, 64, 3]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_input_shape: Option<Vec<usize>>,
    /// The loss the model was trained with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
    /// The data format it was trained on (`"h5"`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_format: Option<String>,
}

impl TrainingMetadata {
    /// The full metadata: class names, the normalisation in the library's terms (when the
    /// pipeline standardises), and this struct as `extra`.
    pub fn to_model_metadata(&self, class_names: &[String]) -> ModelMetadata {
        let normalization = self.preprocessing.as_ref().and_then(|p| {
            let s = p.standardizer.as_ref()?;
            // (x / scale - mean) / std = (x - scale * mean) / (scale * std).
            let k = p.config.scale.unwrap_or(1.0);
            Some(Normalization {
                mean: s.mean.iter().map(|&m| k * m as f64).collect(),
                std: s.std.iter().map(|&v| k * v as f64).collect(),
            })
        });
        ModelMetadata {
            class_names: (!class_names.is_empty()).then(|| class_names.to_vec()),
            normalization,
            extra: serde_json::to_value(self).ok(),
        }
    }
}

/// A saved model ready to predict and evaluate.
pub struct Predictor {
    pub model: Sequential,
    pub info: ModelInfo,
    pub meta: TrainingMetadata,
    /// Where it was read from (the folder holding `model.json`).
    pub path: PathBuf,
}

/// A model's figures on a labelled dataset.
#[derive(Clone, Debug)]
pub struct LabelledEvaluation {
    pub examples: usize,
    pub correct: usize,
    /// `correct / examples` (NaN without class labels).
    pub accuracy: f64,
    /// The mean loss (no penalty) and the loss it is of.
    pub cost: f64,
    pub loss: Loss,
    /// Over the model's classes (at least 2), named as the model names them.
    pub confusion: ConfusionMatrix,
    /// Binary with class 1 as positive for two classes, else the macro average.
    pub scores: Scores,
    /// The class names the data give, and the model's.
    pub data_classes: Vec<String>,
    pub model_classes: Vec<String>,
}

impl LabelledEvaluation {
    /// Whether the data name their classes otherwise than the model (labels are then
    /// matched by index).
    pub fn names_differ(&self) -> bool {
        !self.data_classes.is_empty()
            && self.data_classes.len() <= self.model_classes.len()
            && !self.model_classes.starts_with(&self.data_classes)
    }
}

/// Where the model is for a path that names a model folder, a `model.json`, or a run folder
/// (which holds `model/`).
pub fn model_path(path: &Path) -> PathBuf {
    let in_run = path.join(crate::run_writer::MODEL_DIR);
    if in_run.join(dlkit_nn::io::DESCRIPTION_FILE).is_file() {
        in_run
    } else {
        path.to_path_buf()
    }
}

impl Predictor {
    /// Loads a run folder, a model folder or a `model.json`.
    pub fn load(path: &Path) -> TrainResult<Predictor> {
        let path = model_path(path);
        if !path.exists() {
            return Err(TrainError::Input(format!(
                "{}: no such model (give a run folder, a model folder or its model.json)",
                path.display()
            )));
        }
        let (model, info) = dlkit_nn::load(&path)?;
        let meta = match &info.metadata.extra {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_default(),
            None => TrainingMetadata::default(),
        };
        Ok(Predictor {
            model,
            info,
            meta,
            path,
        })
    }

    /// The loss, as stored or as the output suggests.
    pub fn loss(&self) -> Loss {
        self.meta
            .loss
            .unwrap_or_else(|| default_loss(self.info.layers.last(), &self.info.output_shape))
    }

    /// The class names: as stored, or numbers.
    pub fn class_names(&self) -> Vec<String> {
        if let Some(names) = &self.info.metadata.class_names {
            return names.clone();
        }
        let n = match self.info.output_shape.as_slice() {
            [1] => 2,
            [c] => *c,
            _ => 0,
        };
        (0..n).map(|k| k.to_string()).collect()
    }

    /// The shape of one raw example.
    pub fn raw_input_shape(&self) -> Vec<usize> {
        self.meta
            .raw_input_shape
            .clone()
            .unwrap_or_else(|| self.info.input_shape.clone())
    }

    /// Raw inputs `[m, ...]` through the stored preprocessing and into the model's dtype;
    /// `what` names the data in errors.
    pub fn prepare(&self, x: &Tensor, what: &str) -> TrainResult<Tensor> {
        let bad = |e: String| TrainError::Input(format!("{what}: {e}"));
        let x = match (&self.meta.preprocessing, &self.info.metadata.normalization) {
            (Some(p), _) => p.apply(x).map_err(|e| bad(e.to_string()))?,
            (None, Some(n)) => normalize(x, n).map_err(bad)?,
            (None, None) => x.clone(),
        };
        let shape = x.shape().get(1..).unwrap_or(&[]);
        if shape != self.info.input_shape.as_slice() {
            let raw = self.raw_input_shape();
            return Err(TrainError::Input(format!(
                "{what}: examples of shape {:?}{} do not fit the model, which takes {:?}{}",
                shape,
                if self.meta.preprocessing.is_some() {
                    " after the model's preprocessing"
                } else {
                    ""
                },
                self.info.input_shape,
                if raw != self.info.input_shape {
                    format!(" (raw examples of shape {raw:?})")
                } else {
                    String::new()
                }
            )));
        }
        Ok(x.to_dtype(self.info.dtype))
    }

    /// Per example of raw inputs `[m, ...]`, the probability of each class (for
    /// `mean_squared_error`, the outputs themselves); see [`probabilities`].
    pub fn predict(&self, x: &Tensor, what: &str) -> TrainResult<Vec<Vec<f64>>> {
        let x = self.prepare(x, what)?;
        let logits = no_grad(|| self.model.forward_logits(&x))?;
        Ok(probabilities(&logits, self.loss()))
    }

    /// The most probable class of each example (see [`most_probable`]).
    pub fn predict_classes(&self, x: &Tensor, what: &str) -> TrainResult<Vec<usize>> {
        Ok(self
            .predict(x, what)?
            .iter()
            .map(|row| most_probable(row).0)
            .collect())
    }

    /// Accuracy, cost, confusion matrix and scores on a labelled dataset of raw examples
    /// (class indices as the model numbers them); `what` names the data in errors.
    pub fn evaluate(&self, raw: &Dataset, what: &str) -> TrainResult<LabelledEvaluation> {
        let model_classes = self.class_names();
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
            return Err(TrainError::Input(format!(
                "{what}: example {i} has class {k} ({}) but the model knows {n_classes} classes ({})",
                data_classes.get(k).map_or("?", String::as_str),
                model_classes.join(", ")
            )));
        }
        let x = self.prepare(&raw.x, what)?;
        let names = padded_names(&model_classes, n_classes);
        let d = Dataset::classification(x, truth.clone(), names.clone())?;
        let loss = self.loss();
        let ev = evaluate(&self.model, &d, loss)?;
        let correct = truth
            .iter()
            .zip(&ev.predictions)
            .filter(|(t, p)| t == p)
            .count();
        let confusion =
            ConfusionMatrix::new(&truth, &ev.predictions, n_classes)?.with_class_names(names)?;
        let average = if n_classes == 2 {
            Average::Binary { positive: 1 }
        } else {
            Average::Macro
        };
        Ok(LabelledEvaluation {
            examples: d.len(),
            correct,
            accuracy: ev.accuracy.unwrap_or(f64::NAN),
            cost: ev.cost,
            loss,
            scores: confusion.scores(average),
            confusion,
            data_classes,
            model_classes,
        })
    }
}

/// `(x - mean) / std` with one statistic per feature or per channel.
fn normalize(x: &Tensor, n: &Normalization) -> Result<Tensor, String> {
    let len = n.mean.len();
    let values = x.to_vec_f64();
    let per_example: usize = x.shape().get(1..).unwrap_or(&[]).iter().product();
    if len == 0 || n.std.len() != len || (per_example != len && x.shape().last() != Some(&len)) {
        return Err(format!(
            "the model's normalisation has {len} statistics, which do not fit inputs of shape {:?}",
            x.shape()
        ));
    }
    let out: Vec<f64> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v - n.mean[i % len]) / n.std[i % len])
        .collect();
    Ok(Tensor::from_vec(out, x.shape()).to_dtype(x.dtype()))
}

/// Class probabilities from logits `[m, k]`: σ for one unit (two classes: 1 - p and p),
/// softmax otherwise; for `mean_squared_error` the outputs themselves.
pub fn probabilities(logits: &Tensor, loss: Loss) -> Vec<Vec<f64>> {
    let m = logits.shape().first().copied().unwrap_or(0);
    let z = logits.to_vec_f64();
    let k = z.len().checked_div(m).unwrap_or(0);
    z.chunks(k.max(1))
        .map(|row| match (loss, row) {
            (Loss::MeanSquaredError, _) => row.to_vec(),
            (_, [v]) => {
                let p = 1.0 / (1.0 + (-v).exp());
                vec![1.0 - p, p]
            }
            _ => {
                let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter().map(|v| v / s).collect()
            }
        })
        .collect()
}

/// The class of the largest probability and that probability (the first on ties).
pub fn most_probable(row: &[f64]) -> (usize, f64) {
    row.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (k, &p)| {
            if p > best.1 {
                (k, p)
            } else {
                best
            }
        })
}

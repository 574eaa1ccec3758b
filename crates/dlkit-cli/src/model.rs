//! What the CLI stores with a saved model and reads back: the fitted preprocessing, the shape
//! of a raw example, the loss (which says how outputs become probabilities), class names.

use std::path::{Path, PathBuf};

use dlkit_core::{DType, Tensor};
use dlkit_data::FittedPreprocessing;
use dlkit_nn::io::{ModelInfo, ModelMetadata, Normalization};
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Sequential};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

/// The CLI's part of a model's metadata (`metadata.extra` of `model.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CliMetadata {
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

impl CliMetadata {
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

/// A model loaded for `eval` and `predict`.
pub struct LoadedModel {
    pub model: Sequential,
    pub info: ModelInfo,
    pub meta: CliMetadata,
    /// Where it was read from (the folder holding `model.json`).
    pub path: PathBuf,
}

/// Where the model is for a path that names a model folder, a `model.json`, or a run folder
/// (which holds `model/`).
pub fn model_path(path: &Path) -> PathBuf {
    let in_run = path.join("model");
    if in_run.join(dlkit_nn::io::DESCRIPTION_FILE).is_file() {
        in_run
    } else {
        path.to_path_buf()
    }
}

impl LoadedModel {
    pub fn load(path: &Path) -> CliResult<LoadedModel> {
        let path = model_path(path);
        if !path.exists() {
            return Err(CliError::input(format!(
                "{}: no such model (give a run folder, a model folder or its model.json)",
                path.display()
            )));
        }
        let (model, info) = dlkit_nn::load(&path)?;
        let meta = match &info.metadata.extra {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_default(),
            None => CliMetadata::default(),
        };
        Ok(LoadedModel {
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
    pub fn prepare(&self, x: &Tensor, what: &str) -> CliResult<Tensor> {
        let x = match (&self.meta.preprocessing, &self.info.metadata.normalization) {
            (Some(p), _) => p
                .apply(x)
                .map_err(|e| CliError::input(format!("{what}: {e}")))?,
            (None, Some(n)) => {
                normalize(x, n).map_err(|e| CliError::input(format!("{what}: {e}")))?
            }
            (None, None) => x.clone(),
        };
        let shape = x.shape().get(1..).unwrap_or(&[]);
        if shape != self.info.input_shape.as_slice() {
            let raw = self.raw_input_shape();
            return Err(CliError::input(format!(
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

/// The loss for a model whose last layer is `last` and whose output is `out`: sigmoid or one
/// unit gives binary cross-entropy, anything else softmax cross-entropy.
pub fn default_loss(last: Option<&LayerSpec>, out: &[usize]) -> Loss {
    match last {
        Some(LayerSpec::Sigmoid) => Loss::BinaryCrossEntropy,
        Some(LayerSpec::Softmax) => Loss::SoftmaxCrossEntropy,
        _ if out == [1] => Loss::BinaryCrossEntropy,
        _ => Loss::SoftmaxCrossEntropy,
    }
}

/// Class probabilities from logits `[m, k]`: σ for one unit (two classes: 1 - p and p),
/// softmax otherwise. Rows of `k` (or 2) values.
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

/// Each layer of `specs` with the shape it outputs for examples of shape `input`
/// (`"dense 20 -> [20]"`), for reports.
pub fn describe_layers(specs: &[LayerSpec], input: &[usize]) -> Vec<String> {
    let mut ctx = BuildContext::new(DType::F32, 0, Init::Zeros);
    let mut shape = input.to_vec();
    specs
        .iter()
        .map(|spec| {
            let name = match spec {
                LayerSpec::Dense(d) => format!("dense {}", d.units),
                LayerSpec::Dropout(d) => format!("dropout (keep {})", d.keep_prob),
                LayerSpec::LeakyRelu { slope } => format!("leaky_relu ({slope})"),
                other => other.kind().to_string(),
            };
            match spec.build(&mut ctx, &shape) {
                Ok((_, out)) => {
                    shape = out;
                    format!("{name} -> {shape:?}")
                }
                Err(_) => name,
            }
        })
        .collect()
}

/// The number of learnable scalars.
pub fn parameter_count(model: &Sequential) -> usize {
    model.parameters().iter().map(|p| p.tensor.numel()).sum()
}

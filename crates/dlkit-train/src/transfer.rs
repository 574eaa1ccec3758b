//! `[model] from`: the saved model a run starts from, for transfer learning and fine-tuning.
//!
//! The saved model (a run folder, a model folder or a `model.json`) gives the layers that
//! [`ModelConfig::transfer`](dlkit_nn::ModelConfig::transfer) keeps and the trained weights
//! and batch-norm running statistics they start from
//! ([`load_kept_layers`](dlkit_nn::io::load_kept_layers)).
//!
//! **Preprocessing.** The kept layers were trained on inputs preprocessed one way, so the new
//! run treats its inputs the same way, as Keras' base models come with their own
//! `preprocess_input`: when the saved model records a fitted preprocessing (a run's model
//! does), the new run reuses it, statistics included, rather than fitting it again on the new
//! training set. `[preprocess]` is then left out (inherited) or repeats the saved pipeline;
//! any other `[preprocess]` is an error. A model saved without training metadata records no
//! preprocessing, and the run's own `[preprocess]` is fitted as usual. Either way the new
//! data's examples must have the saved model's shapes: before preprocessing where the saved
//! model records it, and after it.

use std::path::PathBuf;

use dlkit_core::Tensor;
use dlkit_data::{FittedPreprocessing, Preprocessing};
use dlkit_nn::io::{read_info, ModelInfo};

use crate::config::LoadedConfig;
use crate::error::TrainResult;
use crate::predictor::{model_path, TrainingMetadata};

/// The saved model of `[model] from`, read for a new run.
#[derive(Clone, Debug)]
pub struct Base {
    /// The folder or `model.json` the model was read from.
    pub path: PathBuf,
    /// Its description: layers, dtype, input shape.
    pub info: ModelInfo,
    /// The preprocessing it was trained with, and the shape of its raw examples, when its
    /// training recorded them.
    pub preprocessing: Option<FittedPreprocessing>,
    pub raw_input_shape: Option<Vec<usize>>,
}

/// The saved model `[model] from` names (its path already resolved), or `None` without
/// `from`; a path that holds no model description is an error naming the field.
pub fn read_base(cfg: &LoadedConfig) -> TrainResult<Option<Base>> {
    let Some(from) = &cfg.config.model.from else {
        return Ok(None);
    };
    let path = model_path(from);
    let info = read_info(&path).map_err(|e| {
        cfg.error(
            "[model] from",
            format!(
                "{} is not a saved model (give a run folder, a model folder or a model.json): {e}",
                from.display()
            ),
        )
    })?;
    let c = &cfg.config.model;
    if c.dtype.dtype() != info.dtype {
        return Err(cfg.error(
            "[model] dtype",
            format!(
                "is {} but the saved model of [model] from is {}: set dtype = \"{}\" (or leave \
                 [model] from out)",
                c.dtype.dtype(),
                info.dtype,
                info.dtype
            ),
        ));
    }
    let meta = info
        .metadata
        .extra
        .as_ref()
        .and_then(|v| serde_json::from_value::<TrainingMetadata>(v.clone()).ok())
        .unwrap_or_default();
    Ok(Some(Base {
        path,
        info,
        preprocessing: meta.preprocessing,
        raw_input_shape: meta.raw_input_shape,
    }))
}

/// The preprocessing of a run: the saved model's when `base` records one (see the module's
/// documentation) and `[model] refit_preprocessing` is not set, otherwise `[preprocess]` fitted
/// on the training inputs `train_x`.
pub fn fit_preprocessing(
    cfg: &LoadedConfig,
    base: Option<&Base>,
    train_x: &Tensor,
) -> TrainResult<FittedPreprocessing> {
    let raw = train_x.shape().get(1..).unwrap_or(&[]);
    if let Some(saved) = base.and_then(|b| b.raw_input_shape.as_ref()) {
        if saved.as_slice() != raw {
            return Err(cfg.error(
                "[model] from",
                format!(
                    "the saved model was trained on examples of shape {saved:?} (before \
                     [preprocess]), but the data's have shape {raw:?}"
                ),
            ));
        }
    }
    let asked = &cfg.config.preprocess;
    let saved = base.and_then(|b| b.preprocessing.as_ref());
    match saved.filter(|_| !cfg.config.model.refit_preprocessing) {
        Some(saved) if *asked == saved.config || *asked == Preprocessing::default() => {
            Ok(saved.clone())
        }
        Some(saved) => Err(cfg.error(
            "[preprocess]",
            format!(
                "differs from the preprocessing the saved model of [model] from was trained \
                 with ({}), whose fitted statistics the run reuses: leave [preprocess] out or \
                 give the same fields",
                describe(&saved.config)
            ),
        )),
        None => asked.fit(train_x).map_err(|e| cfg.error("[preprocess]", e)),
    }
}

/// `scale = 255, standardize = "per_channel", flatten = false`.
fn describe(p: &Preprocessing) -> String {
    let mut parts = Vec::new();
    if let Some(s) = p.scale {
        parts.push(format!("scale = {s}"));
    }
    let standardize = serde_json::to_value(p.standardize)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    parts.push(format!("standardize = \"{standardize}\""));
    if let Some(f) = p.std_floor {
        parts.push(format!("std_floor = {f}"));
    }
    parts.push(format!("flatten = {}", p.flatten));
    parts.join(", ")
}

/// An error unless the examples the model takes (`input`, after preprocessing; `raw` before)
/// have the saved model's input shape.
pub fn check_input_shape(
    cfg: &LoadedConfig,
    base: &Base,
    input: &[usize],
    raw: &[usize],
) -> TrainResult<()> {
    if input == base.info.input_shape.as_slice() {
        return Ok(());
    }
    Err(cfg.error(
        "[model] from",
        format!(
            "the saved model takes examples of shape {:?}, but the data's have shape \
             {input:?}{}",
            base.info.input_shape,
            if input != raw {
                format!(" after [preprocess] ({raw:?} before)")
            } else {
                String::new()
            }
        ),
    ))
}

//! A model's summary ([`dlkit_nn::summarize`]) from what `dlkit summary` is given: a TOML
//! config, whose examples' shape comes from its data (read and preprocessed as training
//! does, with training's errors), or a saved model (a run folder, a model folder or a
//! `model.json`), whose input shape is recorded in its description; no weight is read.

use std::fmt;
use std::path::Path;

use dlkit_nn::{summarize, Summary};

use crate::config::LoadedConfig;
use crate::error::{TrainError, TrainResult};
use crate::experiment::{layers_error, prepare_data};
use crate::predictor::model_path;

/// A summary and what it is of.
#[derive(Clone, Debug)]
pub struct ModelSummary {
    /// `config <path>` or `model <path>`.
    pub source: String,
    pub summary: Summary,
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.source)?;
        write!(f, "{}", self.summary)
    }
}

/// The summary of the model that `path` describes: a `.toml` config, or a saved model (a run
/// folder, a model folder, a `model.json`). Anything else is bad input naming the path.
pub fn summarize_path(path: &Path) -> TrainResult<ModelSummary> {
    let is = |ext: &str| {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    if path.is_file() && is("toml") {
        return of_config(path);
    }
    let model = model_path(path);
    let description = if path.is_dir() {
        model.join(dlkit_nn::io::DESCRIPTION_FILE)
    } else {
        model
    };
    if description.is_file() && (path.is_dir() || is("json")) {
        let info = dlkit_nn::io::read_info(&description)?;
        return Ok(ModelSummary {
            source: format!("model {}", description.display()),
            summary: summarize(&info.layers, &info.input_shape)?,
        });
    }
    let what = if !path.exists() {
        "no such file or folder"
    } else if path.is_dir() {
        "a folder with no model/model.json or model.json in it"
    } else {
        "not a config or a saved model"
    };
    Err(TrainError::Input(format!(
        "{}: {what}: give a TOML config (.toml), a run folder, a model folder or a model.json",
        path.display()
    )))
}

/// The summary of a config's model for the examples of its data after `[preprocess]`.
fn of_config(path: &Path) -> TrainResult<ModelSummary> {
    let mut cfg = LoadedConfig::from_file(path)?;
    cfg.resolve_data_paths()?;
    cfg.validate()?;
    // With `[model] from`, the layers kept from the saved model and the new head.
    let base = crate::transfer::read_base(&cfg)?;
    let transfer = cfg
        .config
        .model
        .transfer(base.as_ref().map(|b| b.info.layers.as_slice()))
        .map_err(|e| cfg.error(e.field, e.message))?;
    let (layers, kept) = (transfer.layers, transfer.kept.len());
    if layers.is_empty() {
        return Err(cfg.error("[model] layers", "no layers given"));
    }
    let dtype = cfg.config.model.dtype.dtype();
    let (splits, _, prepared) = prepare_data(&cfg, dtype, base.as_ref())?;
    let (raw, input) = (splits.train.feature_shape(), prepared.train.feature_shape());
    let summary = summarize(&layers, input).map_err(|e| layers_error(&cfg, e, input, raw, kept))?;
    Ok(ModelSummary {
        source: format!("config {}", cfg.name),
        summary,
    })
}

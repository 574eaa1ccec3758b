//! The TOML config of a training run.
//!
//! Every table denies unknown fields, so a misspelt or misplaced field is an error that names
//! the file, the field, the table and the line, rather than a setting silently ignored:
//!
//! ```text
//! error: cat.toml: unknown field `learning_rat` in [optimizer], expected one of `type`, `lr`,
//!   ... (line 31, column 1)
//! ```
//!
//! Sections: `[data]` ([`DataConfig`]), `[preprocess]` ([`Preprocessing`]), `[augment]`
//! (optional, [`AugmentConfig`]), `[model]` ([`ModelConfig`]), `[train]` ([`TrainConfig`]),
//! `[optimizer]` ([`OptimizerConfig`]) and `[metrics]` ([`MetricsConfig`]). See the README's
//! "Configs" section and `examples/cat_4layer.toml`.

use std::fmt;
use std::path::{Path, PathBuf};

use dlkit_data::{AugmentConfig, DataConfig, Preprocessing};
use dlkit_nn::{Loss, LrSchedule, ModelConfig, OptimizerConfig, Reduction};
use serde::{Deserialize, Serialize};

use crate::error::{TrainError, TrainResult};
use crate::metrics::{Metric, Satisficing};
use crate::EarlyStopping;

/// The default config (`dlkit train` with no argument): the course's 4-layer cat classifier.
pub const DEFAULT_CONFIG: &str = include_str!("../../../examples/cat_4layer.toml");
/// Where [`DEFAULT_CONFIG`] lives in the repository.
pub const DEFAULT_CONFIG_PATH: &str = "examples/cat_4layer.toml";

/// A whole config file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data: DataConfig,
    #[serde(default, alias = "preprocessing")]
    pub preprocess: Preprocessing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentConfig>,
    pub model: ModelConfig,
    pub train: TrainConfig,
    /// Adam with its defaults when left out.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// `[train]`: the training loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Examples per mini-batch; left out: the whole training set (batch gradient descent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// `"binary_cross_entropy"`, `"softmax_cross_entropy"` or `"mean_squared_error"`;
    /// left out: from the last layer (sigmoid or one unit: binary, softmax or several units:
    /// softmax cross-entropy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
    /// How the loss reduces a batch, PyTorch's `reduction`: `"mean"` (the default) or `"sum"`
    /// (`"none"`, per-example losses, is refused: training needs a scalar cost). With `"sum"`
    /// the gradient grows with the batch size and the recorded training cost is the batch's
    /// sum; dev and test costs stay per-example means, and the L1/L2 penalty keeps its `1/m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_reduction: Option<Reduction>,
    /// L2 penalty `λ/(2m) Σ‖W‖²` on the weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2: Option<f64>,
    /// L1 penalty `λ/m Σ|W|` on the weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1: Option<f64>,
    /// Learning-rate decay: `{ type = "inverse_time", decay_rate = 1.0 }`, ...
    #[serde(default)]
    pub schedule: LrSchedule,
    /// Record the cost every this many iterations (`iterations.csv`, the cost plot).
    #[serde(default = "record_every")]
    pub record_every: usize,
    /// `{ monitor = "dev_cost", patience = 10, min_delta = 0.0 }` (needs a dev set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Write a checkpoint into the run folder every this many epochs (for `--resume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// Seeds the mini-batch order, dropout masks and augmentation.
    #[serde(default)]
    pub seed: u64,
}

fn record_every() -> usize {
    100
}

/// `[metrics]`: how the run is judged.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// The single optimizing metric (default `"accuracy"`).
    #[serde(default = "accuracy")]
    pub optimizing: Metric,
    /// Satisficing constraints: `[{ metric = "recall", min = 0.9 }]`.
    #[serde(default)]
    pub satisficing: Vec<Satisficing>,
    /// Human-level error (a fraction, 0.01 for 1%), the Bayes-error proxy of the diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_level_error: Option<f64>,
    /// The class precision, recall and F1 are computed for in a two-class problem (default
    /// 1); problems with more classes use macro averages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<usize>,
    /// Gaps at or below this fraction are not called a problem (default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

fn accuracy() -> Metric {
    Metric::Accuracy
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            optimizing: Metric::Accuracy,
            satisficing: Vec::new(),
            human_level_error: None,
            positive_class: None,
            tolerance: None,
        }
    }
}

/// A parsed config with what is needed to find its files.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: Config,
    /// How errors name the config: its path, or the built-in default's.
    pub name: String,
    /// The folders relative paths are looked up in, in order.
    pub bases: Vec<PathBuf>,
}

impl LoadedConfig {
    /// Reads and parses a config file.
    pub fn from_file(path: &Path) -> TrainResult<LoadedConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::read(path, e))?;
        LoadedConfig::from_file_text(path, &text)
    }

    /// Parses `text` as if it were the contents of the config file `path` (its name in
    /// errors, its folder for relative paths): a config changed in memory, as a tuner's trial.
    pub fn from_file_text(path: &Path, text: &str) -> TrainResult<LoadedConfig> {
        let name = path.display().to_string();
        let config = parse(text, &name)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut bases: Vec<PathBuf> = dir.ancestors().map(Path::to_path_buf).collect();
        if let Ok(cwd) = std::env::current_dir() {
            bases.push(cwd);
        }
        Ok(LoadedConfig {
            config,
            name,
            bases,
        })
    }

    /// The built-in default config (`examples/cat_4layer.toml`): the file itself when it is
    /// found from the current directory, otherwise the embedded copy with paths relative to
    /// the current directory and then to the repository this binary was built from.
    pub fn default_config() -> TrainResult<LoadedConfig> {
        let on_disk = Path::new(DEFAULT_CONFIG_PATH);
        if on_disk.is_file() {
            return LoadedConfig::from_file(on_disk);
        }
        let config = parse(DEFAULT_CONFIG, &format!("{DEFAULT_CONFIG_PATH} (built in)"))?;
        let mut bases = Vec::new();
        if let Ok(cwd) = std::env::current_dir() {
            bases.push(cwd);
        }
        bases.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
        Ok(LoadedConfig {
            config,
            name: format!("{DEFAULT_CONFIG_PATH} (built in)"),
            bases,
        })
    }

    /// An error about `field` of this config.
    pub fn error(&self, field: &str, msg: impl fmt::Display) -> TrainError {
        TrainError::Config {
            config: self.name.clone(),
            field: field.to_string(),
            message: msg.to_string(),
        }
    }

    /// `path` made absolute: the first of `bases` under which it exists. A path found nowhere
    /// is an error naming the config field.
    pub fn resolve(&self, field: &str, path: &Path) -> TrainResult<PathBuf> {
        Ok(dlkit_data::resolve_path(
            &self.name,
            &self.bases,
            field,
            path,
        )?)
    }

    /// Resolves every data path of the config, and `[model] from`, in place (see
    /// [`LoadedConfig::resolve`]).
    pub fn resolve_data_paths(&mut self) -> TrainResult<()> {
        self.config.data.resolve_paths(&self.name, &self.bases)?;
        if let Some(from) = &self.config.model.from {
            self.config.model.from = Some(self.resolve("[model] from", from)?);
        }
        Ok(())
    }
}

/// Parses config text; `name` names it in errors.
pub fn parse(text: &str, name: &str) -> TrainResult<Config> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(name, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        toml_error(name, text, &path, e.inner())
    })
}

/// `name: message in [table], ... (line L, column C)`.
fn toml_error(name: &str, text: &str, path: &str, e: &toml::de::Error) -> TrainError {
    let mut msg = e.message().trim().to_string();
    let place = describe_path(path);
    if let Some(table) = missing_table(&msg, &place) {
        // Its span is the whole file: no line to point at.
        return TrainError::Input(format!(
            "{name}: no [{table}] table (a config needs [data], [model] and [train])"
        ));
    }
    if !place.is_empty() {
        // "unknown field `x`, expected ..." and "missing field `x`" read best with the table
        // after the field.
        let at = if msg.starts_with("unknown field `") {
            msg.find("`, ").map(|i| i + 1)
        } else if msg.starts_with("missing field `") {
            Some(msg.len())
        } else {
            None
        };
        match at {
            Some(i) => msg.insert_str(i, &format!(" in {place}")),
            None => msg = format!("{place}: {msg}"),
        }
    }
    if let Some(span) = e.span() {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        msg.push_str(&format!(" (line {line}, column {column})"));
    }
    TrainError::Input(format!("{name}: {msg}"))
}

/// The required table that serde's "missing field `train`" at the top of the file is about.
fn missing_table<'m>(msg: &'m str, place: &str) -> Option<&'m str> {
    let field = msg.strip_prefix("missing field `")?.strip_suffix('`')?;
    (place.is_empty() && ["data", "model", "train"].contains(&field)).then_some(field)
}

/// `optimizer` as `[optimizer]`, `model.layers[2]` as `[model] layers[2]`, `.` as nothing.
fn describe_path(path: &str) -> String {
    let path = path.trim_start_matches('.');
    if path.is_empty() || path == "?" {
        return String::new();
    }
    match path.split_once('.') {
        Some((table, rest)) => format!("[{table}] {rest}"),
        None if path.contains('[') => path.to_string(),
        None => format!("[{path}]"),
    }
}

impl Config {
    /// The config as TOML (after paths were resolved, the config as used).
    pub fn to_toml(&self) -> TrainResult<String> {
        toml::to_string(self)
            .map_err(|e| TrainError::Runtime(format!("cannot write the config as TOML: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_nn::Init;

    #[test]
    fn the_default_config_parses_and_round_trips() {
        let c = parse(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(c.model.layers.len(), 8);
        assert_eq!(c.train.epochs, 2500);
        let again = parse(&c.to_toml().unwrap(), "again").unwrap();
        assert_eq!(again.model.layers, c.model.layers);
        assert_eq!(again.optimizer, c.optimizer);
    }

    #[test]
    fn a_missing_table_or_field_is_named_with_its_table() {
        let e = parse(&DEFAULT_CONFIG.replace("epochs = 2500", ""), "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cat.toml: missing field `epochs` in [train] (line "),
            "{e}"
        );
        let without_train: String = DEFAULT_CONFIG
            .split_inclusive('\n')
            .scan(false, |in_train, line| {
                if line.starts_with('[') {
                    *in_train = line.starts_with("[train]");
                }
                Some(if *in_train { "" } else { line })
            })
            .collect();
        let e = parse(&without_train, "cat.toml").unwrap_err().to_string();
        assert_eq!(
            e,
            "cat.toml: no [train] table (a config needs [data], [model] and [train])"
        );
    }

    #[test]
    fn unknown_fields_name_the_table_and_line() {
        let text = DEFAULT_CONFIG.replace("lr = 0.0075", "learning_rat = 0.0075");
        let e = parse(&text, "cat.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("cat.toml: unknown field `learning_rat` in [optimizer]"),
            "{e}"
        );
        assert!(e.contains("line "), "{e}");
        let text = DEFAULT_CONFIG.replace("units = 7 }", "units = 7, unit = 3 }");
        let e = parse(&text, "cat.toml").unwrap_err().to_string();
        assert!(
            e.contains("unknown field `unit`") && e.contains("[model] layers[2]"),
            "{e}"
        );
        let text = DEFAULT_CONFIG.replace("epochs = 2500", "epochs = \"many\"");
        let e = parse(&text, "cat.toml").unwrap_err().to_string();
        assert!(e.contains("[train] epochs") && e.contains("usize"), "{e}");
    }

    #[test]
    fn sources_take_a_string_or_a_table() {
        let text = DEFAULT_CONFIG.replace(
            "train = { path = \"data/catvnoncat/train_catvnoncat.h5\", x = \"train_set_x\", y = \"train_set_y\" }",
            "train = \"data/catvnoncat/train_catvnoncat.h5\"",
        );
        let c = parse(&text, "c").unwrap();
        assert_eq!(
            c.data.train.0[0].path,
            Path::new("data/catvnoncat/train_catvnoncat.h5")
        );
        assert_eq!(c.data.train.0[0].x, None);
        let text = DEFAULT_CONFIG.replace("x = \"train_set_x\"", "xx = \"train_set_x\"");
        let e = parse(&text, "c").unwrap_err().to_string();
        assert!(e.contains("unknown field `xx` in [data] train"), "{e}");
    }

    #[test]
    fn init_by_name_or_table() {
        for (text, want) in [
            ("init = \"he\"", Init::He),
            (
                "init = { type = \"normal\", scale = 0.01 }",
                Init::Normal { scale: 0.01 },
            ),
        ] {
            let c = parse(&DEFAULT_CONFIG.replace("init = \"xavier\"", text), "c").unwrap();
            assert_eq!(c.model.init, want);
        }
        let e = parse(
            &DEFAULT_CONFIG.replace("init = \"xavier\"", "init = \"hee\""),
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[model] init") && e.contains("hee"), "{e}");
    }
}

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

use dlkit_core::DType;
use dlkit_data::{AugmentConfig, Generator, Preprocessing, SplitConfig};
use dlkit_nn::{Init, InitRng, LayerSpec, Loss, LrSchedule, OptimizerConfig};
use dlkit_train::metrics::{Metric, Satisficing};
use dlkit_train::EarlyStopping;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{read_error, CliError, CliResult};

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

/// The file format of every source in `[data]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// The course's HDF5 layout: images `x` `[m, h, w, c]`, labels `y`, `list_classes`.
    H5,
    /// IDX files (MNIST): `path` the images, `labels` the label file.
    Idx,
    /// A table with a header row; `label` names the label column (the last by default).
    Csv,
    /// NumPy: `path` an `.npy` of inputs with `labels` an `.npy` of labels, or an `.npz`
    /// archive with arrays `x` and `y` (names configurable).
    Npy,
    /// One subfolder per class (`path/cat/*.jpg`, `path/dog/*.jpg`).
    ImageFolder,
    /// The SIGNS JPEGs: one folder, file names start with the class digit.
    SignsFolder,
    /// A MATLAB MAT-file (level 5) with variables `x` and `y` (default `X` and `y`).
    Mat,
    /// No file: the course's 2-D datasets from dlkit's seeded generators, each source a
    /// `generate = { type = "circles", n = 300, noise = 0.05, seed = 1 }` table.
    Generated,
}

impl DataFormat {
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::H5 => "h5",
            DataFormat::Idx => "idx",
            DataFormat::Csv => "csv",
            DataFormat::Npy => "npy",
            DataFormat::ImageFolder => "image_folder",
            DataFormat::SignsFolder => "signs_folder",
            DataFormat::Mat => "mat",
            DataFormat::Generated => "generated",
        }
    }
}

/// `[data]`: where the examples come from and how they are split.
///
/// Either separate files (`train`, and optionally `dev` and `test`), or one `train` source
/// cut by `split` ratios into train / dev / test (and a train-dev set with `train_dev > 0`).
/// A split with ratio 0 takes its set from its own source if one is given.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub format: DataFormat,
    /// One source, or a list whose examples are joined (SIGNS: the train and val folders).
    pub train: Sources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Source>,
    /// `{ train = 0.6, dev = 0.2, test = 0.2, train_dev = 0.0, stratify = true }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitConfig>,
    /// Seeds the split's shuffle.
    #[serde(default)]
    pub seed: u64,
    /// Names for the classes, replacing those the files give (in label order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
}

/// One data source: `"path"`, a table `{ path = "...", x = "...", y = "..." }`, or a
/// generated dataset `{ generate = { type = "moons", n = 300, noise = 0.2, seed = 3 } }`.
///
/// Which fields apply depends on the format: `x`/`y` (h5 datasets, npz arrays, mat
/// variables), `labels` (idx and npy label files), `label` (csv label column, a name or a
/// number counting from 0), `header` (csv: `true` for a header row, `false` for none,
/// `"sklearn"` for scikit-learn's `n_samples,n_features,classes...` line), `resize`
/// (image folders: `[height, width]`), `generate` (format "generated"). `format` overrides
/// `[data] format` for this source (SIGNS: JPEG folders to train on, an h5 file to test on).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Source {
    /// Empty for a generated source.
    #[serde(skip_serializing_if = "path_is_empty")]
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<DataFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate: Option<Generator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelColumn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<CsvHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize: Option<[usize; 2]>,
}

fn path_is_empty(p: &Path) -> bool {
    p.as_os_str().is_empty()
}

impl Source {
    /// The format this source is read with: its own, else `[data] format`.
    pub fn format_in(&self, data: &DataConfig) -> DataFormat {
        self.format.unwrap_or(data.format)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFields {
    #[serde(default)]
    path: PathBuf,
    #[serde(default)]
    format: Option<DataFormat>,
    #[serde(default)]
    generate: Option<Generator>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    labels: Option<PathBuf>,
    #[serde(default)]
    label: Option<LabelColumn>,
    #[serde(default)]
    header: Option<CsvHeader>,
    #[serde(default)]
    resize: Option<[usize; 2]>,
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Source;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path string or a table { path = \"...\", ... }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Source, E> {
                Ok(Source {
                    path: PathBuf::from(s),
                    ..Source::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Source, A::Error> {
                let f = SourceFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Source {
                    path: f.path,
                    format: f.format,
                    generate: f.generate,
                    x: f.x,
                    y: f.y,
                    labels: f.labels,
                    label: f.label,
                    header: f.header,
                    resize: f.resize,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One source, or several (`[{ path = "a" }, { path = "b" }]`) whose examples are joined in
/// order into one set.
#[derive(Clone, Debug, PartialEq)]
pub struct Sources(pub Vec<Source>);

impl Serialize for Sources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sources;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path string, a table { path = \"...\", ... } or a list of them")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Sources, E> {
                Source::deserialize(de::value::StrDeserializer::new(s)).map(|s| Sources(vec![s]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Sources, A::Error> {
                Source::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|s| Sources(vec![s]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Sources, A::Error> {
                let list = Vec::<Source>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                if list.is_empty() {
                    return Err(de::Error::custom("an empty list of sources"));
                }
                Ok(Sources(list))
            }
        }
        d.deserialize_any(V)
    }
}

/// A CSV label column: by header name or by number (from 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    Name(String),
    Index(usize),
}

impl Serialize for LabelColumn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LabelColumn::Name(n) => s.serialize_str(n),
            LabelColumn::Index(i) => s.serialize_u64(*i as u64),
        }
    }
}

impl<'de> Deserialize<'de> for LabelColumn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LabelColumn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column name or a column number (from 0)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<LabelColumn, E> {
                Ok(LabelColumn::Name(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LabelColumn, E> {
                usize::try_from(v)
                    .map(LabelColumn::Index)
                    .map_err(|_| E::custom(format!("column number {v} is negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LabelColumn, E> {
                Ok(LabelColumn::Index(v as usize))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether a CSV file starts with a header row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvHeader {
    /// `true`: the first row names the columns (the default).
    Names,
    /// `false`: no header; columns are numbered.
    None,
    /// `"sklearn"`: scikit-learn's `n_samples,n_features,class names...` first line.
    Sklearn,
}

impl Serialize for CsvHeader {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CsvHeader::Names => s.serialize_bool(true),
            CsvHeader::None => s.serialize_bool(false),
            CsvHeader::Sklearn => s.serialize_str("sklearn"),
        }
    }
}

impl<'de> Deserialize<'de> for CsvHeader {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CsvHeader;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false or \"sklearn\"")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<CsvHeader, E> {
                Ok(if b { CsvHeader::Names } else { CsvHeader::None })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<CsvHeader, E> {
                match s {
                    "sklearn" => Ok(CsvHeader::Sklearn),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[model]`: the network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `"f32"` (default) or `"f64"`.
    #[serde(default)]
    pub dtype: DTypeName,
    /// The initialiser of layers that name none: `"he"` (default), `"xavier"`, `"zeros"`,
    /// `"glorot_uniform"`, or `{ type = "normal", scale = 0.01 }`.
    #[serde(default)]
    pub init: InitName,
    /// Seeds the initial weights (with `rng = "numpy"`, NumPy's seed: 0 to 2^32 - 1).
    #[serde(default)]
    pub seed: u64,
    /// The stream that draws the initial weights: `"dlkit"` (default), dlkit's own seeded
    /// generator; or `"numpy"`, the course's NumPy stream (`np.random.seed(seed)`, then each
    /// layer's `np.random.randn(n[l], n[l-1])` scaled as `init` says), so that a course
    /// notebook's initial weights are reproduced exactly.
    #[serde(default)]
    pub rng: InitRng,
    /// The layers, in order: `{ type = "dense", units = 20 }`, `{ type = "relu" }`, ...
    pub layers: Vec<LayerSpec>,
}

/// A dtype by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DTypeName {
    #[default]
    F32,
    F64,
}

impl DTypeName {
    pub fn dtype(self) -> DType {
        match self {
            DTypeName::F32 => DType::F32,
            DTypeName::F64 => DType::F64,
        }
    }
}

/// An initialiser as a name (`"he"`) or, for those with parameters, a table.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InitName(pub Init);

impl Serialize for InitName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Init::Zeros => s.serialize_str("zeros"),
            Init::Xavier => s.serialize_str("xavier"),
            Init::He => s.serialize_str("he"),
            Init::GlorotUniform => s.serialize_str("glorot_uniform"),
            other => other.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InitName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InitName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"he\", \"xavier\", \"zeros\", \"glorot_uniform\" or { type = \"normal\", scale = 0.01 }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<InitName, E> {
                Ok(InitName(match s {
                    "zeros" => Init::Zeros,
                    "xavier" => Init::Xavier,
                    "he" => Init::He,
                    "glorot_uniform" => Init::GlorotUniform,
                    "normal" => return Err(E::custom(
                        "init \"normal\" needs a scale: init = { type = \"normal\", scale = 0.01 }",
                    )),
                    other => return Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<InitName, A::Error> {
                Init::deserialize(de::value::MapAccessDeserializer::new(map)).map(InitName)
            }
        }
        d.deserialize_any(V)
    }
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
    pub fn from_file(path: &Path) -> CliResult<LoadedConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| read_error(path, e))?;
        let name = path.display().to_string();
        let config = parse(&text, &name)?;
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
    pub fn default_config() -> CliResult<LoadedConfig> {
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
    pub fn error(&self, field: &str, msg: impl fmt::Display) -> CliError {
        CliError::input(format!("{}: {field}: {msg}", self.name))
    }

    /// `path` made absolute: the first of `bases` under which it exists. A path found nowhere
    /// is an error naming the config field.
    pub fn resolve(&self, field: &str, path: &Path) -> CliResult<PathBuf> {
        if path.is_absolute() {
            if path.exists() {
                return Ok(path.to_path_buf());
            }
            return Err(self.error(field, format!("{}: file not found", path.display())));
        }
        for base in &self.bases {
            let p = base.join(path);
            if p.exists() {
                return Ok(p.canonicalize().unwrap_or(p));
            }
        }
        let looked: Vec<String> = self.bases.iter().map(|b| b.display().to_string()).collect();
        Err(self.error(
            field,
            format!(
                "{}: file not found (looked under {})",
                path.display(),
                looked.join(", ")
            ),
        ))
    }

    /// Resolves every data path of the config in place (see [`LoadedConfig::resolve`]).
    pub fn resolve_data_paths(&mut self) -> CliResult<()> {
        let mut data = self.config.data.clone();
        let format = data.format;
        let listed = data.train.0.len() > 1;
        let train = data.train.0.iter_mut().enumerate().map(|(i, s)| {
            let name = if listed {
                format!("train[{i}]")
            } else {
                "train".into()
            };
            (name, Some(s))
        });
        let others = [
            ("dev".to_string(), data.dev.as_mut()),
            ("test".to_string(), data.test.as_mut()),
        ];
        for (name, source) in train.chain(others) {
            let Some(source) = source else { continue };
            // Generated sources read no file (a stray `path` is reported when loading).
            let generated = source.format.unwrap_or(format) == DataFormat::Generated;
            if generated || (source.generate.is_some() && path_is_empty(&source.path)) {
                continue;
            }
            source.path = self.resolve(&format!("[data] {name}.path"), &source.path)?;
            if let Some(labels) = &source.labels {
                source.labels = Some(self.resolve(&format!("[data] {name}.labels"), labels)?);
            }
        }
        self.config.data = data;
        Ok(())
    }
}

/// Parses config text; `name` names it in errors.
pub fn parse(text: &str, name: &str) -> CliResult<Config> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(name, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        toml_error(name, text, &path, e.inner())
    })
}

/// `name: message in [table], ... (line L, column C)`.
fn toml_error(name: &str, text: &str, path: &str, e: &toml::de::Error) -> CliError {
    let mut msg = e.message().trim().to_string();
    let place = describe_path(path);
    if !place.is_empty() {
        // "unknown field `x`, expected ..." reads best with the table after the field.
        let at = msg
            .starts_with("unknown field `")
            .then(|| msg.find("`, ").map(|i| i + 1))
            .flatten();
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
    CliError::input(format!("{name}: {msg}"))
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
    pub fn to_toml(&self) -> CliResult<String> {
        toml::to_string(self)
            .map_err(|e| CliError::runtime(format!("cannot write the config as TOML: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(c.model.init.0, want);
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

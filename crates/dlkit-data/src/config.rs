//! The `[data]` table of a config as serde types: which files hold the examples, in which
//! format, and how they are split.
//!
//! Every table denies unknown fields, so a misspelt field is an error rather than a setting
//! silently ignored. A source is `"path"`, a table `{ path = "...", x = "...", y = "..." }`,
//! or a generated dataset; `train` may list several sources whose examples are joined.
//! [`DataConfig::load`] reads them into [`Splits`](crate::Splits).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Generator, SplitConfig};

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
    /// `{ train = 0.6, dev = 0.2, test = 0.2, train_dev = 0.0, stratify = true }`, or
    /// `{ train_per_class = 10, test = 1.0 }` (see [`SplitConfig`]).
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
/// `"sklearn"` for scikit-learn's `n_samples,n_features,classes...` line), `shape` (csv,
/// npy and mat: each example's flat features read row-major as an array of this shape,
/// `[8, 8, 1]` for an 8x8 grey image in NHWC order), `resize` (`[height, width]`: image
/// folders resize while decoding; any other file source whose examples are
/// `[height, width, channels]` images is resampled bilinearly, see
/// [`crate::resize_bilinear`]), `pad` (zero pixels added on each side of `[height, width,
/// channels]` images, after `resize`: [`crate::pad_images`]), `generate` (format "generated"). `format` overrides
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
    pub shape: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize: Option<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pad: Option<usize>,
}

pub(crate) fn path_is_empty(p: &Path) -> bool {
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
    shape: Option<Vec<usize>>,
    #[serde(default)]
    resize: Option<[usize; 2]>,
    #[serde(default)]
    pad: Option<usize>,
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
                    shape: f.shape,
                    resize: f.resize,
                    pad: f.pad,
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

//! Reading a config's `[data]` into train / train-dev / dev / test datasets.
//!
//! Relative paths are first made absolute against a list of base folders
//! ([`DataConfig::resolve_paths`]); [`DataConfig::load`] then reads every source, joins a
//! list of training sources, cuts the configured split and gives every set the same class
//! names. Errors about a field name the config and the field:
//! `"cat.toml: [data] train: ..."` ([`Error::Config`]).

use std::path::{Path, PathBuf};

use dlkit_core::{Rng, Tensor};

use crate::config::{path_is_empty, CsvHeader, DataConfig, DataFormat, LabelColumn, Source};
use crate::error::{Error, Result};
use crate::{
    load_course_h5, load_csv_with, load_idx_pair, load_image_folder_with, load_mat_xy,
    load_signs_folder_with, load_sklearn_csv, pad_images, read_npy, read_npz, resize_bilinear,
    Column, CsvOptions, Dataset, ImageFolderOptions, Labels,
};

/// The datasets of a run, before preprocessing.
#[derive(Clone, Debug)]
pub struct Splits {
    pub train: Dataset,
    pub train_dev: Option<Dataset>,
    pub dev: Option<Dataset>,
    pub test: Option<Dataset>,
}

impl Splits {
    /// `(name, dataset)` for each set present, in the order train, train-dev, dev, test.
    pub fn named(&self) -> Vec<(&'static str, &Dataset)> {
        let mut v = vec![("train", &self.train)];
        v.extend(self.train_dev.as_ref().map(|d| ("train_dev", d)));
        v.extend(self.dev.as_ref().map(|d| ("dev", d)));
        v.extend(self.test.as_ref().map(|d| ("test", d)));
        v
    }

    /// Every set through `f` (preprocessing, a dtype change).
    pub fn map<E>(
        &self,
        f: impl Fn(&Dataset) -> std::result::Result<Dataset, E>,
    ) -> std::result::Result<Splits, E> {
        Ok(Splits {
            train: f(&self.train)?,
            train_dev: self.train_dev.as_ref().map(&f).transpose()?,
            dev: self.dev.as_ref().map(&f).transpose()?,
            test: self.test.as_ref().map(&f).transpose()?,
        })
    }

    /// The class names shared by every set.
    pub fn class_names(&self) -> Vec<String> {
        self.train
            .y
            .class_names()
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }
}

/// An error about `field` of the config called `config`.
fn err(config: &str, field: &str, message: impl std::fmt::Display) -> Error {
    Error::Config {
        config: config.to_string(),
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// `path` made absolute: itself if absolute and present, else the first of `bases` under
/// which it exists. A path found nowhere is an error naming `field` of `config`.
pub fn resolve_path(config: &str, bases: &[PathBuf], field: &str, path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        if path.exists() {
            return Ok(path.to_path_buf());
        }
        return Err(err(
            config,
            field,
            format!("{}: file not found", path.display()),
        ));
    }
    for base in bases {
        let p = base.join(path);
        if p.exists() {
            return Ok(p.canonicalize().unwrap_or(p));
        }
    }
    let looked: Vec<String> = bases.iter().map(|b| b.display().to_string()).collect();
    Err(err(
        config,
        field,
        format!(
            "{}: file not found (looked under {})",
            path.display(),
            looked.join(", ")
        ),
    ))
}

impl DataConfig {
    /// Resolves every data path in place (see [`resolve_path`]); on an error nothing is
    /// changed. Generated sources read no file and are left alone.
    pub fn resolve_paths(&mut self, config: &str, bases: &[PathBuf]) -> Result<()> {
        let mut data = self.clone();
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
            let field = format!("[data] {name}.path");
            source.path = resolve_path(config, bases, &field, &source.path)?;
            if let Some(labels) = &source.labels {
                let field = format!("[data] {name}.labels");
                source.labels = Some(resolve_path(config, bases, &field, labels)?);
            }
        }
        *self = data;
        Ok(())
    }

    /// Reads every source (paths already resolved) and splits as configured; `config` names
    /// the config in errors.
    pub fn load(&self, config: &str) -> Result<Splits> {
        let load =
            |role: &str, src: &Source| load_source(Some(config), src.format_in(self), role, src);
        let parts = self
            .train
            .0
            .iter()
            .map(|s| load("train", s))
            .collect::<Result<Vec<_>>>()?;
        let base = join(config, parts)?;
        if base.is_empty() {
            return Err(err(
                config,
                "[data] train",
                "the training source holds no examples",
            ));
        }
        let mut splits = match &self.split {
            None => Splits {
                train: base,
                train_dev: None,
                dev: self.dev.as_ref().map(|s| load("dev", s)).transpose()?,
                test: self.test.as_ref().map(|s| load("test", s)).transpose()?,
            },
            Some(split) => {
                for (name, ratio, source) in [
                    ("dev", split.dev, &self.dev),
                    ("test", split.test, &self.test),
                ] {
                    if ratio > 0.0 && source.is_some() {
                        return Err(err(
                            config,
                            "[data] split",
                            format!(
                                "{name} = {ratio} takes a {name} set out of the training source, \
                                 but [data] {name} gives one too: set the ratio to 0 or remove \
                                 [data] {name}"
                            ),
                        ));
                    }
                }
                let parts = split
                    .split(&base, &mut Rng::new(self.seed))
                    .map_err(|e| err(config, "[data] split", e))?;
                let own = |name: &str, ratio: f64, part: Dataset, source: &Option<Source>| {
                    if ratio > 0.0 {
                        Ok(Some(part))
                    } else {
                        source.as_ref().map(|s| load(name, s)).transpose()
                    }
                };
                Splits {
                    train: parts.train,
                    train_dev: parts.train_dev,
                    dev: own("dev", split.dev, parts.dev, &self.dev)?,
                    test: own("test", split.test, parts.test, &self.test)?,
                }
            }
        };
        if splits.train.is_empty() {
            return Err(err(config, "[data] split", "the training split is empty"));
        }
        for set in [&mut splits.train_dev, &mut splits.dev, &mut splits.test] {
            if set.as_ref().is_some_and(Dataset::is_empty) {
                *set = None;
            }
        }
        harmonize(config, self, &mut splits)?;
        Ok(splits)
    }

    /// The source to read `data` with: the config's source with that path (compared after
    /// canonicalising), else its test, dev or first train source with the path replaced by
    /// `data` and no separate labels file. Returns the source and its format.
    pub fn source_for(&self, data: &Path) -> Result<(DataFormat, Source)> {
        let target = data.canonicalize().map_err(|e| read_error(data, e))?;
        let sources: Vec<&Source> = [self.test.as_ref(), self.dev.as_ref()]
            .into_iter()
            .flatten()
            .chain(&self.train.0)
            .collect();
        let same = sources
            .iter()
            .find(|s| s.path.canonicalize().ok().as_ref() == Some(&target));
        let mut source = (*same.unwrap_or(&sources[0])).clone();
        if same.is_none() {
            source.path = target;
            source.labels = None;
        }
        Ok((source.format_in(self), source))
    }
}

/// An I/O failure reading `path`: [`Error::NotFound`], or `path: cannot read: ...`.
pub(crate) fn read_error(path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound {
            file: path.to_path_buf(),
        },
        _ => invalid(path, format!("cannot read: {e}")),
    }
}

/// `path: detail` for a file given without a config.
pub(crate) fn invalid(path: &Path, detail: impl Into<String>) -> Error {
    Error::Invalid {
        context: path.display().to_string(),
        detail: detail.into(),
    }
}

/// The examples of several training sources in order, as one set: same example shape and
/// kind of labels; class names the longest list when the others are its prefix.
fn join(config: &str, mut parts: Vec<Dataset>) -> Result<Dataset> {
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    let first = &parts[0];
    let mut names: Vec<String> = Vec::new();
    let mut indices = Vec::new();
    for (i, d) in parts.iter().enumerate() {
        let field = format!("[data] train[{i}]");
        if d.feature_shape() != first.feature_shape() {
            return Err(err(
                config,
                &field,
                format!(
                    "examples of shape {:?}, but train[0]'s are {:?}",
                    d.feature_shape(),
                    first.feature_shape()
                ),
            ));
        }
        let Labels::Classes {
            indices: own,
            names: own_names,
        } = &d.y
        else {
            return Err(err(
                config,
                &field,
                "a list of training sources needs class labels",
            ));
        };
        if own_names.starts_with(&names) {
            names = own_names.clone();
        } else if !names.starts_with(own_names) {
            return Err(err(
                config,
                &field,
                format!("classes {own_names:?} differ from {names:?} of the sources before"),
            ));
        }
        indices.extend_from_slice(own);
    }
    let xs: Vec<Tensor> = parts
        .iter()
        .map(|d| d.x.to_dtype(first.x.dtype()))
        .collect();
    let x = Tensor::concat(&xs.iter().collect::<Vec<_>>(), 0);
    Dataset::classification(x, indices, names)
}

/// Gives every set the same class names: the longest list when the others are its prefix
/// (a test file without the last class), or the config's `class_names`.
fn harmonize(config: &str, data: &DataConfig, splits: &mut Splits) -> Result<()> {
    let named: Vec<(&str, Vec<String>)> = splits
        .named()
        .into_iter()
        .map(|(n, d)| {
            (
                n,
                d.y.class_names()
                    .map(<[String]>::to_vec)
                    .unwrap_or_default(),
            )
        })
        .collect();
    let longest = named
        .iter()
        .max_by_key(|(_, c)| c.len())
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    for (name, classes) in &named {
        if !longest.starts_with(classes) {
            return Err(err(
                config,
                "[data]",
                format!(
                    "the {name} set's classes {classes:?} differ from {longest:?} in another set; \
                     the sets must share their classes (set [data] class_names to name them)"
                ),
            ));
        }
    }
    let names = match &data.class_names {
        Some(names) => {
            if names.len() < longest.len() {
                return Err(err(
                    config,
                    "[data] class_names",
                    format!(
                        "{} names given but the data have {} classes {longest:?}",
                        names.len(),
                        longest.len()
                    ),
                ));
            }
            names.clone()
        }
        None => longest,
    };
    let relabel = |d: &Dataset| -> Result<Dataset> {
        match &d.y {
            Labels::Classes { indices, .. } => {
                Dataset::classification(d.x.clone(), indices.clone(), names.clone())
            }
            Labels::Targets(_) => Ok(d.clone()),
        }
    };
    *splits = splits.map(relabel)?;
    Ok(())
}

/// An error unless `src` sets only the fields in `allowed` (besides `path`).
fn only(
    config: &str,
    field: &str,
    format: DataFormat,
    src: &Source,
    allowed: &[&str],
) -> Result<()> {
    let set = [
        ("x", src.x.is_some()),
        ("y", src.y.is_some()),
        ("labels", src.labels.is_some()),
        ("label", src.label.is_some()),
        ("header", src.header.is_some()),
        ("shape", src.shape.is_some()),
        ("resize", src.resize.is_some()),
        ("pad", src.pad.is_some()),
        ("generate", src.generate.is_some()),
    ];
    for (key, present) in set {
        if present && !allowed.contains(&key) {
            let takes = if format == DataFormat::Generated {
                "only `generate`".to_string()
            } else if allowed.is_empty() {
                "only `path`".to_string()
            } else {
                format!("`path`, `{}`", allowed.join("`, `"))
            };
            return Err(err(
                config,
                field,
                format!(
                    "`{key}` does not apply to format \"{}\", which takes {takes}",
                    format.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Reads one source as `role` (`"train"`, `"dev"`, `"test"`: the default h5 dataset names
/// are `<role>_set_x` / `<role>_set_y`). `config` is the config that describes it (errors
/// of the readers then name the config's field too), or `None` for a file given alone.
pub fn load_source(
    config: Option<&str>,
    format: DataFormat,
    role: &str,
    src: &Source,
) -> Result<Dataset> {
    let field = format!("[data] {role}");
    let path = &src.path;
    let rd = |e: Error| match config {
        Some(n) => err(n, &field, e),
        None => e,
    };
    let name = config.unwrap_or("command line");
    if format != DataFormat::Generated && src.path.as_os_str().is_empty() {
        return Err(err(
            name,
            &field,
            format!(
                "no `path` given (format \"{}\"{})",
                format.name(),
                if src.generate.is_some() {
                    "; `generate` needs format = \"generated\""
                } else {
                    ""
                }
            ),
        ));
    }
    let data = match format {
        DataFormat::H5 => {
            only(name, &field, format, src, &["x", "y", "resize", "pad"])?;
            let x = src.x.clone().unwrap_or_else(|| format!("{role}_set_x"));
            let y = src.y.clone().unwrap_or_else(|| format!("{role}_set_y"));
            load_course_h5(path, &x, &y)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::Idx => {
            only(name, &field, format, src, &["labels", "resize", "pad"])?;
            let labels = match &src.labels {
                Some(l) => l.clone(),
                None => idx_labels_beside(path).ok_or_else(|| {
                    err(
                        name,
                        &field,
                        format!(
                            "cannot tell the label file of {}: give `labels = \"...\"`",
                            path.display()
                        ),
                    )
                })?,
            };
            load_idx_pair(path, &labels)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::Csv => {
            only(
                name,
                &field,
                format,
                src,
                &["label", "header", "shape", "resize", "pad"],
            )?;
            let table = match src.header.unwrap_or(CsvHeader::Names) {
                CsvHeader::Sklearn => {
                    if src.label.is_some() {
                        return Err(err(
                            name,
                            &field,
                            "`label` does not apply to header = \"sklearn\" (the label is the \
                             last column)",
                        ));
                    }
                    load_sklearn_csv(path).map_err(rd)?
                }
                header => {
                    let label = match &src.label {
                        None => Column::Last,
                        Some(LabelColumn::Name(n)) => Column::Name(n.clone()),
                        Some(LabelColumn::Index(i)) => Column::Index(*i),
                    };
                    load_csv_with(
                        path,
                        &CsvOptions {
                            label,
                            header: header == CsvHeader::Names,
                            ..CsvOptions::default()
                        },
                    )
                    .map_err(rd)?
                }
            };
            Dataset::classification(table.x, table.y, table.classes).map_err(rd)?
        }
        DataFormat::Npy => {
            let is_npz = path.extension().is_some_and(|e| e == "npz");
            if is_npz {
                only(
                    name,
                    &field,
                    format,
                    src,
                    &["x", "y", "shape", "resize", "pad"],
                )?;
                let x = read_npz(path, src.x.as_deref().unwrap_or("x")).map_err(rd)?;
                let y = read_npz(path, src.y.as_deref().unwrap_or("y")).map_err(rd)?;
                let (xt, yl) = (x.to_tensor().map_err(rd)?, y.to_labels().map_err(rd)?);
                labelled(path, xt, yl, &y.shape, path)?
            } else {
                only(
                    name,
                    &field,
                    format,
                    src,
                    &["labels", "shape", "resize", "pad"],
                )?;
                let labels = src.labels.as_ref().ok_or_else(|| {
                    err(
                        name,
                        &field,
                        "an .npy file holds only the inputs: give the labels' .npy file as \
                         `labels = \"...\"` (or use an .npz archive with arrays x and y)",
                    )
                })?;
                let x = read_npy(path).map_err(rd)?;
                let y = read_npy(labels).map_err(rd)?;
                let (xt, yl) = (x.to_tensor().map_err(rd)?, y.to_labels().map_err(rd)?);
                labelled(path, xt, yl, &y.shape, labels)?
            }
        }
        DataFormat::ImageFolder => {
            only(name, &field, format, src, &["resize", "pad"])?;
            let opts = ImageFolderOptions { resize: src.resize };
            load_image_folder_with(path, &opts)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::SignsFolder => {
            only(name, &field, format, src, &["resize", "pad"])?;
            let opts = ImageFolderOptions { resize: src.resize };
            load_signs_folder_with(path, &opts)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::Generated => load_generated(name, &field, src, rd)?,
        DataFormat::Mat => {
            only(
                name,
                &field,
                format,
                src,
                &["x", "y", "shape", "resize", "pad"],
            )?;
            let table = load_mat_xy(
                path,
                src.x.as_deref().unwrap_or("X"),
                src.y.as_deref().unwrap_or("y"),
            )
            .map_err(rd)?;
            Dataset::classification(table.x, table.y, table.classes).map_err(rd)?
        }
    };
    let data = match format {
        // Image folders resize while decoding.
        DataFormat::ImageFolder | DataFormat::SignsFolder => data,
        _ => shape_examples(name, &field, src, data)?,
    };
    pad_examples(name, &field, src, data)
}

/// `data` with `src.pad` zero pixels added on each side of its images ([`pad_images`]);
/// an error naming `field.pad` of `config` unless its examples are `[h, w, c]` images.
fn pad_examples(config: &str, field: &str, src: &Source, data: Dataset) -> Result<Dataset> {
    let Some(n) = src.pad.filter(|&n| n > 0) else {
        return Ok(data);
    };
    if data.x.shape().len() != 4 {
        return Err(err(
            config,
            &format!("{field}.pad"),
            format!(
                "{}: `pad` needs examples of shape [height, width, channels], but they have \
                 shape {:?} (give `shape = [h, w, c]` to read flat features as images)",
                src.path.display(),
                data.feature_shape()
            ),
        ));
    }
    let x = pad_images(&data.x, n).map_err(|e| err(config, field, e))?;
    Dataset::new(x, data.y)
}

/// `data` with each example's features read row-major as `src.shape` and the images then
/// resized to `src.resize` ([`resize_bilinear`]); errors name the file and `field.shape` or
/// `field.resize` of `config`.
fn shape_examples(config: &str, field: &str, src: &Source, data: Dataset) -> Result<Dataset> {
    if src.shape.is_none() && src.resize.is_none() {
        return Ok(data);
    }
    let file = src.path.display();
    let mut x = data.x.clone();
    if let Some(shape) = &src.shape {
        let field = format!("{field}.shape");
        let have = data.feature_shape();
        let values: usize = shape.iter().product();
        if shape.is_empty() {
            return Err(err(
                config,
                &field,
                format!("{file}: `shape = []` has no axes; expected the shape of one example"),
            ));
        }
        if values != data.num_features() {
            return Err(err(
                config,
                &field,
                format!(
                    "{file}: `shape = {shape:?}` holds {values} values per example, but the \
                     file's examples have {} (shape {have:?})",
                    data.num_features()
                ),
            ));
        }
        let mut full = vec![data.len()];
        full.extend_from_slice(shape);
        x = x.reshape(&full);
    }
    if let Some(size) = src.resize {
        let field = format!("{field}.resize");
        if x.shape().len() != 4 {
            return Err(err(
                config,
                &field,
                format!(
                    "{file}: `resize` needs examples of shape [height, width, channels], but \
                     they have shape {:?} (give `shape = [h, w, c]` to read flat features as \
                     images)",
                    &x.shape()[1..]
                ),
            ));
        }
        x = resize_bilinear(&x, size).map_err(|e| err(config, &field, format!("{file}: {e}")))?;
    }
    Dataset::new(x, data.y)
}

/// A source of format "generated": its `generate` table run, no file read.
fn load_generated(
    config: &str,
    field: &str,
    src: &Source,
    rd: impl Fn(Error) -> Error,
) -> Result<Dataset> {
    only(config, field, DataFormat::Generated, src, &["generate"])?;
    let generator = src.generate.as_ref().ok_or_else(|| {
        err(
            config,
            field,
            "format \"generated\" needs `generate = { type = \"circles\", n = 300, noise = \
             0.05, seed = 1 }` (types: flower, circles, moons)",
        )
    })?;
    if !src.path.as_os_str().is_empty() {
        return Err(err(
            config,
            field,
            "a generated source reads no file: remove `path`, or give this source its own \
             `format`",
        ));
    }
    generator.generate().map_err(rd)
}

/// MNIST's naming: `train-images-idx3-ubyte.gz` beside `train-labels-idx1-ubyte.gz`.
fn idx_labels_beside(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    name.contains("images-idx3")
        .then(|| images.with_file_name(name.replace("images-idx3", "labels-idx1")))
}

/// Inputs and integer labels (`[m]`, `[m, 1]` or `[1, m]`) as a classification dataset with
/// classes "0" up to the largest label.
fn labelled(
    x_file: &Path,
    x: Tensor,
    y: Vec<usize>,
    y_shape: &[usize],
    y_file: &Path,
) -> Result<Dataset> {
    let one_per_example = match y_shape {
        [_] => true,
        [a, b] => *a == 1 || *b == 1,
        _ => false,
    };
    if !one_per_example {
        return Err(invalid(
            y_file,
            format!(
                "labels of shape {y_shape:?}; expected one class index per example ([m] or [m, 1])"
            ),
        ));
    }
    let m = x.shape().first().copied().unwrap_or(0);
    if y.len() != m {
        return Err(Error::FileCountMismatch {
            x_file: x_file.to_path_buf(),
            x_count: m,
            y_file: y_file.to_path_buf(),
            y_count: y.len(),
        });
    }
    let n = y.iter().max().map_or(0, |&k| k + 1);
    Dataset::classification(x, y, (0..n).map(|k| k.to_string()).collect())
}

//! Reading the `[data]` of a config into train / train-dev / dev / test datasets, and
//! guessing how to read a file given on the command line (`dlkit eval`, `dlkit predict`).

use std::path::{Path, PathBuf};

use dlkit_core::{Rng, Tensor};
use dlkit_data::{
    list_h5_datasets, load_course_h5, load_csv_with, load_idx_pair, load_image_folder_with,
    load_image_rgb, load_mat_xy, load_signs_folder_with, load_sklearn_csv, read_h5_dataset,
    read_npy, read_npz, Column, CsvOptions, Dataset, ImageFolderOptions, Labels, IMAGE_EXTENSIONS,
};

use crate::config::{CsvHeader, DataConfig, DataFormat, LabelColumn, LoadedConfig, Source};
use crate::error::{CliError, CliResult};

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
    pub fn map(&self, f: impl Fn(&Dataset) -> CliResult<Dataset>) -> CliResult<Splits> {
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

/// Reads every source of `[data]` (paths already resolved) and splits as configured.
pub fn load_splits(cfg: &LoadedConfig) -> CliResult<Splits> {
    let data = &cfg.config.data;
    let load =
        |role: &str, src: &Source| load_source(Some(&cfg.name), src.format_in(data), role, src);
    let parts = data
        .train
        .0
        .iter()
        .map(|s| load("train", s))
        .collect::<CliResult<Vec<_>>>()?;
    let base = join(cfg, parts)?;
    if base.is_empty() {
        return Err(cfg.error("[data] train", "the training source holds no examples"));
    }
    let mut splits = match &data.split {
        None => Splits {
            train: base,
            train_dev: None,
            dev: data.dev.as_ref().map(|s| load("dev", s)).transpose()?,
            test: data.test.as_ref().map(|s| load("test", s)).transpose()?,
        },
        Some(split) => {
            for (name, ratio, source) in [
                ("dev", split.dev, &data.dev),
                ("test", split.test, &data.test),
            ] {
                if ratio > 0.0 && source.is_some() {
                    return Err(cfg.error(
                        "[data] split",
                        format!(
                            "{name} = {ratio} takes a {name} set out of the training source, but \
                             [data] {name} gives one too: set the ratio to 0 or remove [data] {name}"
                        ),
                    ));
                }
            }
            let parts = split
                .split(&base, &mut Rng::new(data.seed))
                .map_err(|e| cfg.error("[data] split", e))?;
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
                dev: own("dev", split.dev, parts.dev, &data.dev)?,
                test: own("test", split.test, parts.test, &data.test)?,
            }
        }
    };
    if splits.train.is_empty() {
        return Err(cfg.error("[data] split", "the training split is empty"));
    }
    for set in [&mut splits.train_dev, &mut splits.dev, &mut splits.test] {
        if set.as_ref().is_some_and(Dataset::is_empty) {
            *set = None;
        }
    }
    harmonize(cfg, data, &mut splits)?;
    Ok(splits)
}

/// The examples of several training sources in order, as one set: same example shape and
/// kind of labels; class names the longest list when the others are its prefix.
fn join(cfg: &LoadedConfig, mut parts: Vec<Dataset>) -> CliResult<Dataset> {
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    let first = &parts[0];
    let mut names: Vec<String> = Vec::new();
    let mut indices = Vec::new();
    for (i, d) in parts.iter().enumerate() {
        if d.feature_shape() != first.feature_shape() {
            return Err(cfg.error(
                &format!("[data] train[{i}]"),
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
            return Err(cfg.error(
                &format!("[data] train[{i}]"),
                "a list of training sources needs class labels",
            ));
        };
        if own_names.starts_with(&names) {
            names = own_names.clone();
        } else if !names.starts_with(own_names) {
            return Err(cfg.error(
                &format!("[data] train[{i}]"),
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
    Ok(Dataset::classification(x, indices, names)?)
}

/// Gives every set the same class names: the longest list when the others are its prefix
/// (a test file without the last class), or the config's `class_names`.
fn harmonize(cfg: &LoadedConfig, data: &DataConfig, splits: &mut Splits) -> CliResult<()> {
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
            return Err(cfg.error(
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
                return Err(cfg.error(
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
    let relabel = |d: &Dataset| -> CliResult<Dataset> {
        match &d.y {
            Labels::Classes { indices, .. } => Ok(Dataset::classification(
                d.x.clone(),
                indices.clone(),
                names.clone(),
            )?),
            Labels::Targets(_) => Ok(d.clone()),
        }
    };
    *splits = splits.map(relabel)?;
    Ok(())
}

/// An input error about `field` of the config (or file) called `name`.
fn err(name: &str, field: &str, msg: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{name}: {field}: {msg}"))
}

fn only(
    name: &str,
    field: &str,
    format: DataFormat,
    src: &Source,
    allowed: &[&str],
) -> CliResult<()> {
    let set = [
        ("x", src.x.is_some()),
        ("y", src.y.is_some()),
        ("labels", src.labels.is_some()),
        ("label", src.label.is_some()),
        ("header", src.header.is_some()),
        ("resize", src.resize.is_some()),
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
                name,
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

/// Reads one source. `name` is the config that describes it (errors of the readers then
/// name the config's field too), or `None` for a file given on the command line.
pub fn load_source(
    name: Option<&str>,
    format: DataFormat,
    role: &str,
    src: &Source,
) -> CliResult<Dataset> {
    let field = format!("[data] {role}");
    let path = &src.path;
    let rd = |e: dlkit_data::Error| match name {
        Some(n) => err(n, &field, e),
        None => CliError::from(e),
    };
    let name = name.unwrap_or("command line");
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
    Ok(match format {
        DataFormat::H5 => {
            only(name, &field, format, src, &["x", "y"])?;
            let x = src.x.clone().unwrap_or_else(|| format!("{role}_set_x"));
            let y = src.y.clone().unwrap_or_else(|| format!("{role}_set_y"));
            load_course_h5(path, &x, &y)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::Idx => {
            only(name, &field, format, src, &["labels"])?;
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
            only(name, &field, format, src, &["label", "header"])?;
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
                only(name, &field, format, src, &["x", "y"])?;
                let x = read_npz(path, src.x.as_deref().unwrap_or("x")).map_err(rd)?;
                let y = read_npz(path, src.y.as_deref().unwrap_or("y")).map_err(rd)?;
                let (xt, yl) = (x.to_tensor().map_err(rd)?, y.to_labels().map_err(rd)?);
                labelled(path, xt, yl, &y.shape, path)?
            } else {
                only(name, &field, format, src, &["labels"])?;
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
            only(name, &field, format, src, &["resize"])?;
            let opts = ImageFolderOptions { resize: src.resize };
            load_image_folder_with(path, &opts)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::SignsFolder => {
            only(name, &field, format, src, &["resize"])?;
            let opts = ImageFolderOptions { resize: src.resize };
            load_signs_folder_with(path, &opts)
                .and_then(Dataset::try_from)
                .map_err(rd)?
        }
        DataFormat::Generated => load_generated(name, &field, src, rd)?,
        DataFormat::Mat => {
            only(name, &field, format, src, &["x", "y"])?;
            let table = load_mat_xy(
                path,
                src.x.as_deref().unwrap_or("X"),
                src.y.as_deref().unwrap_or("y"),
            )
            .map_err(rd)?;
            Dataset::classification(table.x, table.y, table.classes).map_err(rd)?
        }
    })
}

/// A source of format "generated": its `generate` table run, no file read.
fn load_generated(
    name: &str,
    field: &str,
    src: &Source,
    rd: impl Fn(dlkit_data::Error) -> CliError,
) -> CliResult<Dataset> {
    only(name, field, DataFormat::Generated, src, &["generate"])?;
    let generator = src.generate.as_ref().ok_or_else(|| {
        err(
            name,
            field,
            "format \"generated\" needs `generate = { type = \"circles\", n = 300, noise = \
             0.05, seed = 1 }` (types: flower, circles, moons)",
        )
    })?;
    if !src.path.as_os_str().is_empty() {
        return Err(err(
            name,
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
) -> CliResult<Dataset> {
    let one_per_example = match y_shape {
        [_] => true,
        [a, b] => *a == 1 || *b == 1,
        _ => false,
    };
    if !one_per_example {
        return Err(CliError::input(format!(
            "{}: labels of shape {y_shape:?}; expected one class index per example ([m] or [m, 1])",
            y_file.display()
        )));
    }
    let m = x.shape().first().copied().unwrap_or(0);
    if y.len() != m {
        return Err(CliError::input(format!(
            "{} holds {m} examples but {} holds {} labels; the counts must agree",
            x_file.display(),
            y_file.display(),
            y.len()
        )));
    }
    let n = y.iter().max().map_or(0, |&k| k + 1);
    Ok(Dataset::classification(
        x,
        y,
        (0..n).map(|k| k.to_string()).collect(),
    )?)
}

/// How to read a labelled data file given on the command line without a config.
pub fn guess_source(path: &Path) -> CliResult<(DataFormat, Source)> {
    let mut src = Source {
        path: path.to_path_buf(),
        ..Source::default()
    };
    if !path.exists() {
        return Err(CliError::input(format!(
            "{}: file not found",
            path.display()
        )));
    }
    if path.is_dir() {
        let has_subdirs = std::fs::read_dir(path)
            .map_err(|e| crate::error::read_error(path, e))?
            .flatten()
            .any(|e| e.path().is_dir());
        let format = if has_subdirs {
            DataFormat::ImageFolder
        } else {
            DataFormat::SignsFolder
        };
        return Ok((format, src));
    }
    let name = lowercase_name(path);
    let format = match extension(&name) {
        "h5" | "hdf5" => {
            let names = list_h5_datasets(path)?;
            src.x = Some(pick(path, &names, &["_x", "x"])?);
            src.y = Some(pick(path, &names, &["_y", "y"])?);
            DataFormat::H5
        }
        "csv" => {
            src.header = Some(if looks_like_sklearn(path) {
                CsvHeader::Sklearn
            } else {
                CsvHeader::Names
            });
            DataFormat::Csv
        }
        "npz" => DataFormat::Npy,
        "mat" => DataFormat::Mat,
        _ if name.contains("idx") => DataFormat::Idx,
        "npy" => {
            return Err(CliError::input(format!(
                "{}: an .npy file holds no labels; give --config with a [data] section \
                 naming the labels file, or an .npz with arrays x and y",
                path.display()
            )))
        }
        _ => {
            return Err(CliError::input(format!(
                "{}: cannot tell the data format from the name; expected .h5, .csv, .npz, \
                 .mat, an IDX file or a folder of images (or give --config)",
                path.display()
            )))
        }
    };
    Ok((format, src))
}

/// The one dataset name ending in one of `suffixes` (case-insensitively).
fn pick(file: &Path, names: &[String], suffixes: &[&str]) -> CliResult<String> {
    let hits: Vec<&String> = names
        .iter()
        .filter(|n| {
            let n = n.to_lowercase();
            suffixes.iter().any(|s| n.ends_with(s))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(CliError::input(format!(
            "{}: cannot tell which dataset holds the {} (it has: {}); give --config with \
             [data] x and y",
            file.display(),
            if suffixes[0] == "_x" {
                "inputs"
            } else {
                "labels"
            },
            names.join(", ")
        ))),
    }
}

/// Whether a CSV file starts with scikit-learn's `n_samples,n_features,...` line.
fn looks_like_sklearn(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(first);
    let fields: Vec<&str> = line.trim().split(',').collect();
    fields.len() >= 3
        && fields[0].trim().parse::<usize>().is_ok()
        && fields[1].trim().parse::<usize>().is_ok()
}

/// Inputs for `dlkit predict`: examples without labels, and a name for each (the file name
/// of an image, else its index).
pub struct Inputs {
    pub x: Tensor,
    pub names: Vec<String>,
}

/// Reads the inputs of `path` for a model whose raw examples have shape `raw_shape`: an image
/// file or a folder of images (resized to the model's height and width), an `.h5` file (the
/// dataset ending in `_x`, or `x_name`), an `.npy` / `.npz` array, a CSV table of numbers (a
/// header row is skipped; a last column beyond the features is taken as labels and dropped),
/// an IDX image file or a MAT-file's `X`.
pub fn load_inputs(path: &Path, raw_shape: &[usize], x_name: Option<&str>) -> CliResult<Inputs> {
    if !path.exists() {
        return Err(CliError::input(format!(
            "{}: file not found",
            path.display()
        )));
    }
    let resize = match raw_shape {
        [h, w, 3] => Some([*h, *w]),
        _ => None,
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| crate::error::read_error(path, e))?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        let images: Vec<PathBuf> = files.into_iter().filter(|p| is_image(p)).collect();
        let has_subdirs = std::fs::read_dir(path)
            .map_err(|e| crate::error::read_error(path, e))?
            .flatten()
            .any(|e| e.path().is_dir());
        if images.is_empty() && has_subdirs {
            let d: Dataset =
                load_image_folder_with(path, &ImageFolderOptions { resize })?.try_into()?;
            let m = d.len();
            return Ok(Inputs {
                x: d.x,
                names: (0..m).map(|i| i.to_string()).collect(),
            });
        }
        if images.is_empty() {
            return Err(CliError::input(format!(
                "{}: no .jpg, .jpeg or .png images in the folder",
                path.display()
            )));
        }
        return images_to_inputs(&images, resize);
    }
    if is_image(path) {
        return images_to_inputs(&[path.to_path_buf()], resize);
    }
    let name = lowercase_name(path);
    let mut x = match extension(&name) {
        "h5" | "hdf5" => {
            let x_name = match x_name {
                Some(n) => n.to_string(),
                None => pick(path, &list_h5_datasets(path)?, &["_x", "x"])?,
            };
            read_h5_dataset(path, &x_name)?.to_tensor()?
        }
        "npy" => read_npy(path)?.to_tensor()?,
        "npz" => read_npz(path, x_name.unwrap_or("x"))?.to_tensor()?,
        "mat" => dlkit_data::read_mat_variable(path, x_name.unwrap_or("X"))?.to_tensor()?,
        "csv" => read_numeric_csv(path, raw_shape.iter().product())?,
        _ if name.contains("idx") => dlkit_data::load_idx_images(path)?,
        _ => {
            return Err(CliError::input(format!(
                "{}: cannot tell the input format from the name; expected an image (.jpg, \
                 .png), a folder of images, .h5, .npy, .npz, .csv, .mat or an IDX file",
                path.display()
            )))
        }
    };
    // One example without its batch axis.
    if x.shape() == raw_shape {
        let mut shape = vec![1];
        shape.extend_from_slice(raw_shape);
        x = x.reshape(&shape);
    }
    // IDX images come as [m, h, w, 1]; a model trained on flattened rows still takes them.
    let m = x.shape().first().copied().unwrap_or(0);
    Ok(Inputs {
        x,
        names: (0..m).map(|i| i.to_string()).collect(),
    })
}

/// The file's name in lowercase.
fn lowercase_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// A file name's extension under a `.gz` (`train.csv.gz` gives `csv`).
fn extension(name: &str) -> &str {
    name.trim_end_matches(".gz")
        .rsplit('.')
        .next()
        .unwrap_or("")
}

fn is_image(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_lowercase().as_str()))
}

fn images_to_inputs(files: &[PathBuf], resize: Option<[usize; 2]>) -> CliResult<Inputs> {
    let mut values = Vec::new();
    let mut size = None;
    for f in files {
        let (pixels, hw) = load_image_rgb(f, resize)?;
        match size {
            None => size = Some(hw),
            Some(s) if s != hw => {
                return Err(CliError::input(format!(
                    "{}: image of {}x{} pixels, but the first image has {}x{}; give images of \
                     one size or a model with a known input size",
                    f.display(),
                    hw[0],
                    hw[1],
                    s[0],
                    s[1]
                )))
            }
            Some(_) => {}
        }
        values.extend(pixels.into_iter().map(f32::from));
    }
    let [h, w] = size.unwrap_or([0, 0]);
    Ok(Inputs {
        x: Tensor::from_vec(values, &[files.len(), h, w, 3]),
        names: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
    })
}

/// A CSV of numbers, one example per row: a first row that is not all numbers is a header;
/// with `features + 1` columns the last one (labels) is dropped.
fn read_numeric_csv(path: &Path, features: usize) -> CliResult<Tensor> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::error::read_error(path, e))?;
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Vec<f32>, _> = line.split(',').map(|f| f.trim().parse()).collect();
        match parsed {
            Ok(row) => rows.push(row),
            Err(_) if i == 0 => continue,
            Err(e) => {
                return Err(CliError::input(format!(
                    "{}: line {}: not a row of numbers ({e})",
                    path.display(),
                    i + 1
                )))
            }
        }
    }
    let Some(width) = rows.first().map(Vec::len) else {
        return Err(CliError::input(format!(
            "{}: no rows of numbers",
            path.display()
        )));
    };
    let keep = if width == features + 1 {
        features
    } else {
        width
    };
    let mut values = Vec::with_capacity(rows.len() * keep);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(CliError::input(format!(
                "{}: row {} has {} fields but the first has {width}",
                path.display(),
                i + 1,
                row.len()
            )));
        }
        values.extend_from_slice(&row[..keep]);
    }
    Ok(Tensor::from_vec(values, &[rows.len(), keep]))
}

//! Telling how to read a file given alone (no config): from its name, its first line, or
//! the datasets it holds.

use std::path::Path;

use crate::config::{CsvHeader, DataFormat, Source};
use crate::error::{Error, Result};
use crate::list_h5_datasets;
use crate::load::{invalid, read_error};
use crate::IMAGE_EXTENSIONS;

/// How to read a labelled data file given without a config: a folder with subfolders is an
/// image folder (one subfolder per class), one without a SIGNS folder; `.h5` takes the one
/// dataset ending in `_x`/`x` and the one ending in `_y`/`y`; `.csv` a header row (or
/// scikit-learn's first line); `.npz` arrays `x` and `y`; `.mat` variables `X` and `y`; a
/// name containing `idx` MNIST's IDX pair.
pub fn guess_source(path: &Path) -> Result<(DataFormat, Source)> {
    let mut src = Source {
        path: path.to_path_buf(),
        ..Source::default()
    };
    if !path.exists() {
        return Err(Error::NotFound {
            file: path.to_path_buf(),
        });
    }
    if path.is_dir() {
        let format = if has_subdirs(path)? {
            DataFormat::ImageFolder
        } else {
            DataFormat::SignsFolder
        };
        return Ok((format, src));
    }
    let name = lowercase_name(path);
    let format =
        match extension(&name) {
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
                return Err(invalid(
                    path,
                    "an .npy file holds no labels; give --config with a [data] section naming the \
                 labels file, or an .npz with arrays x and y",
                ))
            }
            _ => return Err(invalid(
                path,
                "cannot tell the data format from the name; expected .h5, .csv, .npz, .mat, an \
                 IDX file or a folder of images (or give --config)",
            )),
        };
    Ok((format, src))
}

/// Whether the folder holds a subfolder.
pub(crate) fn has_subdirs(dir: &Path) -> Result<bool> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| read_error(dir, e))?
        .flatten()
        .any(|e| e.path().is_dir()))
}

/// The one dataset name ending in one of `suffixes` (case-insensitively).
pub(crate) fn pick(file: &Path, names: &[String], suffixes: &[&str]) -> Result<String> {
    let hits: Vec<&String> = names
        .iter()
        .filter(|n| {
            let n = n.to_lowercase();
            suffixes.iter().any(|s| n.ends_with(s))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(invalid(
            file,
            format!(
                "cannot tell which dataset holds the {} (it has: {}); give --config with [data] \
                 x and y",
                if suffixes[0] == "_x" {
                    "inputs"
                } else {
                    "labels"
                },
                names.join(", ")
            ),
        )),
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

/// The file's name in lowercase.
pub(crate) fn lowercase_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// A file name's extension under a `.gz` (`train.csv.gz` gives `csv`).
pub(crate) fn extension(name: &str) -> &str {
    name.trim_end_matches(".gz")
        .rsplit('.')
        .next()
        .unwrap_or("")
}

/// Whether `path` is a file with an image extension (any case).
pub(crate) fn is_image(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_lowercase().as_str()))
}

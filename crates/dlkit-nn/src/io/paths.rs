//! Where the two files of a saved model are, and reading them.

use super::{DESCRIPTION_FILE, WEIGHTS_FILE};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where the two files of a saved model are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPaths {
    /// The description (`model.json`).
    pub description: PathBuf,
    /// The weights (`model.safetensors`).
    pub weights: PathBuf,
}

impl ModelPaths {
    /// `dir/model.json` + `dir/model.safetensors` for a folder; `stem.json` +
    /// `stem.safetensors` for a path ending in `.json` or `.safetensors`.
    pub fn resolve(path: impl AsRef<Path>) -> ModelPaths {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") | Some("safetensors") => ModelPaths {
                description: path.with_extension("json"),
                weights: path.with_extension("safetensors"),
            },
            _ => ModelPaths {
                description: path.join(DESCRIPTION_FILE),
                weights: path.join(WEIGHTS_FILE),
            },
        }
    }

    /// The weights file for [`load_weights_into`]: `path` itself when it is a file that is
    /// not a description, otherwise as [`ModelPaths::resolve`].
    pub(crate) fn weights_of(path: &Path) -> PathBuf {
        let is_json = path.extension().is_some_and(|e| e == "json");
        if path.is_file() && !is_json {
            path.to_path_buf()
        } else {
            ModelPaths::resolve(path).weights
        }
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_a_folder_or_a_stem() {
        let p = ModelPaths::resolve("runs/cat");
        assert_eq!(p.description, Path::new("runs/cat/model.json"));
        assert_eq!(p.weights, Path::new("runs/cat/model.safetensors"));
        let p = ModelPaths::resolve("runs/cat.safetensors");
        assert_eq!(p.description, Path::new("runs/cat.json"));
        let p = ModelPaths::resolve("runs/cat.json");
        assert_eq!(p.weights, Path::new("runs/cat.safetensors"));
    }
}

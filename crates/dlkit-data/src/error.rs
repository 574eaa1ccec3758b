//! Errors of the dataset readers: each names the file and the dataset or field at fault.

use std::path::PathBuf;

/// The error type of every reader in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file does not exist.
    #[error("{}: file not found", file.display())]
    NotFound { file: PathBuf },
    /// The file exists but could not be read (permissions, a directory, ...).
    #[error("{}: cannot read the file: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the expected format at all (no HDF5 signature, say).
    #[error("{}: not {format} file: {detail}", file.display())]
    WrongFormat {
        file: PathBuf,
        /// The format that was expected, with its article ("an HDF5").
        format: &'static str,
        detail: String,
    },
    /// The file is shorter than its own header says: a partial download or copy.
    /// `expected` is the length the header gives, `None` when the file ends inside the header.
    #[error(
        "{}: the file is truncated: {}; download or copy it again",
        file.display(),
        truncation(*expected, *actual)
    )]
    Truncated {
        file: PathBuf,
        expected: Option<u64>,
        actual: u64,
    },
    /// The file has the right signature but its structure could not be decoded.
    #[error("{}: {}malformed or unsupported HDF5 content: {detail}", file.display(), in_dataset(dataset))]
    Malformed {
        file: PathBuf,
        dataset: Option<String>,
        detail: String,
    },
    /// No dataset of that name; `available` lists the datasets the file does have.
    #[error("dataset '{dataset}' not found in {}; it has: {}", file.display(), list(available))]
    MissingDataset {
        file: PathBuf,
        dataset: String,
        available: Vec<String>,
    },
    /// The dataset's element type cannot be used for what it was asked for.
    #[error(
        "{}: dataset '{dataset}' has element type {found}, which is not supported here; \
         expected {expected}",
        file.display()
    )]
    UnsupportedDtype {
        file: PathBuf,
        dataset: String,
        found: String,
        expected: String,
    },
    /// The dataset's shape is not the one expected.
    #[error("{}: dataset '{dataset}' has shape {shape:?}; expected {expected}", file.display())]
    BadShape {
        file: PathBuf,
        dataset: String,
        shape: Vec<usize>,
        expected: String,
    },
    /// The inputs and the labels hold different numbers of examples.
    #[error(
        "{}: dataset '{x_name}' holds {x_count} examples but '{y_name}' holds {y_count} labels; \
         the counts must agree",
        file.display()
    )]
    CountMismatch {
        file: PathBuf,
        x_name: String,
        x_count: usize,
        y_name: String,
        y_count: usize,
    },
    /// One element of a dataset has a value that is not allowed (a negative label, say).
    #[error(
        "{}: dataset '{dataset}' element {index} is {value}; expected {expected}",
        file.display()
    )]
    BadValue {
        file: PathBuf,
        dataset: String,
        index: usize,
        value: String,
        expected: String,
    },
    /// The data could not be turned into a tensor.
    #[error("{}: dataset '{dataset}': {source}", file.display())]
    Tensor {
        file: PathBuf,
        dataset: String,
        #[source]
        source: Box<dlkit_core::Error>,
    },
    /// An argument or configuration value that is not allowed, for data held in memory
    /// (split ratios that do not sum to 1, a batch size of 0, a label outside the class
    /// list, a standardizer fitted on another number of features, ...). `context` names the
    /// function or config field, `detail` what was found and what was expected.
    #[error("{context}: {detail}")]
    Invalid { context: String, detail: String },
}

fn in_dataset(dataset: &Option<String>) -> String {
    match dataset {
        Some(d) => format!("dataset '{d}': "),
        None => String::new(),
    }
}

fn truncation(expected: Option<u64>, actual: u64) -> String {
    match expected {
        Some(e) => format!("its header says it is {e} bytes long but it has {actual} bytes"),
        None => format!("it ends after {actual} bytes, inside the HDF5 header"),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "no datasets".to_string();
    }
    names.join(", ")
}

/// The result type of every reader in this crate.
pub type Result<T> = std::result::Result<T, Error>;

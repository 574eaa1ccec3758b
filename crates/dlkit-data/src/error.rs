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
    /// A field of a config's `[data]` that cannot be used: `config` names the config (its
    /// path), `field` the table and field (`[data] train`), `message` what is wrong.
    #[error("{config}: {field}: {message}")]
    Config {
        config: String,
        field: String,
        message: String,
    },
    /// The file does not start with the magic number (signature) its format requires: the
    /// wrong file, or a file of another kind.
    #[error("{}: not {format} file: expected the magic number {expected}, found {found}", file.display())]
    BadMagic {
        file: PathBuf,
        /// The format that was expected, with its article ("an IDX image").
        format: &'static str,
        expected: String,
        found: String,
    },
    /// The file (or, for a compressed file, its decompressed content) ends before the data
    /// its own header announces: a partial download or copy.
    #[error(
        "{}: the file is truncated: {what} needs {expected} bytes but only {actual} are there; \
         download or copy it again",
        file.display()
    )]
    TruncatedData {
        file: PathBuf,
        /// What the bytes were needed for ("the header's 60000 images of 28x28 u8").
        what: String,
        expected: u64,
        actual: u64,
    },
    /// The content is damaged: a compressed stream that does not decompress, a checksum that
    /// does not match, a structure that contradicts itself.
    #[error("{}: corrupt {format} data: {detail}", file.display())]
    Corrupt {
        file: PathBuf,
        /// The format or layer at fault ("gzip", "MAT-file", "NPY").
        format: &'static str,
        detail: String,
    },
    /// The content is valid but uses a feature this reader does not support.
    #[error("{}: unsupported {format} content: {detail}", file.display())]
    Unsupported {
        file: PathBuf,
        format: &'static str,
        detail: String,
    },
    /// Two files that must describe the same examples hold different numbers of them.
    #[error(
        "{} holds {x_count} examples but {} holds {y_count} labels; the counts must agree",
        x_file.display(),
        y_file.display()
    )]
    FileCountMismatch {
        x_file: PathBuf,
        x_count: usize,
        y_file: PathBuf,
        y_count: usize,
    },
    /// A table has no column of that name; `available` lists the header's columns.
    #[error("{}: no column '{column}'; the header has: {}", file.display(), columns(available))]
    MissingColumn {
        file: PathBuf,
        column: String,
        available: Vec<String>,
    },
    /// One field of a table does not hold what its column needs (a number, a known class).
    #[error(
        "{}: line {line} (example {row}), column '{column}': '{value}' is not {expected}",
        file.display()
    )]
    BadField {
        file: PathBuf,
        /// The line of the file the record starts on, counting from 1.
        line: u64,
        /// The example's index among the data rows, counting from 0.
        row: usize,
        column: String,
        value: String,
        expected: String,
    },
    /// A line of a table is malformed as a whole (wrong number of fields, invalid UTF-8, a
    /// header that does not say what it must).
    #[error("{}: line {line}: {detail}", file.display())]
    BadRow {
        file: PathBuf,
        line: u64,
        detail: String,
    },
    /// An image file could not be opened or decoded.
    #[error("{}: cannot decode the image: {detail}", file.display())]
    Image { file: PathBuf, detail: String },
    /// An image's size differs from the first image's, and no resize was asked for.
    #[error(
        "{}: the image is {}x{} (height x width) but {} is {}x{}; every image must have the \
         same size, or ask for a resize",
        file.display(),
        found[0],
        found[1],
        first.display(),
        expected[0],
        expected[1]
    )]
    ImageSize {
        file: PathBuf,
        /// `[height, width]` of this image.
        found: [usize; 2],
        /// `[height, width]` of the first image.
        expected: [usize; 2],
        /// The first image, whose size the others must have.
        first: PathBuf,
    },
    /// A folder holds no images (or no class subfolders) where some are needed.
    #[error("{}: no images found: {detail}", dir.display())]
    NoImages { dir: PathBuf, detail: String },
    /// A file name does not carry the label it must (SIGNS: `3_IMG_6045.jpg` is class 3).
    #[error("{}: the file name does not start with {expected}", file.display())]
    BadFileName { file: PathBuf, expected: String },
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

fn columns(names: &[String]) -> String {
    if names.is_empty() {
        return "no columns".to_string();
    }
    names.join(", ")
}

/// The result type of every reader in this crate.
pub type Result<T> = std::result::Result<T, Error>;

//! The CLI's one error type: a message and whether the input or the run is at fault.
//!
//! `main` prints every error as `error: <message>` and exits with [`CliError::exit_code`]:
//! 2 for bad input (a config, a data file, a model file, arguments), 1 for a failure while
//! running (a cost that became NaN, a file that cannot be written).

use std::fmt;
use std::path::Path;

/// What went wrong, worded for the person at the terminal.
#[derive(Debug)]
pub enum CliError {
    /// The input is wrong: a config field, a data or model file, an argument. Exit code 2.
    Input(String),
    /// The run failed on good input: training diverged, a write failed. Exit code 1.
    Runtime(String),
}

impl CliError {
    pub fn input(msg: impl Into<String>) -> Self {
        CliError::Input(msg.into())
    }

    pub fn runtime(msg: impl Into<String>) -> Self {
        CliError::Runtime(msg.into())
    }

    /// 2 for bad input, 1 for a runtime failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }

    /// The same error with `context: ` before its message.
    pub fn context(self, context: impl fmt::Display) -> Self {
        match self {
            CliError::Input(m) => CliError::Input(format!("{context}: {m}")),
            CliError::Runtime(m) => CliError::Runtime(format!("{context}: {m}")),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) | CliError::Runtime(m) => f.write_str(m),
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// Readers' errors name the file and dataset already: bad input.
impl From<dlkit_data::Error> for CliError {
    fn from(e: dlkit_data::Error) -> Self {
        CliError::Input(e.to_string())
    }
}

/// Model errors: building, model files and hyperparameters are input; a failing tensor op
/// mid-run is a runtime failure.
impl From<dlkit_nn::Error> for CliError {
    fn from(e: dlkit_nn::Error) -> Self {
        match e {
            dlkit_nn::Error::Tensor(_) => CliError::Runtime(e.to_string()),
            _ => CliError::Input(e.to_string()),
        }
    }
}

impl From<dlkit_train::TrainError> for CliError {
    fn from(e: dlkit_train::TrainError) -> Self {
        use dlkit_train::TrainError;
        match e {
            TrainError::Data(d) => d.into(),
            TrainError::Model(m) => m.into(),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

impl From<dlkit_train::metrics::MetricError> for CliError {
    fn from(e: dlkit_train::metrics::MetricError) -> Self {
        CliError::Input(e.to_string())
    }
}

impl From<dlkit_train::plots::PlotError> for CliError {
    fn from(e: dlkit_train::plots::PlotError) -> Self {
        CliError::Runtime(e.to_string())
    }
}

/// An I/O failure reading `path`: a missing file is bad input.
pub fn read_error(path: &Path, e: std::io::Error) -> CliError {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            CliError::input(format!("{}: file not found", path.display()))
        }
        _ => CliError::input(format!("{}: cannot read: {e}", path.display())),
    }
}

/// An I/O failure writing `path`.
pub fn write_error(path: &Path, e: impl fmt::Display) -> CliError {
    CliError::runtime(format!("{}: cannot write: {e}", path.display()))
}

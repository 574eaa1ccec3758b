//! The CLI's one error type: a message and whether the input or the run is at fault.
//!
//! `main` prints every error as `error: <message>` and exits with [`CliError::exit_code`]:
//! 2 for bad input (a config, a data file, a model file, arguments), 1 for a failure while
//! running (a cost that became NaN, a file that cannot be written).

use std::fmt;

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

/// The library says whether the input or the run is at fault.
impl From<dlkit_train::TrainError> for CliError {
    fn from(e: dlkit_train::TrainError) -> Self {
        if e.is_bad_input() {
            CliError::Input(e.to_string())
        } else {
            CliError::Runtime(e.to_string())
        }
    }
}

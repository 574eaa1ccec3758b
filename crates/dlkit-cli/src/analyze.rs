//! `dlkit summary` and `dlkit errors`: a model's layers and costs, a run's errors.

use std::path::Path;

use dlkit_train::error_analysis::{analyze_errors, ErrorSet};
use dlkit_train::summary::summarize_path;

use crate::error::CliResult;

/// `dlkit summary CONFIG_OR_MODEL`.
pub fn summary(path: &Path) -> CliResult<()> {
    print!("{}", summarize_path(path)?);
    Ok(())
}

/// `dlkit errors RUN [--n N] [--set dev|test]`.
pub fn errors(run: &Path, n: usize, set: Option<ErrorSet>) -> CliResult<()> {
    print!("{}", analyze_errors(run, n, set)?);
    Ok(())
}

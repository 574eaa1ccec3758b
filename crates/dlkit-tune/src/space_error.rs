//! The error of a `[tune]` table that cannot be used: a search space, a sampler or pruner
//! setting, or a parameter path the base config does not have.

/// A `[tune]` field that cannot be used. `field` names the table and field
/// (`[tune] trials`, `[tune.sampler]`, `[tune.params] "optimizer.lr"`), `message` what is
/// wrong and what was expected. The caller puts the file's name in front.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpaceError {
    pub field: String,
    pub message: String,
}

impl SpaceError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> SpaceError {
        SpaceError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error about the search-space entry of `path`: `[tune.params] "optimizer.lr"`.
    pub fn param(path: &str, message: impl Into<String>) -> SpaceError {
        SpaceError::new(format!("[tune.params] {path:?}"), message)
    }
}

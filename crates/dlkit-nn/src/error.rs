//! Errors of model building, training steps and model files.

/// The error type of dlkit-nn.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor op failed (its message names the op and shapes).
    #[error(transparent)]
    Tensor(#[from] dlkit_core::Error),
    /// A model description that cannot be built: the message names the layers involved.
    #[error("model: {0}")]
    Build(String),
    /// A model or weights file that cannot be read or written.
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    /// Hyperparameters out of range (optimiser, schedule): the message names the field.
    #[error("config: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn build(msg: impl Into<String>) -> Self {
        Error::Build(msg.into())
    }

    pub(crate) fn file(path: &std::path::Path, msg: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.display().to_string(),
            msg: msg.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

//! Errors of a training run, an experiment and the files around it.
//!
//! [`TrainError::is_bad_input`] tells bad input (a config field, a data or model file: the
//! person must change something) from a failure while running on good input (a cost that
//! became NaN, a file that cannot be written).

use std::path::PathBuf;

use crate::metrics::MetricError;
use crate::plots::PlotError;

/// Why a training run stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] dlkit_nn::Error),
    #[error(transparent)]
    Data(#[from] dlkit_data::Error),
    /// The cost became NaN or infinite.
    #[error(
        "the cost became {cost} at epoch {epoch}, iteration {iteration} (learning rate {lr}): \
         the learning rate is probably too large for this model and data; try a smaller one \
         (e.g. {smaller}), standardised inputs, or gradient clipping{kept}"
    )]
    NonFinite {
        epoch: usize,
        iteration: usize,
        cost: f64,
        lr: f64,
        smaller: f64,
        kept: String,
    },
    /// A callback ended the run.
    #[error("{0}")]
    Callback(String),
    /// A checkpoint that cannot be written, read or does not fit the run.
    #[error("checkpoint {path}: {msg}")]
    Checkpoint { path: String, msg: String },
    /// A config field that cannot be used: `config` names the config (its path), `field` the
    /// table and field (`[train] epochs`), `message` what is wrong.
    #[error("{config}: {field}: {message}")]
    Config {
        config: String,
        field: String,
        message: String,
    },
    /// Other bad input, the message naming the file: a config that is not TOML, a model
    /// folder that is not there, data whose labels the model does not know.
    #[error("{0}")]
    Input(String),
    /// A file of a run folder that cannot be written.
    #[error("{}: cannot write: {detail}", path.display())]
    Write { path: PathBuf, detail: String },
    /// A metric that cannot be computed from the given labels.
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// A figure that cannot be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A failure on good input, worded in full (a gradient check that does not pass).
    #[error("{0}")]
    Runtime(String),
    /// `source` while doing `context` (`"gradient check: ..."`).
    #[error("{context}: {source}")]
    Context {
        context: String,
        source: Box<TrainError>,
    },
}

impl TrainError {
    /// Whether the input is at fault (a config, a data or model file), rather than the run.
    /// Model errors are bad input except a tensor op failing mid-run.
    pub fn is_bad_input(&self) -> bool {
        match self {
            TrainError::Model(dlkit_nn::Error::Tensor(_)) => false,
            TrainError::Model(_)
            | TrainError::Data(_)
            | TrainError::Config { .. }
            | TrainError::Input(_)
            | TrainError::Metric(_) => true,
            TrainError::Context { source, .. } => source.is_bad_input(),
            TrainError::NonFinite { .. }
            | TrainError::Checkpoint { .. }
            | TrainError::Write { .. }
            | TrainError::Plot(_)
            | TrainError::Runtime(_)
            | TrainError::Callback(_) => false,
        }
    }

    /// The same error with `context: ` before its message.
    pub fn context(self, context: impl Into<String>) -> TrainError {
        TrainError::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// An I/O failure writing `path`.
    pub fn write(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> TrainError {
        TrainError::Write {
            path: path.into(),
            detail: e.to_string(),
        }
    }

    /// An I/O failure reading `path`: a missing file is `path: file not found`.
    pub fn read(path: &std::path::Path, e: std::io::Error) -> TrainError {
        match e.kind() {
            std::io::ErrorKind::NotFound => {
                TrainError::Input(format!("{}: file not found", path.display()))
            }
            _ => TrainError::Input(format!("{}: cannot read: {e}", path.display())),
        }
    }
}

pub type TrainResult<T> = std::result::Result<T, TrainError>;

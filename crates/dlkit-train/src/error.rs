//! Errors of a training run.

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
}

pub type TrainResult<T> = std::result::Result<T, TrainError>;

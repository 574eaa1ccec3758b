//! dlkit-train: what surrounds training a dlkit model.
//!
//! - [`metrics`]: accuracy, precision, recall, F1 (binary and macro), confusion matrices, and
//!   the course's optimizing and satisficing metrics.
//! - [`diagnose`]: the ML-strategy diagnosis (avoidable bias, variance, data mismatch,
//!   overfitting to dev) with the course's remedies.
//! - [`plots`]: cost and accuracy curves, confusion-matrix heat maps and decision boundaries
//!   as PNG or SVG, drawn with a font shipped in the crate (no system fonts needed).
//! - [`trainer`]: the [`Trainer`] that runs epochs and [`Callback`]s around a user-implemented
//!   [`TrainStep`] with named (module, optimiser) groups, and [`fit`], the classifier loop
//!   with schedules, penalties, augmentation, early stopping and NaN guard; [`checkpoint`]:
//!   exact-resume checkpoints of every group; [`evaluate()`].
//! - [`atomic`]: files written whole or not at all (temporary file + rename).
//! - [`config`]: the TOML config of a run ([`LoadedConfig`]); [`experiment`]: a config made
//!   into data, model and optimiser and trained in-process ([`Experiment`], [`Outcome`]);
//!   [`run_writer`]: the run folder's files; [`predictor`]: a saved model used to predict
//!   and evaluate ([`Predictor`]); [`gradcheck`]: the config's model gradient-checked;
//!   [`transfer`]: `[model] from`, the saved model a run starts from.
//! - [`summary`]: a model's layers, shapes, parameters and FLOPs from a config or a saved
//!   model; [`error_analysis`]: a run's most confidently misclassified examples drawn
//!   ([`error_grid`]) and its most frequent confusions.

pub mod checkpoint;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod error_analysis;
pub mod error_grid;
pub mod evaluate;
pub mod experiment;
pub mod gradcheck;
pub mod history;
pub mod metrics;
pub mod outcome;
pub mod plots;
pub mod predictor;
pub mod run_writer;
pub mod summary;
pub mod trainer;
pub mod transfer;
mod validate;

pub use config::{Config, LoadedConfig, MetricsConfig, TrainConfig};
pub use error::{TrainError, TrainResult};
pub use evaluate::{evaluate, Evaluation, LogitsModule};
pub use experiment::{Experiment, ExperimentOptions};
pub use gradcheck::{Gradcheck, GradcheckOptions, GradcheckReport};
pub use history::{EpochRecord, History};
pub use outcome::{Outcome, SetResult};
pub use predictor::{LabelledEvaluation, Predictor, TrainingMetadata};
pub use trainer::{
    fit, Callback, ClassifierStep, Control, EarlyStopping, EpochHook, Group, Monitor, StepOutput,
    TrainSettings, TrainStep, Trainer,
};

//! Training: a [`Trainer`] runs epochs of shuffled mini-batches, the learning-rate schedule
//! and [`Callback`]s around a [`TrainStep`] that users implement (Keras' `train_step`); the
//! step owns named (module, optimiser) [`Group`]s that checkpoints store by name.
//!
//! - [`fit`]: today's classifier loop ([`ClassifierStep`]) with schedules, penalties,
//!   augmentation, early stopping, checkpoints and NaN guard.
//! - Built-in callbacks: [`Progress`], [`EarlyStopping`], [`Checkpoints`], [`NanGuard`], and
//!   [`EpochHook`], a closure after each epoch.
//!
//! Every random choice of an epoch (the batch order, dropout masks, a step's own draws) comes
//! from generators seeded by `(seed, epoch)`, so a run resumed from the checkpoint after
//! epoch k repeats epochs k+1.. exactly as an uninterrupted run does.

mod callback;
mod checkpoints;
mod classifier;
mod early_stopping;
mod epoch_hook;
mod fit;
mod fit_loop;
pub mod groups;
mod nan_guard;
mod progress;
mod settings;
mod step;

pub use callback::{BatchEnd, Callback, Control, Run};
pub use checkpoints::Checkpoints;
pub use classifier::ClassifierStep;
pub use epoch_hook::{EpochFn, EpochHook};
pub use fit::fit;
pub use fit_loop::Trainer;
pub use groups::{group_seed, Group};
pub use nan_guard::NanGuard;
pub use progress::Progress;
pub use settings::{EarlyStopping, Monitor, TrainSettings};
pub use step::{StepOutput, TrainStep};

//! dlkit-train: what surrounds training a dlkit model.
//!
//! - [`metrics`]: accuracy, precision, recall, F1 (binary and macro), confusion matrices, and
//!   the course's optimizing and satisficing metrics.

pub mod metrics;

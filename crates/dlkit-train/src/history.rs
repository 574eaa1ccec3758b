//! What a run records: the cost every N iterations and, per epoch, the cost, learning rate,
//! train and dev accuracy and time.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One epoch's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Mean training cost over the epoch's mini-batches (weighted by batch size), with the
    /// regularisation term.
    pub cost: f64,
    pub learning_rate: f64,
    /// Accuracy over the epoch's mini-batches, each predicted in training mode before its
    /// update (as Keras reports it): no second pass over the training set. The accuracy of
    /// the final weights is [`evaluate`](crate::evaluate())'s.
    pub train_accuracy: Option<f64>,
    pub dev_cost: Option<f64>,
    pub dev_accuracy: Option<f64>,
    pub seconds: f64,
    /// A training step's further figures by name (its
    /// [`StepOutput::metrics`](crate::trainer::StepOutput::metrics)), each the epoch's mean
    /// weighted by batch size; empty (and not serialised) for the classifier.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

/// The record of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// `(iteration, cost)` every `record_every` iterations.
    pub iterations: Vec<(usize, f64)>,
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were kept (early stopping), if any.
    pub best_epoch: Option<usize>,
    /// True when a callback (early stopping) ended the run before the last epoch.
    pub stopped_early: bool,
}

//! Evaluating a model on a dataset: the cost and, for classifiers, the predicted classes.

use dlkit_core::{no_grad, Tensor};
use dlkit_data::{Dataset, Labels};
use dlkit_nn::{Loss, Module, Result, Sequential, Targets};

/// Examples per forward pass when evaluating (bounds memory, not results).
const EVAL_BATCH: usize = 1024;

/// The cost and predictions of a model on a dataset.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The mean loss over the examples (no regularisation term).
    pub cost: f64,
    /// Predicted class per example (empty for regression).
    pub predictions: Vec<usize>,
    /// Fraction of correct predictions (`None` for regression).
    pub accuracy: Option<f64>,
}

/// A module whose output ends in a sigmoid or softmax that the fused, stable losses take
/// apart: [`LogitsModule::forward_logits`] is the output before it (the whole output for a
/// module without one).
pub trait LogitsModule: Module {
    fn forward_logits(&self, x: &Tensor) -> Result<Tensor>;
}

impl LogitsModule for Sequential {
    fn forward_logits(&self, x: &Tensor) -> Result<Tensor> {
        Sequential::forward_logits(self, x)
    }
}

/// The loss's targets for a batch of labels.
pub fn targets(labels: &Labels) -> Targets<'_> {
    match labels.class_indices() {
        Some(indices) => Targets::Indices(indices),
        None => Targets::Dense(labels.targets().expect("labels are classes or targets")),
    }
}

/// Classes from logits: `z > 0` for one output unit (σ(z) > 0.5), the argmax otherwise.
pub fn classes_from_logits(logits: &Tensor) -> Vec<usize> {
    match logits.shape() {
        [_] | [_, 1] => logits
            .to_vec_f64()
            .iter()
            .map(|&z| usize::from(z > 0.0))
            .collect(),
        _ => logits.argmax_indices(-1),
    }
}

/// Runs the model (in its current mode) over `data` in chunks without recording the graph.
pub fn evaluate<M: LogitsModule + ?Sized>(
    model: &M,
    data: &Dataset,
    loss: Loss,
) -> Result<Evaluation> {
    no_grad(|| {
        let m = data.len();
        let (mut total, mut predictions) = (0.0, Vec::with_capacity(m));
        for start in (0..m).step_by(EVAL_BATCH) {
            let idx: Vec<usize> = (start..(start + EVAL_BATCH).min(m)).collect();
            let batch = data
                .select(&idx)
                .map_err(|e| dlkit_nn::Error::Build(e.to_string()))?;
            let logits = model.forward_logits(&batch.x)?;
            total += loss.compute(&logits, targets(&batch.y))?.item() * idx.len() as f64;
            if batch.y.class_indices().is_some() {
                predictions.extend(classes_from_logits(&logits));
            }
        }
        let accuracy = data.y.class_indices().map(|truth| {
            let hits = truth
                .iter()
                .zip(&predictions)
                .filter(|(t, p)| t == p)
                .count();
            hits as f64 / m.max(1) as f64
        });
        Ok(Evaluation {
            cost: total / m.max(1) as f64,
            predictions,
            accuracy,
        })
    })
}

//! The classifier's training step (what [`fit`](super::fit) runs): optional augmentation,
//! forward to the logits, the loss plus an optional L1/L2 penalty, backward, one optimiser
//! step; evaluation is [`evaluate()`](crate::evaluate()) on the dev set.

use super::groups::Group;
use super::step::{StepOutput, TrainStep};
use crate::error::{TrainError, TrainResult};
use crate::evaluate::{classes_from_logits, evaluate, targets, Evaluation, LogitsModule};
use dlkit_core::Rng;
use dlkit_data::{epoch_seed, AugmentConfig, Batch, Dataset};
use dlkit_nn::{Loss, Optimizer, Param, Reduction, Regularizer};

/// One model (group `"model"`) trained on a loss of its logits by one optimiser.
pub struct ClassifierStep<'a, M: LogitsModule> {
    model: &'a mut M,
    optimizer: &'a mut dyn Optimizer,
    loss: Loss,
    reduction: Reduction,
    regularizer: Option<Regularizer>,
    augment: Option<AugmentConfig>,
    /// The model's parameters, for the penalty.
    params: Vec<Param>,
    /// The augmentation stream, restarted each epoch from `(seed ^ 0xA06_0E7, epoch)`.
    augment_rng: Rng,
}

impl<'a, M: LogitsModule> ClassifierStep<'a, M> {
    pub fn new(model: &'a mut M, optimizer: &'a mut dyn Optimizer, loss: Loss) -> Self {
        let params = model.parameters();
        ClassifierStep {
            model,
            optimizer,
            loss,
            reduction: Reduction::Mean,
            regularizer: None,
            augment: None,
            params,
            augment_rng: Rng::new(0),
        }
    }

    /// Reduces each batch's loss as `reduction` says: `Mean` (default) or `Sum`; `None` makes
    /// every step an error (the cost must be a scalar).
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Adds `penalty(params, batch size)` to every batch's cost.
    pub fn with_regularizer(mut self, regularizer: Option<Regularizer>) -> Self {
        self.regularizer = regularizer;
        self
    }

    /// Augments every training batch.
    pub fn with_augment(mut self, augment: Option<AugmentConfig>) -> Self {
        self.augment = augment;
        self
    }
}

impl<M: LogitsModule> TrainStep for ClassifierStep<'_, M> {
    fn groups(&mut self) -> Vec<Group<'_>> {
        vec![Group::new("model", &mut *self.model, &mut *self.optimizer)]
    }

    fn on_epoch_start(&mut self, epoch: usize, seed: u64) -> TrainResult<()> {
        self.augment_rng = Rng::new(epoch_seed(seed ^ 0xA06_0E7, epoch as u64));
        Ok(())
    }

    /// A batch whose cost is not finite is reported without an update (the NaN guard then
    /// ends the run with the weights of the last good step).
    fn train_step(&mut self, batch: &Batch) -> TrainResult<StepOutput> {
        let x = match &self.augment {
            Some(a) => a.apply(&batch.x, &mut self.augment_rng)?,
            None => batch.x.clone(),
        };
        let logits = self.model.forward_logits(&x)?;
        let correct = batch.y.class_indices().map(|truth| {
            let predicted = classes_from_logits(&logits);
            truth.iter().zip(&predicted).filter(|(t, p)| t == p).count()
        });
        if self.reduction == Reduction::None {
            return Err(TrainError::Input(
                "loss reduction \"none\" gives one loss per example, but a training step \
                 needs a scalar cost: use \"mean\" or \"sum\""
                    .into(),
            ));
        }
        let mut cost = self
            .loss
            .compute_reduced(&logits, targets(&batch.y), self.reduction)?;
        if let Some(r) = &self.regularizer {
            cost = cost.add(&r.penalty(&self.params, batch.len())?);
        }
        let c = cost.item();
        if c.is_finite() {
            self.optimizer.zero_grad();
            cost.backward();
            self.optimizer.step();
        }
        Ok(StepOutput {
            cost: c,
            correct,
            metrics: Vec::new(),
        })
    }

    fn evaluate(&mut self, data: &Dataset) -> TrainResult<Option<Evaluation>> {
        Ok(Some(evaluate(&*self.model, data, self.loss)?))
    }
}

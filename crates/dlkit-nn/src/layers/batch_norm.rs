//! Batch normalisation (Ioffe & Szegedy, 2015) over every axis but the last: a dense input
//! `[m, n]` is normalised over the batch, an NHWC activation `[m, h, w, c]` over `m, h, w`,
//! one mean and variance per feature (channel).
//!
//! Training, with `N` the number of values per feature:
//!
//! ```text
//! μ  = (1/N) Σ x            σ² = (1/N) Σ (x - μ)²        (biased batch variance)
//! x̂  = (x - μ) / √(σ² + ε)  y  = γ x̂ + β
//! running_mean = momentum · running_mean + (1 - momentum) · μ
//! running_var  = momentum · running_var  + (1 - momentum) · σ²   (· N/(N-1) if unbiased)
//! ```
//!
//! Evaluation: `y = γ (x - running_mean) / √(running_var + ε) + β`.
//!
//! A frozen layer (`trainable = false`, [`Module::set_trainable`]) always runs as in
//! evaluation, even while the model trains: it normalises with the running statistics and
//! leaves them unchanged, as Keras' frozen `BatchNormalization` does. PyTorch differs:
//! `requires_grad = False` on γ and β still normalises with batch statistics and updates the
//! running ones in `train()` mode; one calls `.eval()` on the layer as well.
//!
//! Conventions: `momentum` weighs the *old* running value, as in the course's exponentially
//! weighted averages and Keras (`momentum = 0.9` here, 0.99 in Keras); PyTorch's `momentum`
//! weighs the *new* batch value, so PyTorch's 0.1 is `momentum = 0.9` here. The running
//! variance is the biased batch variance by default (course, Keras); `unbiased_running_var`
//! stores `σ² · N/(N-1)` as PyTorch does. The batch itself is always normalised with the
//! biased `σ²`. `momentum_pytorch = μ` switches to PyTorch's convention as a whole
//! (`torch.nn.BatchNorm*d(momentum=μ)`, default 0.1 there):
//!
//! ```text
//! running_mean = (1 - μ) · running_mean + μ · mean
//! running_var  = (1 - μ) · running_var  + μ · σ² · N/(N-1)     (the unbiased batch variance)
//! ```
//!
//! It replaces `momentum` (which must then stay at its default) and implies the unbiased
//! running variance. `ε = 1e-5` by default (PyTorch; Keras uses 1e-3). Running statistics start at
//! mean 0 and variance 1.
//!
//! The forward is one fused op over the rows of channels (`Tensor::try_batch_norm_train`,
//! `Tensor::try_batch_norm_inference`), whose backward is
//! `dx = (γ / (N √(σ² + ε))) (N dy - Σ dy - x̂ Σ dy ⊙ x̂)`, `dγ = Σ dy ⊙ x̂`, `dβ = Σ dy`
//! in training and `dx = γ dy / √(σ²_run + ε)` with given statistics.

use crate::error::{Error, Result};
use crate::module::Module;
use crate::param::{Param, ParamKind};
use crate::spec::{is_trainable, trainable, BuildContext, Built, LayerSpec};
use dlkit_core::{no_grad, with_dtype, DType, Tensor};
use serde::{Deserialize, Serialize};

/// `{ type = "batch_norm" }`, with optional `momentum` (0.9), `epsilon` (1e-5),
/// `unbiased_running_var` (false), `momentum_pytorch` (unset: PyTorch's momentum, weighing the
/// batch, with the unbiased running variance) and `trainable` (true; false freezes γ, β and
/// the running statistics).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormSpec {
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default)]
    pub unbiased_running_var: bool,
    /// PyTorch's momentum μ, the weight of the *batch* statistic:
    /// `running = (1 - μ) running + μ batch`, variance unbiased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum_pytorch: Option<f64>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

fn default_momentum() -> f64 {
    0.9
}

fn default_epsilon() -> f64 {
    1e-5
}

impl Default for BatchNormSpec {
    fn default() -> Self {
        BatchNormSpec {
            momentum: default_momentum(),
            epsilon: default_epsilon(),
            unbiased_running_var: false,
            momentum_pytorch: None,
            trainable: true,
        }
    }
}

impl BatchNormSpec {
    /// Checks `0 <= momentum <= 1`, `0 <= momentum_pytorch <= 1` (with `momentum` left at
    /// its default) and `epsilon > 0`.
    pub fn validate(&self) -> Result<()> {
        if let Some(mu) = self.momentum_pytorch {
            if !(0.0..=1.0).contains(&mu) {
                return Err(Error::build(format!(
                    "batch_norm needs 0 <= momentum_pytorch <= 1 (PyTorch's momentum, the \
                     weight of the batch statistic), got {mu}"
                )));
            }
            if self.momentum != default_momentum() {
                return Err(Error::build(format!(
                    "batch_norm takes `momentum` (dlkit's, the weight of the old running value) \
                     or `momentum_pytorch` (PyTorch's, the weight of the batch), not both; got \
                     momentum {} and momentum_pytorch {mu}",
                    self.momentum
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(Error::build(format!(
                "batch_norm needs 0 <= momentum <= 1 (the weight of the old running value; \
                 PyTorch's momentum 0.1 is 0.9 here), got {}",
                self.momentum
            )));
        }
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(Error::build(format!(
                "batch_norm needs a finite epsilon > 0, got {}",
                self.epsilon
            )));
        }
        Ok(())
    }

    /// The output shape for one example of shape `input`: `input` itself, which needs at
    /// least one axis (the features, last); the settings are checked too.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.is_empty() {
            return Err(Error::build(
                "batch_norm needs examples with at least one axis (features last)",
            ));
        }
        self.validate()?;
        Ok(input.to_vec())
    }

    /// The number of parameters for an input that [`BatchNormSpec::output_shape`] accepts:
    /// γ and β, one each per feature (the running statistics are buffers, not parameters).
    pub(crate) fn parameter_count(&self, input: &[usize]) -> usize {
        2 * input[input.len() - 1]
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(input)?;
        let features = input[input.len() - 1];
        let layer = BatchNorm::new(features, self.clone(), ctx.dtype)?;
        Ok((Box::new(layer), out))
    }
}

/// Batch normalisation over all axes but the last, with learnable `gamma` (scale, init 1) and
/// `beta` (shift, init 0) and running statistics as buffers.
pub struct BatchNorm {
    pub gamma: Param,
    pub beta: Param,
    running_mean: Tensor,
    running_var: Tensor,
    spec: BatchNormSpec,
    training: bool,
}

impl BatchNorm {
    /// A layer in training mode for `features` features: γ = 1, β = 0, running mean 0,
    /// running variance 1.
    pub fn new(features: usize, spec: BatchNormSpec, dtype: DType) -> Result<Self> {
        Self::from_tensors(
            Tensor::ones(&[features], dtype),
            Tensor::zeros(&[features], dtype),
            spec,
        )
    }

    /// A layer with given `gamma` and `beta` (both `[features]`, one dtype), frozen when
    /// `spec.trainable` is false.
    pub fn from_tensors(gamma: Tensor, beta: Tensor, spec: BatchNormSpec) -> Result<Self> {
        spec.validate()?;
        if gamma.rank() != 1 || gamma.shape() != beta.shape() || gamma.dtype() != beta.dtype() {
            return Err(Error::build(format!(
                "batch_norm needs gamma and beta of one shape [features] and one dtype, got \
                 {:?} {} and {:?} {}",
                gamma.shape(),
                gamma.dtype(),
                beta.shape(),
                beta.dtype()
            )));
        }
        let (n, dtype) = (gamma.shape()[0], gamma.dtype());
        let layer = BatchNorm {
            gamma: Param::new("gamma", gamma, ParamKind::Scale),
            beta: Param::new("beta", beta, ParamKind::Shift),
            running_mean: Tensor::zeros(&[n], dtype),
            running_var: Tensor::ones(&[n], dtype),
            spec,
            training: true,
        };
        if !layer.spec.trainable {
            layer.set_trainable(false);
        }
        Ok(layer)
    }

    /// The number of features (the size of the last axis).
    pub fn features(&self) -> usize {
        self.gamma.tensor.shape()[0]
    }

    pub fn settings(&self) -> &BatchNormSpec {
        &self.spec
    }

    /// Whether the layer is in training mode. A frozen layer in training mode still
    /// normalises as in evaluation (see [`BatchNorm::uses_batch_statistics`]).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Whether the forward normalises with the batch's statistics and updates the running
    /// ones: in training mode, unless the layer is frozen (γ and β both not trainable).
    pub fn uses_batch_statistics(&self) -> bool {
        self.training && (self.gamma.trainable() || self.beta.trainable())
    }

    /// The running mean: a handle on the layer's own storage, which every training forward
    /// updates in place (read it with `to_vec_f64`).
    pub fn running_mean(&self) -> &Tensor {
        &self.running_mean
    }

    pub fn running_var(&self) -> &Tensor {
        &self.running_var
    }

    /// Overwrites the running statistics (each `[features]`, the layer's dtype).
    pub fn set_running_stats(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        self.running_mean.try_assign(mean)?;
        self.running_var.try_assign(var)?;
        Ok(())
    }

    /// Checks `x` is a batch `[m, ..., features]`.
    fn check_features(&self, x: &Tensor) -> Result<()> {
        let c = self.features();
        if x.rank() < 2 || x.shape()[x.rank() - 1] != c {
            return Err(dlkit_core::Error::ShapeMismatch {
                op: "batch_norm",
                lhs: x.shape().to_vec(),
                rhs: vec![c],
                detail: format!("needs a batch [m, ..., {c}] with the {c} features last"),
            }
            .into());
        }
        Ok(())
    }

    /// `running = momentum · running + (1 - momentum) · batch`, in place, untracked (or
    /// PyTorch's form, see the module documentation).
    fn update_running(&self, mean: &Tensor, var: &Tensor, count: usize) {
        if let Some(mu) = self.spec.momentum_pytorch {
            return self.update_running_pytorch(mu, mean, var, count);
        }
        let mom = self.spec.momentum;
        let correction = if self.spec.unbiased_running_var {
            count as f64 / (count - 1) as f64
        } else {
            1.0
        };
        let ewa = |running: &Tensor, batch: &Tensor, scale: f64| {
            let batch = batch.to_vec_f64();
            with_dtype!(running.dtype(), T => running.update::<T>(|r| {
                for (r, &b) in r.iter_mut().zip(&batch) {
                    *r = T::of(mom * r.f64() + (1.0 - mom) * scale * b);
                }
            }));
        };
        ewa(&self.running_mean, mean, 1.0);
        ewa(&self.running_var, var, correction);
    }

    /// `running = (1 - μ) · running + μ · batch`, the variance unbiased (`· N/(N-1)`).
    fn update_running_pytorch(&self, mu: f64, mean: &Tensor, var: &Tensor, count: usize) {
        let unbiased = count as f64 / (count - 1) as f64;
        let ewa = |running: &Tensor, batch: &Tensor, scale: f64| {
            let batch = batch.to_vec_f64();
            with_dtype!(running.dtype(), T => running.update::<T>(|r| {
                for (r, &b) in r.iter_mut().zip(&batch) {
                    *r = T::of((1.0 - mu) * r.f64() + mu * (scale * b));
                }
            }));
        };
        ewa(&self.running_mean, mean, 1.0);
        ewa(&self.running_var, var, unbiased);
    }
}

impl Module for BatchNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_features(x)?;
        let (gamma, beta) = (&self.gamma.tensor, &self.beta.tensor);
        let epsilon = self.spec.epsilon;
        if !self.uses_batch_statistics() {
            let (mean, var) = (&self.running_mean, &self.running_var);
            return Ok(x.try_batch_norm_inference(gamma, beta, mean, var, epsilon)?);
        }
        let count = x.numel() / self.features().max(1);
        if count < 2 {
            return Err(dlkit_core::Error::Invalid {
                op: "batch_norm",
                msg: format!(
                    "training needs more than one value per feature, got input {:?}; use a \
                     larger batch, or evaluation mode",
                    x.shape()
                ),
            }
            .into());
        }
        let out = x.try_batch_norm_train(gamma, beta, epsilon)?;
        let (y, mean, var) = (out.y, out.mean, out.var);
        no_grad(|| self.update_running(&mean, &var, count));
        Ok(y)
    }

    fn own_parameters(&self) -> Vec<Param> {
        vec![self.gamma.clone(), self.beta.clone()]
    }

    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".into(), self.running_mean.clone()),
            ("running_var".into(), self.running_var.clone()),
        ]
    }

    fn set_own_training(&mut self, training: bool) {
        self.training = training;
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::BatchNorm(BatchNormSpec {
            trainable: self.trainable(),
            ..self.spec.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated() {
        let bad = |spec: BatchNormSpec| BatchNorm::new(3, spec, DType::F32).err().unwrap();
        let e = bad(BatchNormSpec {
            momentum: 1.5,
            ..Default::default()
        });
        assert!(e.to_string().contains("momentum"), "{e}");
        let e = bad(BatchNormSpec {
            epsilon: 0.0,
            ..Default::default()
        });
        assert!(e.to_string().contains("epsilon"), "{e}");
    }

    #[test]
    fn wrong_feature_count_is_an_error() {
        let bn = BatchNorm::new(3, BatchNormSpec::default(), DType::F64).unwrap();
        let e = bn.forward(&Tensor::zeros(&[4, 5], DType::F64)).unwrap_err();
        assert!(e.to_string().contains("features last"), "{e}");
        let e = bn.forward(&Tensor::zeros(&[1, 3], DType::F64)).unwrap_err();
        assert!(e.to_string().contains("more than one value"), "{e}");
    }

    #[test]
    fn training_output_is_normalised() {
        let bn = BatchNorm::new(2, BatchNormSpec::default(), DType::F64).unwrap();
        let x = Tensor::from_vec(vec![1.0, 10.0, 3.0, 20.0, 5.0, 60.0], &[3, 2]);
        let y = bn.forward(&x).unwrap();
        let mean = y.mean(&[0], false).to_vec::<f64>();
        let var = y.square().mean(&[0], false).to_vec::<f64>();
        for c in 0..2 {
            assert!(mean[c].abs() < 1e-12);
            assert!((var[c] - 1.0).abs() < 1e-4, "{var:?}");
        }
    }
}

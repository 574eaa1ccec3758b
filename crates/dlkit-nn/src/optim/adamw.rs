//! AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as `torch.optim.AdamW`.

use super::adam::AdamRule;
use super::{optimizer_common, Stepper};
use crate::param::Param;

/// AdamW, PyTorch's form:
///
/// ```text
/// w := w − α λ w                  (decoupled decay, on the kinds in decay_on)
/// t += 1
/// v = β₁ v + (1 − β₁) g          v̂ = v / (1 − β₁ᵗ)
/// s = β₂ s + (1 − β₂) g²         ŝ = s / (1 − β₂ᵗ)
/// w := w − α v̂ / (√ŝ + ε)
/// ```
///
/// The decay multiplies the weights before the Adam update and never enters `v` or `s`
/// (Adam's `weight_decay` adds `λ w` to `g` instead). Defaults as PyTorch's: α = 0.001,
/// β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 0.01, with [`AdamW::amsgrad`] as [`super::Adam`]'s.
/// PyTorch decays every parameter of a group; dlkit decays the kinds in `decay_on`, weights
/// only by default (`decay_on(&[Weight, Bias, Scale, Shift])` gives PyTorch's behaviour).
/// Here the shared `weight_decay` builder sets this decoupled λ.
pub struct AdamW {
    inner: Stepper<AdamRule>,
}

impl AdamW {
    /// AdamW over `params` with learning rate `lr`, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and
    /// weight decay λ = 0.01.
    pub fn new(params: Vec<Param>, lr: f64) -> Self {
        let mut inner = Stepper::new(params, lr, AdamRule::new(true));
        inner.opts.weight_decay = 0.01;
        AdamW { inner }
    }

    /// The decay rates β₁ (first moment) and β₂ (second moment).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.inner.rule.beta1 = beta1;
        self.inner.rule.beta2 = beta2;
        self
    }

    /// ε in the denominator (outside the root, as PyTorch).
    pub fn eps(mut self, eps: f64) -> Self {
        self.inner.rule.eps = eps;
        self
    }

    /// AMSGrad: the denominator uses the largest second moment so far (default off).
    pub fn amsgrad(mut self, on: bool) -> Self {
        self.inner.set_rule(|r| r.amsgrad = on);
        self
    }
}

optimizer_common!(AdamW, "adamw");

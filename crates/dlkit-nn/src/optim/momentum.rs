//! Gradient descent with momentum, in the course's form or PyTorch's.

use super::{optimizer_common, zeros_like, Rule, Stepper};
use crate::param::Param;
use dlkit_core::storage::Storage;
use dlkit_core::Element;
use serde::{Deserialize, Serialize};

/// Which momentum update to use; the two agree up to a rescaling of α by `1/(1 − β)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentumForm {
    /// The course's exponentially weighted average `v = β v + (1 − β) g; w := w − α v`
    /// (no bias correction, as the course advises).
    #[default]
    Course,
    /// PyTorch's `SGD(momentum=μ)` with no dampening: `v = μ v + g; w := w − α v`
    /// (the first step gives `v = g`).
    Pytorch,
}

/// Gradient descent with momentum: `v = β v + (1 − β) g; w := w − α v` by default
/// (β = 0.9 as the course suggests); see [`MomentumForm`] for PyTorch's form.
pub struct Momentum {
    inner: Stepper<MomentumRule>,
}

pub(crate) struct MomentumRule {
    beta: f64,
    form: MomentumForm,
}

impl Rule for MomentumRule {
    type State = Storage;

    fn init(&self, p: &Param) -> Storage {
        zeros_like(p)
    }

    fn apply<T: Element>(&self, v: &mut Storage, lr: f64, w: &mut [T], g: &[T]) {
        let (lr, beta) = (T::of(lr), T::of(self.beta));
        let damp = match self.form {
            MomentumForm::Course => T::of(1.0 - self.beta),
            MomentumForm::Pytorch => T::one(),
        };
        let v = v.slice_mut::<T>();
        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
            *v = beta * *v + damp * g;
            *w -= lr * *v;
        }
    }
}

impl Momentum {
    /// Momentum over `params` with learning rate `lr`, β = 0.9, the course's form.
    pub fn new(params: Vec<Param>, lr: f64) -> Self {
        let rule = MomentumRule {
            beta: 0.9,
            form: MomentumForm::Course,
        };
        Momentum {
            inner: Stepper::new(params, lr, rule),
        }
    }

    /// The momentum coefficient β (μ in PyTorch's form).
    pub fn beta(mut self, beta: f64) -> Self {
        self.inner.rule.beta = beta;
        self
    }

    /// The course's form (default) or PyTorch's.
    pub fn form(mut self, form: MomentumForm) -> Self {
        self.inner.rule.form = form;
        self
    }
}

optimizer_common!(Momentum, "momentum");

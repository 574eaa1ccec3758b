//! PyTorch's `SGD` with momentum, dampening and Nesterov momentum.

use super::{optimizer_common, zeros_like, BufferMut, Rule, StateBuffers, Stepper};
use crate::param::Param;
use dlkit_core::storage::Storage;
use dlkit_core::Element;

/// `torch.optim.SGD(momentum=μ, dampening=d, nesterov=…)`:
///
/// ```text
/// b = g                          on the first step
/// b = μ b + (1 − d) g            afterwards
/// u = g + μ b  (Nesterov)   or   u = b
/// w := w − α u
/// ```
///
/// With `d = 0` and no Nesterov this is [`super::Momentum`]'s `MomentumForm::Pytorch`. The
/// course's form `v = β v + (1 − β) g` is not this one with `d = β` (PyTorch starts `b` at
/// `g`, not `(1 − d) g`): use [`super::Momentum`] for it. Nesterov needs `μ > 0` and `d = 0`,
/// as PyTorch requires; the config checks it.
pub struct SgdMomentum {
    inner: Stepper<SgdMomentumRule>,
}

pub(crate) struct SgdMomentumRule {
    momentum: f64,
    dampening: f64,
    nesterov: bool,
}

/// The momentum buffer and the number of steps taken (the first step sets `b = g`).
pub(crate) struct SgdMomentumState {
    b: Storage,
    t: i32,
}

impl StateBuffers for SgdMomentumState {
    fn buffers(&mut self) -> Vec<(&'static str, BufferMut<'_>)> {
        vec![
            ("b", BufferMut::Values(&mut self.b)),
            ("t", BufferMut::Count(&mut self.t)),
        ]
    }
}

impl Rule for SgdMomentumRule {
    type State = SgdMomentumState;

    fn init(&self, p: &Param) -> SgdMomentumState {
        SgdMomentumState {
            b: zeros_like(p),
            t: 0,
        }
    }

    fn apply<T: Element>(&self, st: &mut SgdMomentumState, lr: f64, w: &mut [T], g: &[T]) {
        let (lr, mu) = (T::of(lr), T::of(self.momentum));
        let keep = T::of(1.0 - self.dampening);
        let first = st.t == 0;
        st.t = st.t.saturating_add(1);
        let b = st.b.slice_mut::<T>();
        for ((w, b), &g) in w.iter_mut().zip(b.iter_mut()).zip(g) {
            *b = if first { g } else { mu * *b + keep * g };
            let u = if self.nesterov { g + mu * *b } else { *b };
            *w -= lr * u;
        }
    }
}

impl SgdMomentum {
    /// SGD over `params` with learning rate `lr` and momentum μ, no dampening, no Nesterov.
    pub fn new(params: Vec<Param>, lr: f64, momentum: f64) -> Self {
        let rule = SgdMomentumRule {
            momentum,
            dampening: 0.0,
            nesterov: false,
        };
        SgdMomentum {
            inner: Stepper::new(params, lr, rule),
        }
    }

    /// The dampening d: new gradients enter the buffer as `(1 − d) g` (default 0).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.inner.rule.dampening = dampening;
        self
    }

    /// Nesterov momentum: the step is `g + μ b` instead of `b` (default off).
    pub fn nesterov(mut self, on: bool) -> Self {
        self.inner.rule.nesterov = on;
        self
    }
}

optimizer_common!(SgdMomentum, "sgd_momentum");

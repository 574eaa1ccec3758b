//! RMSprop (Hinton's lecture 6e, as the course teaches it).

use super::{optimizer_common, zeros_like, EpsPlacement, Rule, Stepper};
use crate::param::Param;
use dlkit_core::storage::Storage;
use dlkit_core::Element;

/// RMSprop: `s = β s + (1 − β) g²; w := w − α g / (√s + ε)`, no bias correction.
///
/// Defaults: β = 0.9, ε = 1e-8 outside the square root. The cheat sheet calls the decay β₂
/// but gives it no value outside Adam; without Adam's bias correction a β of 0.999 would make
/// the first step about 30 times α (`√(1 − β) ≈ 0.03`), so dlkit takes Hinton's original and
/// Keras' 0.9 (PyTorch's `alpha` is 0.99: set [`RmsProp::beta`]). ε outside the root is the
/// course's lectures and PyTorch's; [`EpsPlacement::InsideSqrt`] gives the sheet's `√(s + ε)`.
pub struct RmsProp {
    inner: Stepper<RmsPropRule>,
}

pub(crate) struct RmsPropRule {
    beta: f64,
    eps: f64,
    placement: EpsPlacement,
}

impl Rule for RmsPropRule {
    type State = Storage;

    fn init(&self, p: &Param) -> Storage {
        zeros_like(p)
    }

    fn apply<T: Element>(&self, s: &mut Storage, lr: f64, w: &mut [T], g: &[T]) {
        let (lr, beta, eps) = (T::of(lr), T::of(self.beta), T::of(self.eps));
        let one_minus = T::of(1.0 - self.beta);
        let s = s.slice_mut::<T>();
        for ((w, s), &g) in w.iter_mut().zip(s.iter_mut()).zip(g) {
            *s = beta * *s + one_minus * g * g;
            *w -= lr * g * self.placement.inv_denom(*s, eps);
        }
    }
}

impl RmsProp {
    /// RMSprop over `params` with learning rate `lr` (the config's default is 0.001),
    /// β = 0.9, ε = 1e-8 outside the root.
    pub fn new(params: Vec<Param>, lr: f64) -> Self {
        let rule = RmsPropRule {
            beta: 0.9,
            eps: 1e-8,
            placement: EpsPlacement::OutsideSqrt,
        };
        RmsProp {
            inner: Stepper::new(params, lr, rule),
        }
    }

    /// The decay β of the squared average (β₂ in the course, `alpha` in PyTorch, `rho` in Keras).
    pub fn beta(mut self, beta: f64) -> Self {
        self.inner.rule.beta = beta;
        self
    }

    /// ε in the denominator.
    pub fn eps(mut self, eps: f64) -> Self {
        self.inner.rule.eps = eps;
        self
    }

    /// ε outside the square root (default) or inside.
    pub fn eps_placement(mut self, placement: EpsPlacement) -> Self {
        self.inner.rule.placement = placement;
        self
    }
}

optimizer_common!(RmsProp, "rmsprop");

//! RMSprop (Hinton's lecture 6e, as the course teaches it), optionally centred and with
//! momentum as `torch.optim.RMSprop`.

use super::{optimizer_common, zeros_like, BufferMut, EpsPlacement, Rule, StateBuffers, Stepper};
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
///
/// PyTorch's options (`torch.optim.RMSprop(alpha=β, centered=…, momentum=μ)`), both off by
/// default:
///
/// ```text
/// s = β s + (1 − β) g²
/// ḡ = β ḡ + (1 − β) g;   d = √(s − ḡ²) + ε     (centered)   or   d = √s + ε
/// b = μ b + g / d;       w := w − α b          (momentum μ > 0; b starts at 0)
/// w := w − α g / d                              (μ = 0)
/// ```
pub struct RmsProp {
    inner: Stepper<RmsPropRule>,
}

pub(crate) struct RmsPropRule {
    beta: f64,
    eps: f64,
    placement: EpsPlacement,
    momentum: f64,
    centered: bool,
}

/// The squared average, and PyTorch's optional gradient average and momentum buffer.
pub(crate) struct RmsPropState {
    s: Storage,
    g_avg: Option<Storage>,
    b: Option<Storage>,
}

impl StateBuffers for RmsPropState {
    fn buffers(&mut self) -> Vec<(&'static str, BufferMut<'_>)> {
        let mut out = vec![("v", BufferMut::Values(&mut self.s))];
        if let Some(g_avg) = &mut self.g_avg {
            out.push(("g_avg", BufferMut::Values(g_avg)));
        }
        if let Some(b) = &mut self.b {
            out.push(("b", BufferMut::Values(b)));
        }
        out
    }
}

impl Rule for RmsPropRule {
    type State = RmsPropState;

    fn init(&self, p: &Param) -> RmsPropState {
        RmsPropState {
            s: zeros_like(p),
            g_avg: self.centered.then(|| zeros_like(p)),
            b: (self.momentum > 0.0).then(|| zeros_like(p)),
        }
    }

    fn apply<T: Element>(&self, st: &mut RmsPropState, lr: f64, w: &mut [T], g: &[T]) {
        if st.g_avg.is_some() || st.b.is_some() {
            return self.apply_pytorch(st, lr, w, g);
        }
        let (lr, beta, eps) = (T::of(lr), T::of(self.beta), T::of(self.eps));
        let one_minus = T::of(1.0 - self.beta);
        let s = st.s.slice_mut::<T>();
        for ((w, s), &g) in w.iter_mut().zip(s.iter_mut()).zip(g) {
            *s = beta * *s + one_minus * g * g;
            *w -= lr * g * self.placement.inv_denom(*s, eps);
        }
    }
}

impl RmsPropRule {
    /// The centred and/or momentum update.
    fn apply_pytorch<T: Element>(&self, st: &mut RmsPropState, lr: f64, w: &mut [T], g: &[T]) {
        let (lr, beta, eps, mu) = (
            T::of(lr),
            T::of(self.beta),
            T::of(self.eps),
            T::of(self.momentum),
        );
        let one_minus = T::of(1.0 - self.beta);
        let s = st.s.slice_mut::<T>();
        let mut g_avg = st.g_avg.as_mut().map(|a| a.slice_mut::<T>());
        let mut b = st.b.as_mut().map(|b| b.slice_mut::<T>());
        for i in 0..w.len() {
            s[i] = beta * s[i] + one_minus * g[i] * g[i];
            let var = match g_avg.as_deref_mut() {
                Some(a) => {
                    a[i] = beta * a[i] + one_minus * g[i];
                    s[i] - a[i] * a[i]
                }
                None => s[i],
            };
            let step = g[i] * self.placement.inv_denom(var, eps);
            match b.as_deref_mut() {
                Some(b) => {
                    b[i] = mu * b[i] + step;
                    w[i] -= lr * b[i];
                }
                None => w[i] -= lr * step,
            }
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
            momentum: 0.0,
            centered: false,
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

    /// PyTorch's momentum μ on the scaled step `g / d` (default 0: none).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.inner.set_rule(|r| r.momentum = momentum);
        self
    }

    /// Centred RMSprop: divide by the root of the variance estimate `s − ḡ²` (default off).
    pub fn centered(mut self, on: bool) -> Self {
        self.inner.set_rule(|r| r.centered = on);
        self
    }
}

optimizer_common!(RmsProp, "rmsprop");

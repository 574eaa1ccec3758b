//! Adam (Kingma & Ba, 2015), with bias correction and optionally AMSGrad (Reddi et al., 2018).

use super::{optimizer_common, zeros_like, EpsPlacement, Rule, Stepper};
use crate::param::Param;
use dlkit_core::storage::Storage;
use dlkit_core::Element;
use rayon::prelude::*;

/// Parameters of at least this many elements are updated by all threads.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;
/// Elements per parallel chunk.
const CHUNK: usize = 1 << 13;

/// Adam:
///
/// ```text
/// t += 1
/// v = β₁ v + (1 − β₁) g          v̂ = v / (1 − β₁ᵗ)
/// s = β₂ s + (1 − β₂) g²         ŝ = s / (1 − β₂ᵗ)
/// w := w − α v̂ / (√ŝ + ε)
/// ```
///
/// Defaults α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (the paper's, the course's and
/// PyTorch's). ε is outside the root as in the paper, the course's assignment and PyTorch;
/// [`EpsPlacement::InsideSqrt`] gives the cheat sheet's `√(ŝ + ε)`. The step count t is kept
/// per parameter and advances only when the parameter is updated.
///
/// [`Adam::amsgrad`] keeps the largest second moment seen, as `torch.optim.Adam(amsgrad=True)`
/// does: `ŝ_max = max(ŝ_max, s)` on the raw (uncorrected) `s`, then
/// `w := w − α v̂ / (√(ŝ_max / (1 − β₂ᵗ)) + ε)`.
pub struct Adam {
    inner: Stepper<AdamRule>,
}

pub(crate) struct AdamRule {
    pub(crate) beta1: f64,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    pub(crate) placement: EpsPlacement,
    pub(crate) amsgrad: bool,
    /// AdamW's decoupled weight decay instead of L2 added to the gradient.
    pub(crate) decoupled: bool,
}

impl AdamRule {
    /// β₁ = 0.9, β₂ = 0.999, ε = 1e-8 outside the root, no AMSGrad.
    pub(crate) fn new(decoupled: bool) -> Self {
        AdamRule {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            placement: EpsPlacement::OutsideSqrt,
            amsgrad: false,
            decoupled,
        }
    }
}

/// First and second moment estimates, the step count, and AMSGrad's largest second moment.
pub(crate) struct AdamState {
    v: Storage,
    s: Storage,
    t: i32,
    s_max: Option<Storage>,
}

impl super::StateBuffers for AdamState {
    fn buffers(&mut self) -> Vec<(&'static str, super::BufferMut<'_>)> {
        use super::BufferMut::{Count, Values};
        let mut out = vec![
            ("v", Values(&mut self.v)),
            ("s", Values(&mut self.s)),
            ("t", Count(&mut self.t)),
        ];
        if let Some(s_max) = &mut self.s_max {
            out.push(("s_max", Values(s_max)));
        }
        out
    }
}

impl Rule for AdamRule {
    type State = AdamState;

    fn init(&self, p: &Param) -> AdamState {
        AdamState {
            v: zeros_like(p),
            s: zeros_like(p),
            t: 0,
            s_max: self.amsgrad.then(|| zeros_like(p)),
        }
    }

    fn decoupled_decay(&self) -> bool {
        self.decoupled
    }

    fn apply<T: Element>(&self, st: &mut AdamState, lr: f64, w: &mut [T], g: &[T]) {
        if st.s_max.is_some() {
            return self.apply_amsgrad(st, lr, w, g);
        }
        let (b1, b2, m1, m2, step, inv_c2, eps) = self.next_coefficients(st, lr);
        let n = w.len();
        let (v, s, g) = (
            &mut st.v.slice_mut::<T>()[..n],
            &mut st.s.slice_mut::<T>()[..n],
            &g[..n],
        );
        let placement = self.placement;
        // One loop per placement, so that each vectorises.
        let update = |w: &mut [T], v: &mut [T], s: &mut [T], g: &[T]| match placement {
            EpsPlacement::OutsideSqrt => {
                for i in 0..w.len() {
                    v[i] = b1 * v[i] + m1 * g[i];
                    s[i] = b2 * s[i] + m2 * g[i] * g[i];
                    w[i] -= step * v[i] / ((s[i] * inv_c2).sqrt() + eps);
                }
            }
            EpsPlacement::InsideSqrt => {
                for i in 0..w.len() {
                    v[i] = b1 * v[i] + m1 * g[i];
                    s[i] = b2 * s[i] + m2 * g[i] * g[i];
                    w[i] -= step * v[i] / (s[i] * inv_c2 + eps).sqrt();
                }
            }
        };
        if n >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
            // Element-wise: the same result in chunks on every thread, none left idle (an
            // idle worker spinning beside a serial update slowed it 2.4x on 2 cores).
            w.par_chunks_mut(CHUNK)
                .zip(v.par_chunks_mut(CHUNK))
                .zip(s.par_chunks_mut(CHUNK))
                .zip(g.par_chunks(CHUNK))
                .for_each(|(((w, v), s), g)| update(w, v, s, g));
        } else {
            update(w, v, s, g);
        }
    }
}

impl AdamRule {
    /// Advances the step count `t` and returns this step's `β₁, β₂, 1 - β₁, 1 - β₂`,
    /// `lr / (1 - β₁^t)`, `1 / (1 - β₂^t)` and `ε` in `T`.
    #[allow(clippy::type_complexity)]
    fn next_coefficients<T: Element>(&self, st: &mut AdamState, lr: f64) -> (T, T, T, T, T, T, T) {
        st.t = st.t.saturating_add(1);
        let c1 = 1.0 - self.beta1.powi(st.t);
        let c2 = 1.0 - self.beta2.powi(st.t);
        (
            T::of(self.beta1),
            T::of(self.beta2),
            T::of(1.0 - self.beta1),
            T::of(1.0 - self.beta2),
            T::of(lr / c1),
            T::of(1.0 / c2),
            T::of(self.eps),
        )
    }

    /// The AMSGrad update, serial: `ŝ_max = max(ŝ_max, s)` replaces `s` in the denominator.
    fn apply_amsgrad<T: Element>(&self, st: &mut AdamState, lr: f64, w: &mut [T], g: &[T]) {
        let (b1, b2, m1, m2, step, inv_c2, eps) = self.next_coefficients(st, lr);
        let s_max = st.s_max.as_mut().expect("AMSGrad state").slice_mut::<T>();
        let (v, s) = (st.v.slice_mut::<T>(), st.s.slice_mut::<T>());
        for i in 0..w.len() {
            v[i] = b1 * v[i] + m1 * g[i];
            s[i] = b2 * s[i] + m2 * g[i] * g[i];
            s_max[i] = s_max[i].max(s[i]);
            w[i] -= step * v[i] * self.placement.inv_denom(s_max[i] * inv_c2, eps);
        }
    }
}

impl Adam {
    /// Adam over `params` with learning rate `lr` (the config's default is 0.001),
    /// β₁ = 0.9, β₂ = 0.999, ε = 1e-8 outside the root.
    pub fn new(params: Vec<Param>, lr: f64) -> Self {
        Adam {
            inner: Stepper::new(params, lr, AdamRule::new(false)),
        }
    }

    /// The decay rates β₁ (first moment) and β₂ (second moment).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.inner.rule.beta1 = beta1;
        self.inner.rule.beta2 = beta2;
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

    /// AMSGrad: the denominator uses the largest second moment so far (default off).
    pub fn amsgrad(mut self, on: bool) -> Self {
        self.inner.set_rule(|r| r.amsgrad = on);
        self
    }
}

optimizer_common!(Adam, "adam");

//! Optimisers: plain gradient descent, momentum (the course's and PyTorch's `SGD` with
//! dampening and Nesterov), RMSprop (centred, with momentum), Adam and AdamW (both with
//! AMSGrad), PyTorch style.
//!
//! An optimiser is built over the parameters it updates (`model.parameters()`), and each
//! training step is `zero_grad()`, a forward pass, `loss.backward()`, then `step()`:
//!
//! ```
//! use dlkit_core::Tensor;
//! use dlkit_nn::optim::{Adam, Optimizer};
//! use dlkit_nn::{Param, ParamKind};
//!
//! let w = Param::new("w", Tensor::from_vec(vec![3.0f64, -2.0], &[2]), ParamKind::Weight);
//! let mut opt = Adam::new(vec![w.clone()], 0.1);
//! for _ in 0..200 {
//!     opt.zero_grad();
//!     w.tensor.square().sum_all().backward(); // J = ||w||², minimum at 0
//!     opt.step();
//! }
//! assert!(w.tensor.to_vec::<f64>().iter().all(|v| v.abs() < 0.05));
//! ```
//!
//! `step()` works on the raw buffers (no autograd graph, no allocation per element) and keeps
//! its per-parameter state (velocity, squared average, step count) in the parameter's dtype.
//! Before the rule of each optimiser sees a gradient `g`, shared code here
//!
//! 1. clips by global norm when `clip_norm` is set: every gradient is multiplied by
//!    `max_norm / max(‖g‖, max_norm)`, where `‖g‖` is the 2-norm over all trainable
//!    parameters together (as PyTorch's `clip_grad_norm_` before a step);
//! 2. adds L2 weight decay `g + λ w` to the parameters whose kind is in `decay_on` (weights
//!    only by default). The course's L2 term `(λ/2m) Σ‖W‖²` is `weight_decay = λ / m`.
//!    [`AdamW`] instead decouples the decay from the gradient: `w := (1 − α λ) w` before its
//!    Adam update (Loshchilov & Hutter, 2019; `torch.optim.AdamW`).
//!
//! Parameters that are frozen (`trainable()` false) or have no gradient are skipped, and their
//! state (Adam's step count included) does not advance.

mod adam;
mod adamw;
mod config;
mod momentum;
mod rmsprop;
mod sgd;
mod sgd_momentum;

pub use adam::Adam;
pub use adamw::AdamW;
pub use config::OptimizerConfig;
pub use momentum::{Momentum, MomentumForm};
pub use rmsprop::RmsProp;
pub use sgd::GradientDescent;
pub use sgd_momentum::SgdMomentum;

use crate::param::{Param, ParamKind};
use dlkit_core::storage::{Storage, StorageElement};
use dlkit_core::{with_dtype, DType, Element, NoGradGuard};
use serde::{Deserialize, Serialize};

/// Plain gradient descent is also known as SGD (stochastic when fed mini-batches).
pub type Sgd = GradientDescent;

/// Updates parameters from their gradients.
pub trait Optimizer: Send {
    /// Updates every trainable parameter that has a gradient, in place, without recording
    /// the graph.
    fn step(&mut self);

    /// Clears the gradients of all the parameters (call before each backward pass).
    fn zero_grad(&mut self) {
        self.params().iter().for_each(|p| p.tensor.zero_grad());
    }

    /// The current learning rate α.
    fn learning_rate(&self) -> f64;

    /// Sets α (learning-rate schedules call this each epoch).
    fn set_learning_rate(&mut self, lr: f64);

    /// The parameters this optimiser updates.
    fn params(&self) -> &[Param];

    /// A short name such as `"adam"`.
    fn name(&self) -> &'static str;

    /// The per-parameter state (velocities, squared averages, step counts) as named values,
    /// `"{param}.{buffer}"`, for checkpoints that resume training exactly.
    fn state(&mut self) -> Vec<(String, Vec<f64>)>;

    /// Restores what [`Optimizer::state`] returned; every name and length must match.
    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> crate::Result<()>;
}

/// State of a rule that checkpoints can save and restore: named buffers as f64 values
/// (exact for f32 and f64).
pub(crate) trait StateBuffers {
    fn buffers(&mut self) -> Vec<(&'static str, BufferMut<'_>)>;
}

/// One piece of optimiser state.
pub(crate) enum BufferMut<'a> {
    Values(&'a mut Storage),
    Count(&'a mut i32),
}

impl BufferMut<'_> {
    fn read(&self) -> Vec<f64> {
        match self {
            BufferMut::Values(s) => {
                with_dtype!(s.dtype(), T => s.slice::<T>().iter().map(|v| v.f64()).collect())
            }
            BufferMut::Count(t) => vec![**t as f64],
        }
    }

    fn write(&mut self, values: &[f64]) -> bool {
        match self {
            BufferMut::Values(s) if s.len() == values.len() => {
                with_dtype!(s.dtype(), T => s.slice_mut::<T>().iter_mut().zip(values).for_each(|(d, &v)| *d = T::of(v)));
                true
            }
            BufferMut::Count(t) if values.len() == 1 => {
                **t = values[0] as i32;
                true
            }
            _ => false,
        }
    }
}

impl StateBuffers for () {
    fn buffers(&mut self) -> Vec<(&'static str, BufferMut<'_>)> {
        Vec::new()
    }
}

impl StateBuffers for Storage {
    fn buffers(&mut self) -> Vec<(&'static str, BufferMut<'_>)> {
        vec![("v", BufferMut::Values(self))]
    }
}

/// Where ε goes in the denominators of RMSprop and Adam.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpsPlacement {
    /// `g / (√s + ε)`: the course's lectures and assignments, the Adam paper and PyTorch.
    #[default]
    OutsideSqrt,
    /// `g / √(s + ε)`: as the cheat sheet writes it (and TensorFlow 1's RMSProp).
    InsideSqrt,
}

impl EpsPlacement {
    /// `1 / (√s + ε)` or `1 / √(s + ε)`.
    #[inline(always)]
    pub(crate) fn inv_denom<T: Element>(self, s: T, eps: T) -> T {
        match self {
            EpsPlacement::OutsideSqrt => (s.sqrt() + eps).recip(),
            EpsPlacement::InsideSqrt => (s + eps).sqrt().recip(),
        }
    }
}

/// Gradient clipping and weight decay, shared by every optimiser.
#[derive(Clone, Debug, PartialEq)]
pub struct GradOptions {
    /// L2 coefficient λ: the gradient becomes `g + λ w` (0 turns it off).
    pub weight_decay: f64,
    /// The kinds of parameters weight decay applies to (`[Weight]` by default: not biases,
    /// not batch norm's γ and β).
    pub decay_on: Vec<ParamKind>,
    /// Maximum global gradient norm (`None`: no clipping).
    pub clip_norm: Option<f64>,
}

impl Default for GradOptions {
    fn default() -> Self {
        GradOptions {
            weight_decay: 0.0,
            decay_on: vec![ParamKind::Weight],
            clip_norm: None,
        }
    }
}

/// The update rule of one optimiser, applied per parameter to the processed gradient.
pub(crate) trait Rule: Send {
    /// Per-parameter state (velocity, squared average, step count).
    type State: Send + StateBuffers;
    fn init(&self, p: &Param) -> Self::State;
    /// Updates `w` in place from the gradient `g` (clipped, weight decay added).
    fn apply<T: Element>(&self, state: &mut Self::State, lr: f64, w: &mut [T], g: &[T]);
    /// Whether weight decay is decoupled from the gradient (AdamW's `w := w − α λ w` before
    /// the update) instead of added to it as `g + λ w`.
    fn decoupled_decay(&self) -> bool {
        false
    }
}

/// A zero buffer as long as the parameter, in its dtype.
pub(crate) fn zeros_like(p: &Param) -> Storage {
    let n = p.tensor.numel();
    with_dtype!(p.tensor.dtype(), T => T::into_storage(vec![T::zero(); n]))
}

/// The parameters, the learning rate, the shared options and the per-parameter state, with the
/// step that every optimiser runs.
pub(crate) struct Stepper<R: Rule> {
    pub(crate) params: Vec<Param>,
    pub(crate) lr: f64,
    pub(crate) opts: GradOptions,
    pub(crate) rule: R,
    states: Vec<R::State>,
    // Reused buffers for the processed gradient, one per dtype.
    scratch_f32: Storage,
    scratch_f64: Storage,
}

impl<R: Rule> Stepper<R> {
    pub(crate) fn new(params: Vec<Param>, lr: f64, rule: R) -> Self {
        let states = params.iter().map(|p| rule.init(p)).collect();
        Stepper {
            params,
            lr,
            opts: GradOptions::default(),
            rule,
            states,
            scratch_f32: Storage::F32(Vec::new()),
            scratch_f64: Storage::F64(Vec::new()),
        }
    }

    /// Changes a setting of the rule that decides which state it keeps (AMSGrad's maximum,
    /// a momentum buffer), and starts the state afresh.
    pub(crate) fn set_rule(&mut self, change: impl FnOnce(&mut R)) {
        change(&mut self.rule);
        self.states = self.params.iter().map(|p| self.rule.init(p)).collect();
    }

    pub(crate) fn state(&mut self) -> Vec<(String, Vec<f64>)> {
        let mut out = Vec::new();
        for (p, st) in self.params.iter().zip(self.states.iter_mut()) {
            for (name, buf) in st.buffers() {
                out.push((format!("{}.{name}", p.name), buf.read()));
            }
        }
        out
    }

    pub(crate) fn load_state(&mut self, saved: &[(String, Vec<f64>)]) -> crate::Result<()> {
        let mut expected = 0;
        for (p, st) in self.params.iter().zip(self.states.iter_mut()) {
            for (name, mut buf) in st.buffers() {
                expected += 1;
                let key = format!("{}.{name}", p.name);
                let Some((_, values)) = saved.iter().find(|(k, _)| *k == key) else {
                    return Err(crate::Error::build(format!(
                        "optimiser state: `{key}` is missing"
                    )));
                };
                if !buf.write(values) {
                    return Err(crate::Error::build(format!(
                        "optimiser state: `{key}` has {} values, which do not fit the parameter",
                        values.len()
                    )));
                }
            }
        }
        if saved.len() != expected {
            return Err(crate::Error::build(format!(
                "optimiser state: {} entries saved but this optimiser has {expected}",
                saved.len()
            )));
        }
        Ok(())
    }

    /// The factor `max_norm / max(‖g‖, max_norm)` that clipping multiplies gradients by.
    fn clip_scale(&self) -> f64 {
        let Some(max_norm) = self.opts.clip_norm else {
            return 1.0;
        };
        let mut sq = 0.0f64;
        for p in self.params.iter().filter(|p| p.trainable()) {
            if let Some(g) = p.tensor.grad() {
                sq += with_dtype!(g.dtype(), T => g.with_data(sum_squares::<T>));
            }
        }
        max_norm / sq.sqrt().max(max_norm)
    }

    pub(crate) fn step(&mut self) {
        let _no_grad = NoGradGuard::new();
        let scale = self.clip_scale();
        for (p, state) in self.params.iter().zip(self.states.iter_mut()) {
            if !p.trainable() {
                continue;
            }
            let Some(grad) = p.tensor.grad() else {
                continue;
            };
            assert_eq!(
                grad.numel(),
                p.tensor.numel(),
                "optimiser: the gradient of parameter {} has shape {:?} but the parameter has {:?}",
                p.name,
                grad.shape(),
                p.tensor.shape()
            );
            let wd = if self.opts.decay_on.contains(&p.kind) {
                self.opts.weight_decay
            } else {
                0.0
            };
            let (lr, rule) = (self.lr, &self.rule);
            with_dtype!(p.tensor.dtype(), T => {
                let scratch = match T::DTYPE {
                    DType::F32 => &mut self.scratch_f32,
                    DType::F64 => &mut self.scratch_f64,
                };
                let buf = buffer::<T>(scratch, p.tensor.numel());
                // Copy first: the gradient's storage is never borrowed while the parameter's
                // is written.
                let s = T::of(scale);
                grad.with_data(|g: &[T]| buf.iter_mut().zip(g).for_each(|(b, &x)| *b = x * s));
                p.tensor.update(|w: &mut [T]| {
                    if wd != 0.0 && rule.decoupled_decay() {
                        let keep = T::of(1.0 - lr * wd);
                        w.iter_mut().for_each(|x| *x *= keep);
                    } else if wd != 0.0 {
                        let wd = T::of(wd);
                        buf.iter_mut().zip(w.iter()).for_each(|(b, &x)| *b += wd * x);
                    }
                    rule.apply(state, lr, w, buf);
                });
            });
        }
    }
}

/// `Σ x²` in f64, over eight running sums (so that it vectorises).
fn sum_squares<T: Element>(d: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = d.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&x| x.f64() * x.f64()).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x.f64() * x.f64();
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The first `n` elements of a reusable buffer, grown when needed.
fn buffer<T: Element>(scratch: &mut Storage, n: usize) -> &mut [T] {
    if scratch.len() < n {
        *scratch = T::into_storage(vec![T::zero(); n]);
    }
    &mut scratch.slice_mut::<T>()[..n]
}

/// Implements [`Optimizer`] and the shared builder methods for a type with a `Stepper` field
/// named `inner`.
macro_rules! optimizer_common {
    ($ty:ty, $name:literal) => {
        impl $crate::optim::Optimizer for $ty {
            fn step(&mut self) {
                self.inner.step()
            }
            fn learning_rate(&self) -> f64 {
                self.inner.lr
            }
            fn set_learning_rate(&mut self, lr: f64) {
                self.inner.lr = lr;
            }
            fn params(&self) -> &[$crate::param::Param] {
                &self.inner.params
            }
            fn name(&self) -> &'static str {
                $name
            }
            fn state(&mut self) -> Vec<(String, Vec<f64>)> {
                self.inner.state()
            }
            fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> $crate::Result<()> {
                self.inner.load_state(state)
            }
        }

        impl $ty {
            /// L2 weight decay λ: the gradient becomes `g + λ w` (on weights by default).
            pub fn weight_decay(mut self, lambda: f64) -> Self {
                self.inner.opts.weight_decay = lambda;
                self
            }
            /// The parameter kinds weight decay applies to (default `[Weight]`).
            pub fn decay_on(mut self, kinds: &[$crate::param::ParamKind]) -> Self {
                self.inner.opts.decay_on = kinds.to_vec();
                self
            }
            /// Clips gradients to a global 2-norm of at most `max_norm` before each step.
            pub fn clip_norm(mut self, max_norm: f64) -> Self {
                self.inner.opts.clip_norm = Some(max_norm);
                self
            }
            /// Sets clipping and weight decay together.
            pub fn grad_options(mut self, opts: $crate::optim::GradOptions) -> Self {
                self.inner.opts = opts;
                self
            }
        }
    };
}
pub(crate) use optimizer_common;

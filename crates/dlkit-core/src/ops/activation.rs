//! Activations: sigmoid, tanh, ReLU, leaky ReLU.

use super::elementwise::{map, map_op, zip};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// `σ(x) = 1 / (1 + e^-x)`, computed without overflow; d/dx = σ(x)(1 - σ(x)).
    pub fn sigmoid(&self) -> Tensor {
        let out = map_op!(self, |x| stable_sigmoid(x));
        out.track("sigmoid", &[self], |out, g| {
            let d = map_op!(out, |s| s * (T::one() - s));
            vec![Some(g.mul(&d))]
        })
    }

    /// `tanh(x)`; d/dx = 1 - tanh²(x).
    pub fn tanh(&self) -> Tensor {
        let out = map_op!(self, |x| x.tanh());
        out.track("tanh", &[self], |out, g| {
            let d = map_op!(out, |t| T::one() - t * t);
            vec![Some(g.mul(&d))]
        })
    }

    /// `max(0, x)`; d/dx = 1 where x > 0, else 0.
    pub fn relu(&self) -> Tensor {
        self.leaky_relu(0.0)
    }

    /// `x` where x > 0, else `slope * x`; d/dx = 1 or `slope`.
    pub fn leaky_relu(&self, slope: f64) -> Tensor {
        // The slope is converted once, outside the loops, so that the selects vectorise.
        let out = with_dtype!(self.dtype(), T => {
            let s = T::of(slope);
            map::<T>(self, move |x| if x > T::zero() { x } else { x * s })
        });
        let x = self.detach();
        let name = if slope == 0.0 { "relu" } else { "leaky_relu" };
        out.track(name, &[self], move |_, g| {
            // dx = g where x > 0, else g·slope, in one pass without a mask tensor (backward
            // runs untracked, so an untracked zip loses nothing against `g.mul(mask)`).
            let dx = with_dtype!(x.dtype(), T => {
                let s = T::of(slope);
                zip::<T>(name, g, &x, move |g, v| if v > T::zero() { g } else { g * s })
            });
            vec![Some(dx.expect("the gradient has the input's shape"))]
        })
    }
}

/// `1/(1+e^-x)` for x >= 0 and `e^x/(1+e^x)` otherwise, so `exp` never overflows.
#[inline]
pub(crate) fn stable_sigmoid<T: crate::Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

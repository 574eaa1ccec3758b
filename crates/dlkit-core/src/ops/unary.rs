//! Elementwise unary maths: neg, exp, log, sqrt, abs, powf, clamp.

use super::elementwise::{map_op, zip_op};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// `-x`.
    pub fn neg(&self) -> Tensor {
        self.affine(-1.0, 0.0)
    }

    /// `e^x`; d/dx = e^x.
    pub fn exp(&self) -> Tensor {
        let out = map_op!(self, |x| x.exp());
        out.track("exp", &[self], |out, g| vec![Some(g.mul(&out.detach()))])
    }

    /// Natural logarithm; d/dx = 1/x.
    pub fn log(&self) -> Tensor {
        let out = map_op!(self, |x| x.ln());
        let x = self.detach();
        out.track("log", &[self], move |_, g| vec![Some(g.div(&x))])
    }

    /// `√x`; d/dx = 1 / (2√x).
    pub fn sqrt(&self) -> Tensor {
        let out = map_op!(self, |x| x.sqrt());
        out.track("sqrt", &[self], |out, g| {
            vec![Some(g.div(&out.detach()).mul_scalar(0.5))]
        })
    }

    /// `|x|`; d/dx = sign(x), 0 at 0.
    pub fn abs(&self) -> Tensor {
        let out = map_op!(self, |x| x.abs());
        let x = self.detach();
        out.track("abs", &[self], move |_, g| {
            let sign = map_op!(&x, |v| if v > T::zero() {
                T::one()
            } else if v < T::zero() {
                -T::one()
            } else {
                T::zero()
            });
            vec![Some(g.mul(&sign))]
        })
    }

    /// `x^p` for a scalar exponent; d/dx = p x^(p-1).
    pub fn powf(&self, p: f64) -> Tensor {
        let out = map_op!(self, |x| x.powf(T::of(p)));
        let x = self.detach();
        out.track("powf", &[self], move |_, g| {
            let d = map_op!(&x, |v| T::of(p) * v.powf(T::of(p - 1.0)));
            vec![Some(g.mul(&d))]
        })
    }

    /// `x²`.
    pub fn square(&self) -> Tensor {
        self.mul(self)
    }

    /// `min(max(x, lo), hi)`; the gradient passes where `lo <= x <= hi` (as PyTorch).
    pub fn try_clamp(&self, lo: f64, hi: f64) -> Result<Tensor> {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(Error::invalid(
                "clamp",
                format!("needs lo <= hi, got lo {lo}, hi {hi}"),
            ));
        }
        let out = map_op!(self, |x| x.max(T::of(lo)).min(T::of(hi)));
        let x = self.detach();
        Ok(out.track("clamp", &[self], move |_, g| {
            let pass = map_op!(&x, |v| if v >= T::of(lo) && v <= T::of(hi) {
                T::one()
            } else {
                T::zero()
            });
            vec![Some(g.mul(&pass))]
        }))
    }

    pub fn clamp(&self, lo: f64, hi: f64) -> Tensor {
        self.try_clamp(lo, hi).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Elementwise `x == y` as 1 or 0 (untracked), broadcasting.
    pub fn try_eq_mask(&self, rhs: &Tensor) -> Result<Tensor> {
        zip_op!("eq_mask", self, rhs, |x, y| if x == y {
            T::one()
        } else {
            T::zero()
        })
    }
}

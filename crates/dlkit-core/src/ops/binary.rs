//! Elementwise binary ops with NumPy broadcasting. Gradients come back in the broadcast
//! shape; autograd sums them down to each input's shape.

use super::elementwise::{map_op, zip_op};
use super::plain;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// `a + b`; d/da = 1, d/db = 1.
    pub fn try_add(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = zip_op!("add", self, rhs, |x, y| x + y)?;
        Ok(out.track("add", &[self, rhs], |_, g| {
            vec![Some(g.clone()), Some(g.clone())]
        }))
    }

    /// `a - b`; d/da = 1, d/db = -1.
    pub fn try_sub(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = zip_op!("sub", self, rhs, |x, y| x - y)?;
        Ok(out.track("sub", &[self, rhs], |_, g| {
            vec![Some(g.clone()), Some(g.neg())]
        }))
    }

    /// `a * b`; d/da = b, d/db = a.
    pub fn try_mul(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = zip_op!("mul", self, rhs, |x, y| x * y)?;
        let (a, b) = (self.detach(), rhs.detach());
        Ok(out.track("mul", &[self, rhs], move |_, g| {
            vec![Some(g.mul(&b)), Some(g.mul(&a))]
        }))
    }

    /// `a / b`; d/da = 1/b, d/db = -a/b² = -out/b.
    pub fn try_div(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = zip_op!("div", self, rhs, |x, y| x / y)?;
        let b = rhs.detach();
        Ok(out.track("div", &[self, rhs], move |out, g| {
            let ga = g.div(&b);
            let gb = ga.mul(&out.detach()).neg();
            vec![Some(ga), Some(gb)]
        }))
    }

    /// Elementwise `max(a, b)`; the gradient goes to the larger input, split evenly on ties
    /// (as PyTorch's `maximum`).
    pub fn try_maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = zip_op!("maximum", self, rhs, |x, y| if x >= y { x } else { y })?;
        let (a, b) = (self.detach(), rhs.detach());
        Ok(out.track("maximum", &[self, rhs], move |_, g| {
            let share_a = zip_op!("maximum", &a, &b, |x, y| {
                if x > y {
                    T::one()
                } else if x == y {
                    T::of(0.5)
                } else {
                    T::zero()
                }
            })
            .expect("shapes checked in forward");
            let ga = g.mul(&share_a);
            let gb = g.sub(&ga);
            vec![Some(ga), Some(gb)]
        }))
    }

    plain!(
        /// Panicking form of [`Tensor::try_add`].
        add => try_add(rhs: &Tensor));
    plain!(
        /// Panicking form of [`Tensor::try_sub`].
        sub => try_sub(rhs: &Tensor));
    plain!(
        /// Panicking form of [`Tensor::try_mul`].
        mul => try_mul(rhs: &Tensor));
    plain!(
        /// Panicking form of [`Tensor::try_div`].
        div => try_div(rhs: &Tensor));
    plain!(
        /// Panicking form of [`Tensor::try_maximum`].
        maximum => try_maximum(rhs: &Tensor));

    /// `a * x + b` with scalars `a`, `b`; d/dx = a.
    pub fn affine(&self, a: f64, b: f64) -> Tensor {
        let out = map_op!(self, |x| x * T::of(a) + T::of(b));
        out.track("affine", &[self], move |_, g| vec![Some(g.affine(a, 0.0))])
    }

    pub fn add_scalar(&self, s: f64) -> Tensor {
        self.affine(1.0, s)
    }

    pub fn mul_scalar(&self, s: f64) -> Tensor {
        self.affine(s, 0.0)
    }

    /// `s - x`.
    pub fn rsub_scalar(&self, s: f64) -> Tensor {
        self.affine(-1.0, s)
    }
}

/// Operators on references and values: `&a + &b`, `a * b`, `&a * 2.0`, `-&a`, ...
macro_rules! operator {
    ($trait:ident, $method:ident, $tensor_op:ident, $scalar:expr) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$tensor_op(self, rhs)
            }
        }
        impl std::ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$tensor_op(&self, &rhs)
            }
        }
        impl std::ops::$trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$tensor_op(&self, rhs)
            }
        }
        impl std::ops::$trait<f64> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                let f: fn(&Tensor, f64) -> Tensor = $scalar;
                f(self, rhs)
            }
        }
        impl std::ops::$trait<f64> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                let f: fn(&Tensor, f64) -> Tensor = $scalar;
                f(&self, rhs)
            }
        }
    };
}
operator!(Add, add, add, |t, s| t.add_scalar(s));
operator!(Sub, sub, sub, |t, s| t.add_scalar(-s));
operator!(Mul, mul, mul, |t, s| t.mul_scalar(s));
operator!(Div, div, div, |t, s| t.mul_scalar(1.0 / s));

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl std::ops::Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}

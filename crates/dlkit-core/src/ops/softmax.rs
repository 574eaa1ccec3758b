//! Softmax and log-softmax along an axis, computed with the max subtracted for stability.

use super::plain;
use crate::element::Element;
use crate::error::Result;
use crate::shape::resolve_axis;
use crate::tensor::Tensor;
use crate::with_dtype;

/// Applies `f(row_in, row_out)` to each contiguous row of length `n`.
fn rows<T: Element>(x: &[T], n: usize, mut f: impl FnMut(&[T], &mut [T])) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    if n > 0 {
        for (i, o) in x.chunks(n).zip(out.chunks_mut(n)) {
            f(i, o);
        }
    }
    out
}

/// `log Σ exp(z)` of one row, as `max + log Σ exp(z - max)`.
pub(crate) fn log_sum_exp<T: Element>(z: &[T]) -> T {
    let max = z.iter().copied().fold(T::neg_infinity(), T::max);
    if max.is_infinite() {
        return max;
    }
    max + z.iter().map(|&v| (v - max).exp()).sum::<T>().ln()
}

impl Tensor {
    /// Moves `axis` last, applies a row kernel, moves it back.
    fn along_axis(&self, op: &'static str, axis: isize, log: bool) -> Result<Tensor> {
        let ax = resolve_axis(op, axis, self.rank())?;
        let last = self.rank() - 1;
        let moved = if ax == last {
            self.detach()
        } else {
            self.detach().transpose(ax as isize, -1)
        };
        let n = moved.shape()[last];
        let out = with_dtype!(self.dtype(), T => {
            // `exp(v - max) / Σ` and `(v - max) - log Σ`, not `exp(v - lse)` and `v - lse`:
            // rounding `lse = max + log Σ` to the dtype costs an absolute error of about
            // |lse|·ε in every exponent, a relative error of |lse|·ε in every probability,
            // which the backward's `g - Σ g·y` then amplifies (f32 logits near ±40 lost
            // four digits).
            let y = moved.with_data(|d: &[T]| rows(d, n, |i, o| {
                let max = i.iter().copied().fold(T::neg_infinity(), T::max);
                if max.is_infinite() {
                    for (o, &v) in o.iter_mut().zip(i) {
                        *o = if log { v - max } else { (v - max).exp() };
                    }
                } else if log {
                    let ln_sum = i.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
                    for (o, &v) in o.iter_mut().zip(i) {
                        *o = (v - max) - ln_sum;
                    }
                } else {
                    for (o, &v) in o.iter_mut().zip(i) {
                        *o = (v - max).exp();
                    }
                    let sum: T = o.iter().copied().sum();
                    for o in o.iter_mut() {
                        *o /= sum;
                    }
                }
            }));
            Tensor::from_vec_unchecked(y, moved.shape())
        });
        Ok(if ax == last {
            out
        } else {
            out.transpose(ax as isize, -1).contiguous()
        })
    }

    /// `softmax(z)_i = e^{z_i} / Σ_j e^{z_j}` along `axis`.
    /// Backward: dz = y ⊙ (g - Σ(g ⊙ y)).
    pub fn try_softmax(&self, axis: isize) -> Result<Tensor> {
        let out = self.along_axis("softmax", axis, false)?;
        Ok(out.track("softmax", &[self], move |y, g| {
            let y = y.detach();
            let dot = g.mul(&y).sum(&[axis], true);
            vec![Some(y.mul(&g.sub(&dot)))]
        }))
    }

    /// `log_softmax(z)_i = z_i - log Σ_j e^{z_j}` along `axis`.
    /// Backward: dz = g - softmax(z) ⊙ Σ g.
    pub fn try_log_softmax(&self, axis: isize) -> Result<Tensor> {
        let out = self.along_axis("log_softmax", axis, true)?;
        Ok(out.track("log_softmax", &[self], move |y, g| {
            let p = y.detach().exp();
            vec![Some(g.sub(&p.mul(&g.sum(&[axis], true))))]
        }))
    }

    plain!(
        /// Panicking form of [`Tensor::try_softmax`].
        softmax => try_softmax(axis: isize));
    plain!(
        /// Panicking form of [`Tensor::try_log_softmax`].
        log_softmax => try_log_softmax(axis: isize));
}

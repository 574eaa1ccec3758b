//! Fused, numerically stable losses from logits: softmax cross-entropy (class indices or
//! probability/one-hot targets) and binary cross-entropy. Both average over the batch.

use super::softmax::log_sum_exp;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    fn check_logits(&self, op: &'static str) -> Result<(usize, usize)> {
        match *self.shape() {
            [m, c] if c > 0 => Ok((m, c)),
            _ => Err(Error::invalid(
                op,
                format!(
                    "needs logits of shape [batch, classes], got {:?}",
                    self.shape()
                ),
            )),
        }
    }

    /// `L = -(1/m) Σ_i log softmax(z_i)[y_i]` for logits `[m, C]` and class indices `y`.
    /// Backward: dz = (softmax(z) - onehot(y)) / m.
    pub fn try_softmax_cross_entropy_indices(&self, labels: &[usize]) -> Result<Tensor> {
        let op = "softmax_cross_entropy";
        let (m, c) = self.check_logits(op)?;
        if labels.len() != m {
            return Err(Error::invalid(
                op,
                format!(
                    "{} labels for {m} rows of logits {:?}",
                    labels.len(),
                    self.shape()
                ),
            ));
        }
        if let Some((row, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= c) {
            return Err(Error::invalid(
                op,
                format!("label {l} at row {row} is out of range for {c} classes"),
            ));
        }
        let (loss, grad) = with_dtype!(self.dtype(), T => {
            let mut grad = vec![T::zero(); m * c];
            let mut total = 0.0f64;
            self.with_data(|z: &[T]| {
                for (i, (row, g)) in z.chunks(c).zip(grad.chunks_mut(c)).enumerate() {
                    let lse = log_sum_exp(row);
                    total += (lse - row[labels[i]]).f64();
                    for (g, &v) in g.iter_mut().zip(row) {
                        *g = (v - lse).exp() / T::of(m as f64);
                    }
                    g[labels[i]] -= T::one() / T::of(m as f64);
                }
            });
            (Tensor::scalar(T::of(total / m as f64)), Tensor::from_vec_unchecked(grad, &[m, c]))
        });
        Ok(loss.track(op, &[self], move |_, g| vec![Some(grad.mul(g))]))
    }

    /// `L = -(1/m) Σ_i Σ_c Y_ic log softmax(z_i)_c` for logits and targets `[m, C]` (one-hot
    /// or probabilities). Backward: dz = (softmax(z) Σ_c Y_ic - Y) / m (= (p - Y)/m when rows of
    /// Y sum to 1), dY = -log softmax(z) / m.
    pub fn try_softmax_cross_entropy(&self, targets: &Tensor) -> Result<Tensor> {
        let op = "softmax_cross_entropy";
        let (m, _) = self.check_logits(op)?;
        if targets.shape() != self.shape() {
            return Err(Error::shape(
                op,
                self.shape(),
                targets.shape(),
                "targets must have the logits' shape [batch, classes]",
            ));
        }
        super::elementwise::same_dtype(op, self, targets)?;
        let logp = self.detach().log_softmax(-1);
        let loss = logp
            .mul(&targets.detach())
            .sum_all()
            .mul_scalar(-1.0 / m as f64)
            .detach();
        let (z, y) = (self.detach(), targets.detach());
        Ok(loss.track(op, &[self, targets], move |_, g| {
            let p = logp.exp();
            let dz = p
                .mul(&y.sum(&[-1], true))
                .sub(&y)
                .mul_scalar(1.0 / m as f64)
                .mul(g);
            let dy = z.log_softmax(-1).mul_scalar(-1.0 / m as f64).mul(g);
            vec![Some(dz), Some(dy)]
        }))
    }

    /// `L = mean(max(z, 0) - z y + log(1 + e^{-|z|}))`, the binary cross-entropy of
    /// `σ(z)` against `y`, stable for any `z`. Backward: dz = (σ(z) - y)/N, dy = -z/N.
    pub fn try_binary_cross_entropy_with_logits(&self, targets: &Tensor) -> Result<Tensor> {
        let op = "binary_cross_entropy";
        if targets.shape() != self.shape() {
            return Err(Error::shape(
                op,
                self.shape(),
                targets.shape(),
                "targets must have the logits' shape",
            ));
        }
        super::elementwise::same_dtype(op, self, targets)?;
        let n = self.numel().max(1) as f64;
        let loss = with_dtype!(self.dtype(), T => {
            let total: f64 = self.with_data(|z: &[T]| targets.with_data(|y: &[T]| {
                z.iter().zip(y).map(|(&z, &y)| bce_term(z, y).f64()).sum()
            }));
            Tensor::scalar(T::of(total / n))
        });
        let (z, y) = (self.detach(), targets.detach());
        Ok(loss.track(op, &[self, targets], move |_, g| {
            let dz = z.sigmoid().sub(&y).mul_scalar(1.0 / n).mul(g);
            let dy = z.mul_scalar(-1.0 / n).mul(g);
            vec![Some(dz), Some(dy)]
        }))
    }

    pub fn softmax_cross_entropy_indices(&self, labels: &[usize]) -> Tensor {
        self.try_softmax_cross_entropy_indices(labels)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn softmax_cross_entropy(&self, targets: &Tensor) -> Tensor {
        self.try_softmax_cross_entropy(targets)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn binary_cross_entropy_with_logits(&self, targets: &Tensor) -> Tensor {
        self.try_binary_cross_entropy_with_logits(targets)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// One element of the binary cross-entropy from a logit.
#[inline]
fn bce_term<T: Element>(z: T, y: T) -> T {
    z.max(T::zero()) - z * y + (-z.abs()).exp().ln_1p()
}

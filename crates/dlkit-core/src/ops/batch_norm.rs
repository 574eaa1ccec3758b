//! Batch normalisation fused over channels-last tensors `[.., c]`: one op for the training
//! forward (batch statistics) and one for given statistics, each with its backward. The
//! formulas and the kernels are in [`crate::kernels::batch_norm`].

use crate::element::Element;
use crate::error::{Error, Result};
use crate::kernels::batch_norm::{
    batch_norm_backward_data, batch_norm_forward, batch_norm_grad_sums, batch_norm_stats, inv_std,
};
use crate::tensor::Tensor;
use crate::with_dtype;

/// The result of [`Tensor::try_batch_norm_train`]: the output and the batch statistics.
pub struct BatchNormOutput {
    /// `y = γ x̂ + β`, the input's shape, tracked by autograd.
    pub y: Tensor,
    /// The per-channel batch mean `[c]` (untracked).
    pub mean: Tensor,
    /// The per-channel biased batch variance `[c]` (untracked).
    pub var: Tensor,
}

/// Checks `x` is `[.., c]` and every per-channel tensor is `[c]` of `x`'s dtype; returns `c`.
fn check(x: &Tensor, per_channel: &[(&str, &Tensor)], epsilon: f64) -> Result<usize> {
    let op = "batch_norm";
    let c = match x.shape().last() {
        Some(&c) if c > 0 => c,
        _ => {
            return Err(Error::invalid(
                op,
                format!(
                    "needs an input [.., c] with at least one channel last, got shape {:?}",
                    x.shape()
                ),
            ))
        }
    };
    for (name, t) in per_channel {
        if t.shape() != [c] {
            return Err(Error::shape(
                op,
                x.shape(),
                t.shape(),
                format!("{name} must be [{c}], one value per channel of the last axis"),
            ));
        }
        super::elementwise::same_dtype(op, x, t)?;
    }
    if !(epsilon > 0.0 && epsilon.is_finite()) {
        return Err(Error::invalid(
            op,
            format!("needs a finite epsilon > 0, got {epsilon}"),
        ));
    }
    Ok(c)
}

/// A `[c]` tensor's values.
fn values<T: Element>(t: &Tensor) -> Vec<T> {
    t.with_data(|d: &[T]| d.to_vec())
}

impl Tensor {
    /// Training batch norm over every axis but the last: the per-channel batch mean `μ` and
    /// biased variance `σ²` of `x` (`[.., c]`, at least one row), `x̂ = (x - μ) / √(σ² + ε)`,
    /// `y = γ x̂ + β`. Backward (through `μ` and `σ²`):
    /// `dx = (γ / (N √(σ² + ε))) (N dy - Σ dy - x̂ Σ dy ⊙ x̂)`, `dγ = Σ dy ⊙ x̂`, `dβ = Σ dy`,
    /// sums over the `N` rows.
    pub fn try_batch_norm_train(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        epsilon: f64,
    ) -> Result<BatchNormOutput> {
        let c = check(self, &[("gamma", gamma), ("beta", beta)], epsilon)?;
        if self.numel() == 0 {
            return Err(Error::invalid(
                "batch_norm",
                format!(
                    "training needs at least one row of statistics, got input {:?}",
                    self.shape()
                ),
            ));
        }
        let x = self.detach();
        with_dtype!(self.dtype(), T => {
            let (g, b) = (values::<T>(gamma), values::<T>(beta));
            let (mean, var) = x.with_data(|d: &[T]| batch_norm_stats(d, c));
            let s = inv_std(&var, epsilon);
            let mut y = vec![T::zero(); self.numel()];
            x.with_data(|d: &[T]| batch_norm_forward(d, &mean, &s, &g, &b, &mut y));
            let y = Tensor::from_vec_unchecked(y, self.shape());
            let stats = (
                Tensor::from_vec_unchecked(mean.clone(), &[c]),
                Tensor::from_vec_unchecked(var, &[c]),
            );
            let y = y.track("batch_norm", &[self, gamma, beta], move |_, gy| {
                let (sdy, sdyx, dx) = gy.with_data(|dy: &[T]| x.with_data(|xd: &[T]| {
                    let (sdy, sdyx) = batch_norm_grad_sums(xd, dy, &mean, &s);
                    let mut dx = vec![T::zero(); xd.len()];
                    batch_norm_backward_data(xd, dy, &mean, &s, &g, (&sdy, &sdyx), &mut dx);
                    (sdy, sdyx, dx)
                }));
                vec![
                    Some(Tensor::from_vec_unchecked(dx, x.shape())),
                    Some(Tensor::from_vec_unchecked(sdyx, &[c])),
                    Some(Tensor::from_vec_unchecked(sdy, &[c])),
                ]
            });
            Ok(BatchNormOutput { y, mean: stats.0, var: stats.1 })
        })
    }

    /// Batch norm with given per-channel statistics (evaluation, or a frozen layer):
    /// `y = γ (x - mean) / √(var + ε) + β` over `x` (`[.., c]`). Backward (the statistics
    /// are constants): `dx = γ dy / √(var + ε)`, `dγ = Σ dy ⊙ x̂`, `dβ = Σ dy`; `mean` and
    /// `var` get no gradient.
    pub fn try_batch_norm_inference(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        mean: &Tensor,
        var: &Tensor,
        epsilon: f64,
    ) -> Result<Tensor> {
        let per_channel = [
            ("gamma", gamma),
            ("beta", beta),
            ("mean", mean),
            ("var", var),
        ];
        let c = check(self, &per_channel, epsilon)?;
        let x = self.detach();
        with_dtype!(self.dtype(), T => {
            let (g, b, m) = (values::<T>(gamma), values::<T>(beta), values::<T>(mean));
            let s = inv_std(&values::<T>(var), epsilon);
            let mut y = vec![T::zero(); self.numel()];
            x.with_data(|d: &[T]| batch_norm_forward(d, &m, &s, &g, &b, &mut y));
            let y = Tensor::from_vec_unchecked(y, self.shape());
            Ok(y.track("batch_norm", &[self, gamma, beta], move |_, gy| {
                let (sdy, sdyx) = gy.with_data(|dy: &[T]| {
                    x.with_data(|xd: &[T]| batch_norm_grad_sums(xd, dy, &m, &s))
                });
                let k: Vec<T> = g.iter().zip(&s).map(|(&g, &s)| g * s).collect();
                let dx = gy.with_data(|dy: &[T]| {
                    dy.chunks_exact(c)
                        .flat_map(|row| row.iter().zip(&k).map(|(&d, &k)| k * d))
                        .collect::<Vec<T>>()
                });
                vec![
                    Some(Tensor::from_vec_unchecked(dx, x.shape())),
                    Some(Tensor::from_vec_unchecked(sdyx, &[c])),
                    Some(Tensor::from_vec_unchecked(sdy, &[c])),
                ]
            }))
        })
    }
}

//! PyTorch's `reduction` for the losses: the mean over the batch (dlkit's and PyTorch's
//! default), the sum, or the unreduced per-example losses.
//!
//! Per-example losses, as PyTorch's `reduction = "none"` returns them:
//!
//! - binary cross-entropy (`BCEWithLogitsLoss`): one per element of the logits,
//!   `ℓ = max(z, 0) − z y + log(1 + e^{−|z|})`, the output's shape;
//! - softmax cross-entropy (`CrossEntropyLoss`): one per row, `ℓ_i = −Σ_c Y_ic log softmax(z_i)_c`,
//!   shape `[m]` (class indices are one-hot rows);
//! - mean squared error (`MSELoss`): one per element, `ℓ = (ŷ − y)²`, the output's shape.
//!
//! `"mean"` is `(1/N) Σ ℓ` over those `N` values (the batch `m` for softmax cross-entropy, every
//! element otherwise) and is exactly [`Loss::compute`]; `"sum"` is `Σ ℓ`.

use crate::error::Result;
use crate::loss::{binary_labels, same_shape, Loss, Targets};
use dlkit_core::{Error as TensorError, Tensor};
use serde::{Deserialize, Serialize};

/// How a loss reduces its per-example values. In configs: `"mean"`, `"sum"` or `"none"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// `(1/N) Σ ℓ`, a scalar (the default, as PyTorch's).
    #[default]
    Mean,
    /// `Σ ℓ`, a scalar.
    Sum,
    /// The per-example losses `ℓ`, unreduced.
    None,
}

impl Reduction {
    /// The name used in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::None => "none",
        }
    }
}

impl Loss {
    /// The loss of `output` against `targets` reduced as `reduction` says, tracked for
    /// `backward`: a scalar for `Mean` (the same as [`Loss::compute`]) and `Sum`, the
    /// per-example losses for `None` (see the module documentation for their shapes).
    pub fn compute_reduced<'a>(
        self,
        output: &Tensor,
        targets: impl Into<Targets<'a>>,
        reduction: Reduction,
    ) -> Result<Tensor> {
        let targets = targets.into();
        match reduction {
            Reduction::Mean => self.compute(output, targets),
            Reduction::Sum => Ok(self.per_example(output, targets)?.sum_all()),
            Reduction::None => self.per_example(output, targets),
        }
    }

    /// The unreduced losses `ℓ`.
    fn per_example(self, output: &Tensor, targets: Targets) -> Result<Tensor> {
        let op = self.name();
        Ok(match (self, targets) {
            (Loss::SoftmaxCrossEntropy, Targets::Indices(i)) => {
                let t = one_hot(output, i)?;
                cross_entropy_rows(output, &t)?
            }
            (Loss::SoftmaxCrossEntropy, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                cross_entropy_rows(output, t)?
            }
            (Loss::BinaryCrossEntropy, Targets::Indices(i)) => {
                binary_cross_entropy_elements(output, &binary_labels(output, i)?)?
            }
            (Loss::BinaryCrossEntropy, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                binary_cross_entropy_elements(output, t)?
            }
            (Loss::MeanSquaredError, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                output.try_sub(t)?.square()
            }
            // The same error as the mean's.
            (Loss::MeanSquaredError, Targets::Indices(_)) => return self.compute(output, targets),
        })
    }
}

/// `max(z, 0) − z y + log(1 + e^{−|z|})` per element (stable for any `z`; its gradient is
/// `σ(z) − y`).
fn binary_cross_entropy_elements(z: &Tensor, y: &Tensor) -> Result<Tensor> {
    let softplus = z.abs().neg().exp().add_scalar(1.0).log();
    Ok(z.relu().try_sub(&z.try_mul(y)?)?.try_add(&softplus)?)
}

/// `−Σ_c Y_ic log softmax(z_i)_c` per row of logits `[m, C]`: shape `[m]`.
fn cross_entropy_rows(z: &Tensor, y: &Tensor) -> Result<Tensor> {
    logits_shape(z)?;
    Ok(z.try_log_softmax(-1)?
        .try_mul(y)?
        .try_sum(&[-1], false)?
        .neg())
}

/// `[m, C]` with `C > 0`, or the error the fused loss gives.
fn logits_shape(z: &Tensor) -> Result<(usize, usize)> {
    match *z.shape() {
        [m, c] if c > 0 => Ok((m, c)),
        _ => Err(TensorError::Invalid {
            op: "softmax_cross_entropy",
            msg: format!(
                "needs logits of shape [batch, classes], got {:?}",
                z.shape()
            ),
        }
        .into()),
    }
}

/// Class indices as one-hot rows of the logits' shape and dtype, with the fused loss's checks.
fn one_hot(z: &Tensor, labels: &[usize]) -> Result<Tensor> {
    let op = "softmax_cross_entropy";
    let (m, c) = logits_shape(z)?;
    if labels.len() != m {
        let msg = format!(
            "{} labels for {m} rows of logits {:?}",
            labels.len(),
            z.shape()
        );
        return Err(TensorError::Invalid { op, msg }.into());
    }
    let mut values = vec![0.0f64; m * c];
    for (row, &l) in labels.iter().enumerate() {
        if l >= c {
            let msg = format!("label {l} at row {row} is out of range for {c} classes");
            return Err(TensorError::Invalid { op, msg }.into());
        }
        values[row * c + l] = 1.0;
    }
    Ok(Tensor::from_vec(values, &[m, c]).to_dtype(z.dtype()))
}

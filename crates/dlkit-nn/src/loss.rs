//! Losses, each averaged over the batch (PyTorch's and Keras' `reduction = "mean"`):
//!
//! - `binary_cross_entropy`: `-(1/N) Σ [y log σ(z) + (1 - y) log(1 - σ(z))]` from logits `z`,
//!   computed as the stable `max(z, 0) - z y + log(1 + e^{-|z|})`; `N` = every element.
//! - `softmax_cross_entropy`: `-(1/m) Σ_i Σ_c Y_ic log softmax(z_i)_c` from logits `[m, C]`,
//!   targets as class indices or one-hot (or probability) rows.
//! - `mean_squared_error`: `(1/N) Σ (ŷ - y)²`, the mean over *all* elements (as PyTorch's
//!   `MSELoss` and Keras'), not the `1/(2m)` of some course notes (which only halves the
//!   gradient); on `[m, 1]` outputs the two differ by the factor 2.
//!
//! [`Loss::compute_reduced`] also sums them or returns them per example (PyTorch's
//! `reduction`, [`crate::Reduction`]).
//!
//! The cross-entropies take logits, not probabilities: build the model without its final
//! sigmoid/softmax, or run `Sequential::forward_logits`.

use crate::error::Result;
use dlkit_core::{Error as TensorError, Tensor};
use serde::{Deserialize, Serialize};

/// Which loss a model trains with. In configs: `loss = "softmax_cross_entropy"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    BinaryCrossEntropy,
    SoftmaxCrossEntropy,
    MeanSquaredError,
}

/// The targets of a batch: class indices (one per example), or a tensor of the output's shape
/// (0/1 labels for binary cross-entropy, one-hot or probability rows for softmax
/// cross-entropy, values for mean squared error).
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    Indices(&'a [usize]),
    Dense(&'a Tensor),
}

impl<'a> From<&'a Tensor> for Targets<'a> {
    fn from(t: &'a Tensor) -> Self {
        Targets::Dense(t)
    }
}

impl<'a> From<&'a [usize]> for Targets<'a> {
    fn from(i: &'a [usize]) -> Self {
        Targets::Indices(i)
    }
}

impl<'a> From<&'a Vec<usize>> for Targets<'a> {
    fn from(i: &'a Vec<usize>) -> Self {
        Targets::Indices(i)
    }
}

impl Loss {
    /// The name used in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
            Loss::MeanSquaredError => "mean_squared_error",
        }
    }

    /// Whether `compute` takes logits (the cross-entropies) rather than predictions (MSE).
    pub fn takes_logits(self) -> bool {
        !matches!(self, Loss::MeanSquaredError)
    }

    /// The scalar loss of `output` (logits for the cross-entropies, predictions for MSE)
    /// against `targets`, tracked for `backward`. Shapes must match exactly (no
    /// broadcasting: `[m]` against `[m, 1]` is an error, not an `[m, m]` surprise).
    ///
    /// Binary cross-entropy also takes indices (each 0 or 1) for an output `[m]` or `[m, 1]`.
    pub fn compute<'a>(self, output: &Tensor, targets: impl Into<Targets<'a>>) -> Result<Tensor> {
        let op = self.name();
        Ok(match (self, targets.into()) {
            (Loss::SoftmaxCrossEntropy, Targets::Indices(i)) => {
                output.try_softmax_cross_entropy_indices(i)?
            }
            (Loss::SoftmaxCrossEntropy, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                output.try_softmax_cross_entropy(t)?
            }
            (Loss::BinaryCrossEntropy, Targets::Indices(i)) => {
                let t = binary_labels(output, i)?;
                output.try_binary_cross_entropy_with_logits(&t)?
            }
            (Loss::BinaryCrossEntropy, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                output.try_binary_cross_entropy_with_logits(t)?
            }
            (Loss::MeanSquaredError, Targets::Dense(t)) => {
                same_shape(op, output, t)?;
                output.try_sub(t)?.square().mean_all()
            }
            (Loss::MeanSquaredError, Targets::Indices(_)) => {
                return Err(TensorError::Invalid {
                    op,
                    msg: "needs target values as a tensor of the predictions' shape, not class \
                          indices"
                        .into(),
                }
                .into())
            }
        })
    }
}

pub(crate) fn same_shape(op: &'static str, output: &Tensor, targets: &Tensor) -> Result<()> {
    if output.shape() != targets.shape() {
        let detail = match (output.rank(), targets.rank()) {
            (a, b) if a != b => format!(
                "the targets must have the output's shape (ranks {a} and {b} differ: reshape \
                 one, e.g. [m] to [m, 1])"
            ),
            _ => "the targets must have the output's shape".to_string(),
        };
        return Err(TensorError::ShapeMismatch {
            op,
            lhs: output.shape().to_vec(),
            rhs: targets.shape().to_vec(),
            detail,
        }
        .into());
    }
    Ok(())
}

/// 0/1 labels as a tensor of the logits' shape (`[m]` or `[m, 1]`).
pub(crate) fn binary_labels(logits: &Tensor, labels: &[usize]) -> Result<Tensor> {
    let op = "binary_cross_entropy";
    let m = logits.shape().first().copied().unwrap_or(0);
    let fits = matches!(logits.shape(), [_] | [_, 1]) && labels.len() == m;
    if !fits {
        return Err(TensorError::Invalid {
            op,
            msg: format!(
                "{} label indices for logits {:?}: indices need logits [m] or [m, 1] with one \
                 label per row; pass a tensor of targets otherwise",
                labels.len(),
                logits.shape()
            ),
        }
        .into());
    }
    if let Some((row, &l)) = labels.iter().enumerate().find(|(_, &l)| l > 1) {
        return Err(TensorError::Invalid {
            op,
            msg: format!("label {l} at row {row} is not 0 or 1"),
        }
        .into());
    }
    let values: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    Ok(Tensor::from_vec(values, logits.shape()).to_dtype(logits.dtype()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for loss in [
            Loss::BinaryCrossEntropy,
            Loss::SoftmaxCrossEntropy,
            Loss::MeanSquaredError,
        ] {
            let json = serde_json::to_string(&loss).unwrap();
            assert_eq!(json, format!("\"{}\"", loss.name()));
            assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss);
        }
    }

    #[test]
    fn mse_is_the_mean_over_all_elements() {
        let y_hat = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let y = Tensor::from_vec(vec![0.0, 2.0, 5.0, 4.0], &[2, 2]);
        let l = Loss::MeanSquaredError.compute(&y_hat, &y).unwrap();
        assert_eq!(l.item(), (1.0 + 0.0 + 4.0 + 0.0) / 4.0);
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let out = Tensor::zeros(&[4, 1], dlkit_core::DType::F32);
        let flat = Tensor::zeros(&[4], dlkit_core::DType::F32);
        for loss in [Loss::BinaryCrossEntropy, Loss::MeanSquaredError] {
            let e = loss.compute(&out, &flat).unwrap_err().to_string();
            assert!(e.contains("[4, 1]") && e.contains("[4]"), "{e}");
            assert!(e.starts_with(loss.name()), "{e}");
        }
        let e = Loss::MeanSquaredError
            .compute(&out, &vec![0usize; 4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not class indices"), "{e}");
        let e = Loss::BinaryCrossEntropy
            .compute(&out, &vec![0usize, 1, 2, 0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 2 at row 2"), "{e}");
        let logits = Tensor::zeros(&[2, 3], dlkit_core::DType::F32);
        let e = Loss::SoftmaxCrossEntropy
            .compute(&logits, &vec![0usize, 3])
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn binary_indices_equal_dense_targets() {
        let z = Tensor::from_vec(vec![0.3f64, -1.2, 2.0], &[3, 1]);
        let a = Loss::BinaryCrossEntropy
            .compute(&z, &vec![1usize, 0, 1])
            .unwrap();
        let t = Tensor::from_vec(vec![1.0f64, 0.0, 1.0], &[3, 1]);
        let b = Loss::BinaryCrossEntropy.compute(&z, &t).unwrap();
        assert_eq!(a.item(), b.item());
    }
}

//! Weight penalties added to the cost, as the course writes them with `m` the batch size:
//!
//! - L2: `J += λ/(2m) Σ_l ‖W[l]‖²_F`, whose gradient adds `(λ/m) W` ("weight decay");
//! - L1: `J += λ/m Σ_l Σ |W[l]|`, whose gradient adds `(λ/m) sign(W)` (0 at 0).
//!
//! The `1/m` scaling makes `λ` independent of the batch size in the course's sense (the cost is
//! itself a mean over the batch); PyTorch's `weight_decay = wd` on plain gradient descent
//! matches L2 here with `λ = wd · m`. By default only parameters of kind
//! [`ParamKind::Weight`] are penalised (not biases or batch norm's γ, β); `all_params`
//! penalises every parameter. Frozen weights are included (they still count in the cost; they
//! just receive no update).

use crate::error::Result;
use crate::param::{Param, ParamKind};
use dlkit_core::{Error as TensorError, Tensor};
use serde::{Deserialize, Serialize};

/// Which norm the penalty takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    L1,
    L2,
}

/// A weight penalty. In configs: `regularization = { norm = "l2", lambda = 0.7 }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regularizer {
    pub norm: Norm,
    pub lambda: f64,
    /// Penalise every parameter, not only the weights.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_params: bool,
}

impl Regularizer {
    /// `λ/(2m) Σ ‖W‖²` over the weights.
    pub fn l2(lambda: f64) -> Self {
        Regularizer {
            norm: Norm::L2,
            lambda,
            all_params: false,
        }
    }

    /// `λ/m Σ |W|` over the weights.
    pub fn l1(lambda: f64) -> Self {
        Regularizer {
            norm: Norm::L1,
            lambda,
            all_params: false,
        }
    }

    /// Penalises every parameter (`true`) or only those of kind `Weight` (`false`, default).
    pub fn with_all_params(mut self, on: bool) -> Self {
        self.all_params = on;
        self
    }

    fn op(&self) -> &'static str {
        match self.norm {
            Norm::L1 => "l1_penalty",
            Norm::L2 => "l2_penalty",
        }
    }

    /// Whether parameter `p` is penalised.
    pub fn applies_to(&self, p: &Param) -> bool {
        self.all_params || p.kind == ParamKind::Weight
    }

    /// The penalty for a batch of `m` examples, as a tracked 0-d tensor in the parameters'
    /// dtype (0 when no parameter is penalised). Errors if `λ` is negative or not finite,
    /// `m = 0`, `params` is empty or the parameters' dtypes differ.
    pub fn penalty(&self, params: &[Param], m: usize) -> Result<Tensor> {
        let op = self.op();
        let invalid = |msg: String| TensorError::Invalid { op, msg };
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(invalid(format!("needs a finite lambda >= 0, got {}", self.lambda)).into());
        }
        if m == 0 {
            return Err(invalid("needs the batch size m >= 1, got 0".into()).into());
        }
        let first = params
            .first()
            .ok_or_else(|| invalid("no parameters given".into()))?;
        let mut total = Tensor::zeros(&[], first.tensor.dtype());
        for p in params.iter().filter(|p| self.applies_to(p)) {
            let w = &p.tensor;
            let term = match self.norm {
                Norm::L1 => w.abs().sum_all(),
                Norm::L2 => w.square().sum_all(),
            };
            total = total.try_add(&term)?;
        }
        let scale = match self.norm {
            Norm::L1 => self.lambda / m as f64,
            Norm::L2 => self.lambda / (2.0 * m as f64),
        };
        Ok(total.mul_scalar(scale))
    }
}

/// `λ/(2m) Σ ‖W‖²` over the parameters of kind `Weight` (see [`Regularizer::penalty`]).
pub fn l2_penalty(params: &[Param], lambda: f64, m: usize) -> Result<Tensor> {
    Regularizer::l2(lambda).penalty(params, m)
}

/// `λ/m Σ |W|` over the parameters of kind `Weight` (see [`Regularizer::penalty`]).
pub fn l1_penalty(params: &[Param], lambda: f64, m: usize) -> Result<Tensor> {
    Regularizer::l1(lambda).penalty(params, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Param> {
        vec![
            Param::new(
                "w",
                Tensor::from_vec(vec![1.0, -2.0, 3.0], &[3]),
                ParamKind::Weight,
            ),
            Param::new("b", Tensor::from_vec(vec![10.0], &[1]), ParamKind::Bias),
        ]
    }

    #[test]
    fn hand_computed_values() {
        let p = params();
        // L2: 0.5 / (2 * 2) * (1 + 4 + 9) = 1.75; L1: 0.5 / 2 * 6 = 1.5.
        assert_eq!(l2_penalty(&p, 0.5, 2).unwrap().item(), 1.75);
        assert_eq!(l1_penalty(&p, 0.5, 2).unwrap().item(), 1.5);
        let all = Regularizer::l1(0.5).with_all_params(true);
        assert_eq!(all.penalty(&p, 2).unwrap().item(), 0.25 * 16.0);
    }

    #[test]
    fn gradient_is_weight_decay() {
        let p = params();
        l2_penalty(&p, 0.5, 2).unwrap().backward();
        // (λ/m) W = 0.25 W; the bias gets nothing.
        assert_eq!(
            p[0].tensor.grad().unwrap().to_vec::<f64>(),
            vec![0.25, -0.5, 0.75]
        );
        assert!(p[1].tensor.grad().is_none());
    }

    #[test]
    fn bad_settings_are_errors() {
        let p = params();
        let e = l2_penalty(&p, -1.0, 2).unwrap_err().to_string();
        assert!(e.contains("l2_penalty") && e.contains("lambda"), "{e}");
        let e = l1_penalty(&p, 1.0, 0).unwrap_err().to_string();
        assert!(e.contains("m >= 1"), "{e}");
        assert!(l1_penalty(&[], 1.0, 1).is_err());
    }
}

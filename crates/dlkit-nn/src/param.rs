//! Named parameters: what optimisers update, regularisers penalise and files store.

use dlkit_core::Tensor;
use serde::{Deserialize, Serialize};

/// What a parameter is for; regularisation applies to weights only by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A dense or convolution kernel.
    Weight,
    /// An additive bias.
    Bias,
    /// Batch norm's learnable scale γ.
    Scale,
    /// Batch norm's learnable shift β.
    Shift,
}

/// A parameter tensor with a stable name such as `"2.weight"`.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub tensor: Tensor,
    pub kind: ParamKind,
}

impl Param {
    /// A trainable parameter (its tensor requires a gradient).
    pub fn new(name: impl Into<String>, tensor: Tensor, kind: ParamKind) -> Self {
        tensor.set_requires_grad(true);
        Param {
            name: name.into(),
            tensor,
            kind,
        }
    }

    /// Whether optimisers update it (false once frozen).
    pub fn trainable(&self) -> bool {
        self.tensor.requires_grad()
    }

    /// Freezes (`false`) or unfreezes (`true`) the parameter, for transfer learning.
    pub fn set_trainable(&self, on: bool) {
        self.tensor.set_requires_grad(on);
        if !on {
            self.tensor.zero_grad();
        }
    }

    /// The same parameter with `prefix.` before its name.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.name = format!("{prefix}.{}", self.name);
        self
    }
}

//! Activation layers: sigmoid, tanh, ReLU, leaky ReLU, softmax (over the last axis).

use crate::error::Result;
use crate::module::Module;
use crate::spec::LayerSpec;
use dlkit_core::Tensor;

/// An elementwise (or, for softmax, per-example) activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu { slope: f64 },
    Softmax,
}

impl Activation {
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match *self {
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu { slope } => x.leaky_relu(slope),
            Activation::Softmax => x.try_softmax(-1)?,
        })
    }

    /// The layer description of this activation (`{ type = "relu" }`).
    pub fn layer_spec(&self) -> LayerSpec {
        match *self {
            Activation::Sigmoid => LayerSpec::Sigmoid,
            Activation::Tanh => LayerSpec::Tanh,
            Activation::Relu => LayerSpec::Relu,
            Activation::LeakyRelu { slope } => LayerSpec::LeakyRelu { slope },
            Activation::Softmax => LayerSpec::Softmax,
        }
    }
}

impl Module for Activation {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.apply(x)
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(self.layer_spec())
    }
}

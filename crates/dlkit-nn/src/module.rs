//! The `Module` abstraction every layer and container implements.

use crate::error::Result;
use crate::param::Param;
use crate::spec::LayerSpec;
use dlkit_core::Tensor;

/// A layer or a container of layers.
///
/// `forward` takes a batch (batch axis first). Parameters are named relative to the module;
/// containers prefix their children's names with the child's index, so names are stable
/// across runs and identify tensors in saved files.
pub trait Module: Send + Sync {
    /// Runs the module on a batch.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Learnable parameters, named.
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }

    /// State that is saved but not learned by gradient (batch norm's running statistics).
    fn buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Switches between training (dropout on, batch statistics) and evaluation.
    fn set_training(&mut self, _training: bool) {}

    /// Restarts the random streams of this module (dropout masks) from `seed`, so that a
    /// training run resumed from a checkpoint draws the same masks as an uninterrupted one.
    /// Containers pass each child a seed derived from `seed` and the child's index.
    fn reseed(&self, _seed: u64) {}

    /// The description this module is rebuilt from when a saved model is loaded.
    fn spec(&self) -> LayerSpec;

    /// Freezes every parameter (no gradient, no update), for transfer learning.
    fn freeze(&self) {
        self.parameters()
            .iter()
            .for_each(|p| p.set_trainable(false));
    }

    /// Makes every parameter trainable again.
    fn unfreeze(&self) {
        self.parameters().iter().for_each(|p| p.set_trainable(true));
    }
}

//! The `Module` abstraction every layer and container implements.
//!
//! A module holds its own tensors (a dense layer's weight and bias) and may be made of child
//! modules (a `Sequential`'s layers, a residual block's branches). Everything that walks a
//! model — its named parameters and buffers, the training mode, reseeding the random streams,
//! freezing — has a default here that visits the module itself and then its
//! [`children`](Module::children), so a container only says what its children are.

use crate::error::Result;
use crate::param::Param;
use crate::spec::LayerSpec;
use dlkit_core::Tensor;

/// A layer or a container of layers.
///
/// `forward` takes a batch (batch axis first). Tensor names are relative to the module: a
/// child's names get the child's name as a prefix (`"2.weight"`, `"main.0.weight"`), so names
/// are stable across runs and identify tensors in saved files and checkpoints.
pub trait Module: Send + Sync {
    /// Runs the module on a batch.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Runs a module of several inputs or outputs (a graph) on one batch per input, giving
    /// one batch per output. The default takes exactly one input and calls
    /// [`forward`](Module::forward).
    fn forward_many(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        match xs {
            [x] => Ok(vec![self.forward(x)?]),
            _ => Err(dlkit_core::Error::Invalid {
                op: "forward_many",
                msg: format!("this module takes one input, got {}", xs.len()),
            }
            .into()),
        }
    }

    /// This module's own learnable parameters (not its children's), named.
    fn own_parameters(&self) -> Vec<Param> {
        Vec::new()
    }

    /// This module's own state that is saved but not learned by gradient (batch norm's
    /// running statistics), named.
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// The modules this one is made of, each with the name that prefixes its tensors' names,
    /// in a fixed order.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// [`children`](Module::children), mutably, in the same order.
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        Vec::new()
    }

    /// Switches this module itself between training and evaluation (dropout masks, batch
    /// statistics); [`set_training`](Module::set_training) also switches the children.
    fn set_own_training(&mut self, _training: bool) {}

    /// Restarts this module's own random stream (dropout masks) from `seed`.
    fn own_reseed(&self, _seed: u64) {}

    /// Learnable parameters of the module and its children, named `child.name` recursively.
    fn parameters(&self) -> Vec<Param> {
        let mut all = self.own_parameters();
        for (name, child) in self.children() {
            all.extend(child.parameters().into_iter().map(|p| p.prefixed(&name)));
        }
        all
    }

    /// Buffers of the module and its children, named like [`parameters`](Module::parameters).
    fn buffers(&self) -> Vec<(String, Tensor)> {
        let mut all = self.own_buffers();
        for (name, child) in self.children() {
            all.extend(
                child
                    .buffers()
                    .into_iter()
                    .map(|(n, t)| (format!("{name}.{n}"), t)),
            );
        }
        all
    }

    /// Switches the module and every child between training (dropout on, batch statistics)
    /// and evaluation.
    fn set_training(&mut self, training: bool) {
        self.set_own_training(training);
        for (_, child) in self.children_mut() {
            child.set_training(training);
        }
    }

    /// Restarts the random streams of this module and its children (dropout masks) from
    /// `seed`, so that a training run resumed from a checkpoint draws the same masks as an
    /// uninterrupted one. Child `i` (in [`children`](Module::children)'s order) gets
    /// [`child_seed`]`(seed, i)`.
    fn reseed(&self, seed: u64) {
        self.own_reseed(seed);
        for (i, (_, child)) in self.children().into_iter().enumerate() {
            child.reseed(child_seed(seed, i));
        }
    }

    /// The description this module is rebuilt from when a saved model is loaded; `None` for a
    /// module that can only be built in code (it trains, but saves its weights only).
    fn spec(&self) -> Option<LayerSpec> {
        None
    }

    /// Freezes (`false`) or unfreezes (`true`) the module and everything inside it, with
    /// Keras' semantics of `layer.trainable = False`: its parameters need no gradient and
    /// get no update (optimisers skip them, weight decay included), and a frozen batch norm
    /// normalises with its running statistics and leaves them unchanged even while the model
    /// trains. Saved descriptions say `trainable = false` for frozen layers.
    ///
    /// PyTorch differs: `requires_grad_(False)` stops the updates of the parameters, but a
    /// `BatchNorm` in `train()` mode still normalises with batch statistics and updates its
    /// running statistics; one calls `.eval()` on the frozen part as well.
    fn set_trainable(&self, on: bool) {
        self.parameters().iter().for_each(|p| p.set_trainable(on));
    }

    /// Whether the module learns: false when it has parameters and every one is frozen.
    fn trainable(&self) -> bool {
        let params = self.parameters();
        params.is_empty() || params.iter().any(|p| p.trainable())
    }

    /// [`set_trainable`](Module::set_trainable)`(false)`: freezes the module, for transfer
    /// learning.
    fn freeze(&self) {
        self.set_trainable(false);
    }

    /// [`set_trainable`](Module::set_trainable)`(true)`: makes every parameter trainable
    /// again.
    fn unfreeze(&self) {
        self.set_trainable(true);
    }
}

/// A seed for child `index` of a container, mixed so that neighbours' streams differ
/// (SplitMix64's finaliser).
pub fn child_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

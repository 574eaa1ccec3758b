//! Graph models (as Keras's functional API): layers as named nodes that name their inputs,
//! `add` and `concatenate` merges, several inputs and several outputs.
//!
//! Values flow by name: each input and node gives one tensor, and a node takes the tensors of
//! the inputs or earlier nodes it names. A layer node applies its layer (any [`LayerSpec`](crate::LayerSpec),
//! a chain or a block included) to one input; a merge node takes two or more:
//!
//! - `add`: `y = x₁ + x₂ + …` elementwise, every `xᵢ` of one shape (a skip connection);
//! - `concatenate`: the `xᵢ` joined on the last axis, `[…, c₁] ⊕ […, c₂] = […, c₁ + c₂]`,
//!   the other axes equal (channels of NHWC images, features of flat inputs).
//!
//! Nodes are listed after the nodes they use, so a graph has no cycles and runs in the order
//! written. Building checks every name (unknown, duplicate, used before it is defined, never
//! used) and every shape, with errors that name the nodes involved.
//!
//! In TOML:
//!
//! ```toml
//! [[layers]]
//! type = "graph"
//! inputs = ["image", { name = "meta", shape = [4] }]
//! outputs = ["logits"]
//! nodes = [
//!   { name = "c1", input = "image", layer = { type = "conv2d", filters = 8, kernel = 3 } },
//!   { name = "pool", input = "c1", layer = { type = "global_avg_pool" } },
//!   { name = "cat", op = "concatenate", inputs = ["pool", "meta"] },
//!   { name = "logits", input = "cat", layer = { type = "dense", units = 3 } },
//! ]
//! ```
//!
//! As a layer among others (in a `Sequential`, in a saved model), a graph takes the shape of
//! its first input from the layer before and gives its first output's shape; its other inputs
//! declare their shapes. [`Module::forward`](crate::Module::forward) runs a graph of one input
//! and one output; [`Module::forward_many`](crate::Module::forward_many) runs any graph on
//! one batch per input. Parameters and buffers are named after their node (`"c1.weight"`).

mod build;
mod builder;
mod model;
mod names;
mod spec;

pub(crate) use build::Stepped;
pub use builder::GraphBuilder;
pub use model::{Graph, GraphOp};
pub use spec::{GraphInput, GraphSpec, MergeOp, NodeOp, NodeSpec};

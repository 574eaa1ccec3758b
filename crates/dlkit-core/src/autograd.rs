//! Reverse-mode automatic differentiation over the graph of recorded ops.
//!
//! Each op records its inputs and a backward closure beside its forward (see `ops/`);
//! `backward` walks the graph once in reverse topological order, summing the gradients of a
//! tensor that feeds several ops, and stores the totals on the leaves.

use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};
use std::cell::Cell;
use std::collections::HashMap;

type BackwardFn = dyn Fn(&Tensor, &Tensor) -> Vec<Option<Tensor>> + Send + Sync;

/// The record of the op that made a tensor.
pub(crate) struct Node {
    pub(crate) name: &'static str,
    pub(crate) inputs: Vec<Tensor>,
    pub(crate) backward: Box<BackwardFn>,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread record the graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns off graph recording until dropped (evaluation, optimiser updates).
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` without recording the graph, as PyTorch's `torch.no_grad()`.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Tensors reachable from `root` that need a gradient, inputs before the ops that use them.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = std::collections::HashSet::new();
    // Iterative depth-first search: (tensor, children already pushed).
    let mut stack = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(node) = &t.0.node {
            for input in &node.inputs {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order
}

impl Tensor {
    /// Computes the gradient of this scalar with respect to every leaf that requires one,
    /// adding it to the leaf's `grad()` (call `zero_grad` between steps, as in PyTorch).
    pub fn try_backward(&self) -> Result<()> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "backward",
                format!(
                    "needs a scalar (one element) to start from, the shape is {:?}",
                    self.shape()
                ),
            ));
        }
        if !self.requires_grad() {
            return Err(Error::invalid(
                "backward",
                "the tensor does not require a gradient: no input was marked with_grad()",
            ));
        }
        let seed = Tensor::ones(self.shape(), self.dtype());
        self.backward_with(seed);
        Ok(())
    }

    pub fn backward(&self) {
        self.try_backward().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Back-propagates `grad` (of this tensor's shape) through the graph.
    pub(crate) fn backward_with(&self, grad: Tensor) {
        let _guard = NoGradGuard::new();
        let order = topological_order(self);
        let mut grads: HashMap<TensorId, Tensor> = HashMap::new();
        grads.insert(self.id(), grad);
        for t in order.iter().rev() {
            let Some(g) = grads.remove(&t.id()) else {
                continue;
            };
            let Some(node) = &t.0.node else {
                t.accumulate_grad(g);
                continue;
            };
            let input_grads = (node.backward)(t, &g);
            debug_assert_eq!(input_grads.len(), node.inputs.len(), "op {}", node.name);
            for (input, gi) in node.inputs.iter().zip(input_grads) {
                let Some(gi) = gi else { continue };
                if !input.requires_grad() {
                    continue;
                }
                let gi = gi.sum_to(input.shape());
                let total = match grads.remove(&input.id()) {
                    Some(prev) => prev.add(&gi),
                    None => gi,
                };
                grads.insert(input.id(), total);
            }
        }
    }
}

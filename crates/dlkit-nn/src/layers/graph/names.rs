//! The checks on a graph's names, shared by graphs built from a description and graphs
//! assembled from built modules: unique names, inputs and outputs present, every node after
//! the nodes it uses, every input and node used.

use crate::error::{Error, Result};
use std::collections::HashMap;

/// A graph's names: inputs, then nodes (name, the names it takes, what it is, whether it is
/// a merge), then outputs.
/// An input or node is addressed by its slot: inputs first, then nodes in order.
pub(super) struct Names<'a> {
    pub(super) inputs: Vec<&'a str>,
    pub(super) nodes: Vec<(&'a str, &'a [String], &'a str, bool)>,
    pub(super) outputs: &'a [String],
}

/// Where each node takes its values from and where the outputs are, by slot.
pub(super) struct Resolved {
    pub(super) sources: Vec<Vec<usize>>,
    pub(super) outputs: Vec<usize>,
}

impl Names<'_> {
    /// Names an input or node in messages: "input `x`", "node `h` (dense)".
    pub(super) fn describe(&self, slot: usize) -> String {
        match slot.checked_sub(self.inputs.len()) {
            None => format!("input `{}`", self.inputs[slot]),
            Some(j) => format!("node `{}` ({})", self.nodes[j].0, self.nodes[j].2),
        }
    }

    /// Resolves every name to its slot, or an error naming the inputs and nodes at fault. A
    /// layer node takes one input, a merge two or more.
    pub(super) fn resolve(&self) -> Result<Resolved> {
        let slots = self.slots()?;
        let n_in = self.inputs.len();
        let mut used = vec![false; slots.len()];
        let mut sources = Vec::with_capacity(self.nodes.len());
        for (j, &(_, inputs, _, merge)) in self.nodes.iter().enumerate() {
            let here = n_in + j;
            if merge && inputs.len() < 2 {
                return Err(Error::build(format!(
                    "graph: {} merges two or more inputs but takes {}",
                    self.describe(here),
                    inputs.len()
                )));
            }
            if !merge && inputs.len() != 1 {
                return Err(Error::build(format!(
                    "graph: {} applies a layer to one input but takes {} ({}); merge them \
                     first with an `add` or `concatenate` node",
                    self.describe(here),
                    inputs.len(),
                    inputs.join(", ")
                )));
            }
            let node = inputs.iter().map(|name| match slots.get(name.as_str()) {
                Some(&s) if s < here => Ok(s),
                Some(&s) if s == here => Err(Error::build(format!(
                    "graph: {} takes itself as input; a graph has no cycles",
                    self.describe(here)
                ))),
                Some(&s) => Err(Error::build(format!(
                    "graph: {} uses {}, which comes after it; list every node after the nodes \
                     it uses (a graph has no cycles)",
                    self.describe(here),
                    self.describe(s)
                ))),
                None => Err(Error::build(format!(
                    "graph: {} takes `{name}`, which is no input or node of the graph",
                    self.describe(here)
                ))),
            });
            let node = node.collect::<Result<Vec<usize>>>()?;
            node.iter().for_each(|&s| used[s] = true);
            sources.push(node);
        }
        let mut outputs = Vec::with_capacity(self.outputs.len());
        for (k, out) in self.outputs.iter().enumerate() {
            let Some(&s) = slots.get(out.as_str()) else {
                return Err(Error::build(format!(
                    "graph: output `{out}` is no input or node of the graph"
                )));
            };
            if self.outputs[..k].contains(out) {
                return Err(Error::build(format!(
                    "graph: output `{out}` is listed twice"
                )));
            }
            used[s] = true;
            outputs.push(s);
        }
        if let Some(s) = used.iter().position(|u| !u) {
            return Err(Error::build(format!(
                "graph: {} is not used by any node and is no output",
                self.describe(s)
            )));
        }
        Ok(Resolved { sources, outputs })
    }

    /// Every name's slot, after checking that there are inputs and outputs and that no two
    /// inputs or nodes share a name.
    fn slots(&self) -> Result<HashMap<&str, usize>> {
        if self.inputs.is_empty() {
            return Err(Error::build("graph: needs at least one input"));
        }
        if self.outputs.is_empty() {
            return Err(Error::build("graph: needs at least one output"));
        }
        let names = self.inputs.iter().copied();
        let names = names.chain(self.nodes.iter().map(|n| n.0));
        let mut slots = HashMap::new();
        for (slot, name) in names.enumerate() {
            if let Some(first) = slots.insert(name, slot) {
                return Err(Error::build(format!(
                    "graph: {} and {} have the same name; every input and node needs its own",
                    self.describe(first),
                    self.describe(slot)
                )));
            }
        }
        Ok(slots)
    }
}

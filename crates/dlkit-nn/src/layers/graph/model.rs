//! The built graph: its nodes' layers and merges, run in order on named values.

use super::names::Names;
use super::spec::{GraphInput, GraphSpec, MergeOp, NodeOp, NodeSpec};
use crate::error::Result;
use crate::module::Module;
use crate::spec::LayerSpec;
use dlkit_core::Tensor;

/// What a built node computes: a built layer on one input, or a merge.
pub enum GraphOp {
    Layer(Box<dyn Module>),
    Merge(MergeOp),
}

/// A built node: its name, the names it takes, their slots (inputs first, then nodes in
/// order), and its layer or merge.
pub(super) struct GraphNode {
    pub(super) name: String,
    pub(super) inputs: Vec<String>,
    pub(super) sources: Vec<usize>,
    pub(super) module: GraphOp,
}

impl GraphOp {
    /// What the node is, as messages name it: its layer's type (`"layer"` for a layer
    /// without a spec) or its merge.
    fn kind(&self) -> String {
        match self {
            GraphOp::Layer(l) => l.spec().map_or("layer".into(), |s| s.kind().to_string()),
            GraphOp::Merge(op) => op.kind().to_string(),
        }
    }
}

/// A graph of layers with named inputs, nodes and outputs, built by
/// [`GraphSpec::build_graph`] or [`GraphBuilder`](super::GraphBuilder).
///
/// Each node's layer is a child named after the node (`"h.weight"`); merges hold no
/// tensors. Children come in node order.
pub struct Graph {
    pub(super) inputs: Vec<GraphInput>,
    nodes: Vec<GraphNode>,
    output_names: Vec<String>,
    outputs: Vec<usize>,
}

impl Graph {
    pub(super) fn new(
        inputs: Vec<GraphInput>,
        nodes: Vec<GraphNode>,
        output_names: Vec<String>,
        outputs: Vec<usize>,
    ) -> Self {
        Graph {
            inputs,
            nodes,
            output_names,
            outputs,
        }
    }

    /// A graph of built modules: `inputs` named, then `nodes` as (name, the names it takes,
    /// its layer or merge), then the names of the `outputs`. Names are checked as
    /// [`GraphSpec::build_graph`] checks them; shapes are checked when the graph runs.
    pub fn from_modules(
        inputs: &[&str],
        nodes: Vec<(&str, &[&str], GraphOp)>,
        outputs: &[&str],
    ) -> Result<Graph> {
        let node_inputs: Vec<Vec<String>> = nodes
            .iter()
            .map(|(_, ins, _)| ins.iter().map(|s| s.to_string()).collect())
            .collect();
        let output_names: Vec<String> = outputs.iter().map(|s| s.to_string()).collect();
        let kinds: Vec<String> = nodes.iter().map(|(_, _, op)| op.kind()).collect();
        let names = Names {
            inputs: inputs.to_vec(),
            nodes: nodes
                .iter()
                .zip(&node_inputs)
                .zip(&kinds)
                .map(|(((name, _, op), ins), kind)| {
                    (
                        *name,
                        &ins[..],
                        kind.as_str(),
                        matches!(op, GraphOp::Merge(_)),
                    )
                })
                .collect(),
            outputs: &output_names,
        };
        let resolved = names.resolve()?;
        let nodes = nodes.into_iter().zip(node_inputs).zip(resolved.sources);
        let nodes = nodes
            .map(|(((name, _, module), inputs), sources)| GraphNode {
                name: name.to_string(),
                inputs,
                sources,
                module,
            })
            .collect();
        let inputs = inputs.iter().map(|&name| GraphInput::new(name)).collect();
        Ok(Graph::new(inputs, nodes, output_names, resolved.outputs))
    }

    /// The inputs' names, in the order [`Module::forward_many`] takes them.
    pub fn input_names(&self) -> Vec<&str> {
        self.inputs.iter().map(|i| i.name.as_str()).collect()
    }

    /// The outputs' names, in the order [`Module::forward_many`] returns them.
    pub fn output_names(&self) -> Vec<&str> {
        self.output_names.iter().map(String::as_str).collect()
    }

    /// The tensors of a merge, in order: `add` sums left to right, `concatenate` joins on the
    /// last axis. Shapes are checked again here, as a graph may run on examples of another
    /// shape than it was built for.
    fn merge(node: &GraphNode, op: MergeOp, xs: &[&Tensor]) -> Result<Tensor> {
        match op {
            MergeOp::Add => {
                let mut sum = xs[0].clone();
                for (k, x) in xs.iter().enumerate().skip(1) {
                    if x.shape() != xs[0].shape() {
                        return Err(dlkit_core::Error::ShapeMismatch {
                            op: "graph add",
                            lhs: xs[0].shape().to_vec(),
                            rhs: x.shape().to_vec(),
                            detail: format!(
                                "node `{}` adds `{}` and `{}`, which must have the same shape",
                                node.name, node.inputs[0], node.inputs[k]
                            ),
                        }
                        .into());
                    }
                    sum = sum.try_add(x)?;
                }
                Ok(sum)
            }
            MergeOp::Concatenate => Ok(Tensor::try_concat(xs, -1)?),
        }
    }
}

impl Module for Graph {
    /// The graph of one input and one output on a batch; see
    /// [`forward_many`](Module::forward_many) for more.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.inputs.len() != 1 || self.outputs.len() != 1 {
            return Err(dlkit_core::Error::Invalid {
                op: "graph",
                msg: format!(
                    "forward takes a graph of one input and one output, this one has inputs \
                     ({}) and outputs ({}); call forward_many",
                    self.input_names().join(", "),
                    self.output_names.join(", ")
                ),
            }
            .into());
        }
        Ok(self.forward_many(std::slice::from_ref(x))?.remove(0))
    }

    /// One batch per input, in [`Graph::input_names`] order; one per output, in
    /// [`Graph::output_names`] order. Nodes run in order, each on its inputs' values.
    fn forward_many(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        if xs.len() != self.inputs.len() {
            return Err(dlkit_core::Error::Invalid {
                op: "graph",
                msg: format!(
                    "takes {} inputs ({}) but got {}",
                    self.inputs.len(),
                    self.input_names().join(", "),
                    xs.len()
                ),
            }
            .into());
        }
        let mut values: Vec<Tensor> = xs.to_vec();
        for node in &self.nodes {
            let ins: Vec<&Tensor> = node.sources.iter().map(|&s| &values[s]).collect();
            let out = match &node.module {
                GraphOp::Layer(layer) => layer.forward(ins[0])?,
                GraphOp::Merge(op) => Self::merge(node, *op, &ins)?,
            };
            values.push(out);
        }
        Ok(self.outputs.iter().map(|&s| values[s].clone()).collect())
    }

    /// Node `h`'s layer is named `"h"`.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        let layers = self.nodes.iter().filter_map(|n| match &n.module {
            GraphOp::Layer(l) => Some((n.name.clone(), l.as_ref())),
            GraphOp::Merge(_) => None,
        });
        layers.collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        let layers = self.nodes.iter_mut().filter_map(|n| match &mut n.module {
            GraphOp::Layer(l) => Some((n.name.clone(), l.as_mut() as &mut dyn Module)),
            GraphOp::Merge(_) => None,
        });
        layers.collect()
    }

    /// The graph's description, every node's layer by its own spec; `None` when a layer has
    /// none.
    fn spec(&self) -> Option<LayerSpec> {
        let nodes = self.nodes.iter().map(|n| {
            let op = match &n.module {
                GraphOp::Layer(l) => NodeOp::Layer(l.spec()?),
                GraphOp::Merge(op) => NodeOp::Merge(*op),
            };
            Some(NodeSpec {
                name: n.name.clone(),
                inputs: n.inputs.clone(),
                op,
            })
        });
        Some(LayerSpec::Graph(GraphSpec {
            inputs: self.inputs.clone(),
            nodes: nodes.collect::<Option<_>>()?,
            outputs: self.output_names.clone(),
            trainable: self.trainable(),
        }))
    }
}

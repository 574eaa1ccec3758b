//! Building a graph from its description: names resolved, node order and use checked, each
//! node's layer built on the shape its input gives and each merge's shapes checked, with
//! errors that name the nodes involved.

use super::model::{Graph, GraphNode, GraphOp};
use super::names::Names;
use super::spec::{GraphInput, GraphSpec, MergeOp, NodeOp, NodeSpec};
use crate::error::{Error, Result};
use crate::module::Module;
use crate::shape::Step;
use crate::spec::{BuildContext, Built};

impl GraphSpec {
    /// The declared shape of every input; an error naming the first input without one.
    pub fn declared_shapes(&self) -> Result<Vec<Vec<usize>>> {
        let shapes = self.inputs.iter().map(|i| {
            i.shape.clone().ok_or_else(|| {
                Error::build(format!(
                    "graph: input `{}` declares no shape; write it {{ name = \"{}\", shape = \
                     [...] }}",
                    i.name, i.name
                ))
            })
        });
        shapes.collect()
    }

    /// The shape of every input when the graph is a layer of one input shape: `input` for
    /// the first, the declared shape for every other (an error naming the first without one).
    pub(crate) fn layer_shapes(&self, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        let mut shapes = vec![input.to_vec()];
        for i in self.inputs.iter().skip(1) {
            shapes.push(i.shape.clone().ok_or_else(|| {
                Error::build(format!(
                    "graph: input `{}` declares no shape; as a layer, a graph takes the shape of \
                     its first input only, so every other input needs {{ name = \"{}\", shape = \
                     [...] }}",
                    i.name, i.name
                ))
            })?);
        }
        Ok(shapes)
    }

    /// Builds the graph as a layer of one input shape: `input` is the shape of the first
    /// input, every other input must declare its own; the shape returned is the first
    /// output's.
    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let shapes = self.layer_shapes(input)?;
        let (mut graph, mut outs) = self.build_graph(ctx, &shapes)?;
        // The first input's shape comes from the layer before: it stays as declared.
        graph.inputs[0].shape = self.inputs[0].shape.clone();
        Ok((Box::new(graph), outs.swap_remove(0)))
    }

    /// Builds the graph for one example shape per input (batch axis excluded), each checked
    /// against the input's declared shape. Returns the graph, whose spec declares these
    /// shapes, and its outputs' shapes.
    ///
    /// Errors name the nodes involved: an unknown name, a node that uses a later node (a
    /// graph has no cycles), a duplicate name, an input or node that nothing uses, a layer
    /// that does not fit its input, a merge of shapes that do not agree.
    pub fn build_graph(
        &self,
        ctx: &mut BuildContext,
        shapes: &[Vec<usize>],
    ) -> Result<(Graph, Vec<Vec<usize>>)> {
        let walked = self.walk(ctx, shapes)?;
        let shapes_out = walked.output_shapes();
        let parts = self.nodes.iter().zip(walked.sources).zip(walked.nodes);
        let nodes = parts
            .map(|((node, sources), layer)| GraphNode {
                name: node.name.clone(),
                inputs: node.inputs.clone(),
                sources,
                module: match layer {
                    Stepped::Layer(layer) => GraphOp::Layer(layer),
                    Stepped::Merge(op) => GraphOp::Merge(op),
                },
            })
            .collect();
        let inputs = self.inputs.iter().zip(shapes);
        let inputs = inputs
            .map(|(i, s)| GraphInput::with_shape(i.name.clone(), s))
            .collect();
        let graph = Graph::new(inputs, nodes, self.outputs.clone(), walked.outputs);
        if !self.trainable {
            graph.set_trainable(false);
        }
        Ok((graph, shapes_out))
    }

    /// Checks the names, then takes `step` through the nodes in order for one example shape
    /// per input, each layer on the shape its input gives and each merge's shapes checked,
    /// with [`GraphSpec::build_graph`]'s errors.
    pub(crate) fn walk<S: Step>(
        &self,
        step: &mut S,
        shapes: &[Vec<usize>],
    ) -> Result<Walked<S::Layer>> {
        let names = self.names();
        let resolved = names.resolve()?;
        let n_in = self.inputs.len();
        if shapes.len() != n_in {
            return Err(Error::build(format!(
                "graph: {n_in} inputs ({}) but {} shapes given",
                names.inputs.join(", "),
                shapes.len()
            )));
        }
        for (input, shape) in self.inputs.iter().zip(shapes) {
            if let Some(declared) = input.shape.as_ref().filter(|d| *d != shape) {
                return Err(Error::build(format!(
                    "graph: input `{}` declares shape {declared:?} but gets {shape:?}",
                    input.name
                )));
            }
        }
        let mut out_shapes: Vec<Vec<usize>> = shapes.to_vec();
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for (j, (node, sources)) in self.nodes.iter().zip(&resolved.sources).enumerate() {
            let here = n_in + j;
            let ins: Vec<&Vec<usize>> = sources.iter().map(|&s| &out_shapes[s]).collect();
            let (stepped, shape) = match &node.op {
                NodeOp::Layer(spec) => {
                    let src = sources[0];
                    let (layer, out) = step.layer(spec, ins[0]).map_err(|e| {
                        let why = match e {
                            Error::Build(m) => m,
                            other => other.to_string(),
                        };
                        Error::build(format!(
                            "graph: {} does not fit {} of shape {:?}: {why}",
                            names.describe(here),
                            names.describe(src),
                            ins[0]
                        ))
                    })?;
                    (Stepped::Layer(layer), out)
                }
                NodeOp::Merge(op) => (Stepped::Merge(*op), merge_shape(node, *op, &ins)?),
            };
            out_shapes.push(shape);
            nodes.push(stepped);
        }
        Ok(Walked {
            nodes,
            sources: resolved.sources,
            outputs: resolved.outputs,
            shapes: out_shapes,
        })
    }

    /// The names this graph's checks and messages use.
    fn names(&self) -> Names<'_> {
        Names {
            inputs: self.inputs.iter().map(|i| i.name.as_str()).collect(),
            nodes: self
                .nodes
                .iter()
                .map(|n| {
                    (
                        n.name.as_str(),
                        &n.inputs[..],
                        n.kind(),
                        matches!(n.op, NodeOp::Merge(_)),
                    )
                })
                .collect(),
            outputs: &self.outputs,
        }
    }
}

/// A walk through a graph: what the step made of each node, where each node takes its
/// values from and where the outputs are (by slot: inputs first, then nodes in order), and
/// the shape of every slot.
pub(crate) struct Walked<L> {
    pub(crate) nodes: Vec<Stepped<L>>,
    pub(crate) sources: Vec<Vec<usize>>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) shapes: Vec<Vec<usize>>,
}

/// A node after a walk: its layer as the step made it, or its merge.
pub(crate) enum Stepped<L> {
    Layer(L),
    Merge(MergeOp),
}

impl<L> Walked<L> {
    /// The shape of each output, in order.
    pub(crate) fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.outputs
            .iter()
            .map(|&s| self.shapes[s].clone())
            .collect()
    }
}

/// The shape a merge gives, or an error naming the merge and the two inputs that disagree:
/// `add` needs equal shapes, `concatenate` equal shapes but for the last axis.
fn merge_shape(node: &NodeSpec, op: MergeOp, ins: &[&Vec<usize>]) -> Result<Vec<usize>> {
    let at = format!("graph: node `{}` ({})", node.name, op.kind());
    let name = |k: usize| &node.inputs[k];
    let first = ins[0];
    let differs = |what: &str, k: usize| {
        let (a, b) = (name(0), name(k));
        Error::build(format!(
            "{at}: input `{a}` gives {first:?} but `{b}` gives {:?}; {what}",
            ins[k]
        ))
    };
    match op {
        MergeOp::Add => match (1..ins.len()).find(|&k| ins[k] != first) {
            Some(k) => Err(differs("add needs equal shapes", k)),
            None => Ok(first.clone()),
        },
        MergeOp::Concatenate => {
            let lead = |s: &[usize]| s.split_last().map(|(_, l)| l.to_vec());
            if first.is_empty() {
                return Err(Error::build(format!(
                    "{at}: input `{}` gives a scalar shape []; concatenation joins inputs on \
                     their last axis",
                    name(0)
                )));
            }
            if let Some(k) = (1..ins.len()).find(|&k| lead(ins[k]) != lead(first)) {
                return Err(differs(
                    "concatenation on the last axis needs the other axes equal",
                    k,
                ));
            }
            let mut shape = first.clone();
            *shape.last_mut().expect("not a scalar") = ins.iter().map(|s| s[s.len() - 1]).sum();
            Ok(shape)
        }
    }
}

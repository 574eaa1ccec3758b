//! Graphs written in Rust: inputs, nodes and outputs added one call at a time.

use super::model::Graph;
use super::spec::{GraphInput, GraphSpec, MergeOp, NodeSpec};
use crate::error::Result;
use crate::spec::{BuildContext, LayerSpec};

/// Builds a [`GraphSpec`] step by step:
///
/// ```
/// use dlkit_core::DType;
/// use dlkit_nn::layers::dense::DenseSpec;
/// use dlkit_nn::layers::graph::GraphBuilder;
/// use dlkit_nn::{BuildContext, Init, LayerSpec};
///
/// let dense = |units| LayerSpec::Dense(DenseSpec::new(units));
/// let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
/// let (graph, shapes) = GraphBuilder::new()
///     .input("x", &[4])
///     .node("h", dense(4), "x")
///     .add("sum", &["h", "x"])
///     .node("out", dense(2), "sum")
///     .output("out")
///     .build(&mut ctx)
///     .unwrap();
/// assert_eq!(shapes, vec![vec![2]]);
/// assert_eq!(graph.output_names(), ["out"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    spec: GraphSpec,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// An input of examples of shape `shape` (batch axis excluded).
    pub fn input(mut self, name: &str, shape: &[usize]) -> Self {
        self.spec.inputs.push(GraphInput::with_shape(name, shape));
        self
    }

    /// A node applying `layer` to the input or node `input`.
    pub fn node(mut self, name: &str, layer: LayerSpec, input: &str) -> Self {
        self.spec.nodes.push(NodeSpec::layer(name, layer, input));
        self
    }

    /// A node summing `inputs`, all of one shape.
    pub fn add(self, name: &str, inputs: &[&str]) -> Self {
        self.merge(name, MergeOp::Add, inputs)
    }

    /// A node joining `inputs` on their last axis.
    pub fn concatenate(self, name: &str, inputs: &[&str]) -> Self {
        self.merge(name, MergeOp::Concatenate, inputs)
    }

    fn merge(mut self, name: &str, op: MergeOp, inputs: &[&str]) -> Self {
        self.spec.nodes.push(NodeSpec::merge(name, op, inputs));
        self
    }

    /// Makes the input or node `name` the graph's next output.
    pub fn output(mut self, name: &str) -> Self {
        self.spec.outputs.push(name.to_string());
        self
    }

    /// The description built so far.
    pub fn spec(self) -> GraphSpec {
        self.spec
    }

    /// Builds the graph for its inputs' shapes, with [`GraphSpec::build_graph`]'s checks.
    /// Returns the graph and its outputs' shapes.
    pub fn build(self, ctx: &mut BuildContext) -> Result<(Graph, Vec<Vec<usize>>)> {
        let shapes = self.spec.declared_shapes()?;
        self.spec.build_graph(ctx, &shapes)
    }
}

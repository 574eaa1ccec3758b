//! The description of a graph: its inputs, its nodes in order, and which of them are outputs,
//! as plain data with serde (unknown fields rejected).

use crate::spec::{is_trainable, trainable, LayerSpec};
use serde::{Deserialize, Serialize};

/// `{ type = "graph", inputs = [...], nodes = [...], outputs = [...] }`; `trainable = false`
/// freezes every node's layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    /// The graph's inputs, in the order `forward_many` takes them.
    pub inputs: Vec<GraphInput>,
    /// The nodes, each after the nodes it uses.
    pub nodes: Vec<NodeSpec>,
    /// The names of the inputs or nodes the graph gives, in the order `forward_many` returns
    /// them.
    pub outputs: Vec<String>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

impl Default for GraphSpec {
    /// No inputs, nodes or outputs; trainable.
    fn default() -> Self {
        GraphSpec {
            inputs: Vec::new(),
            nodes: Vec::new(),
            outputs: Vec::new(),
            trainable: true,
        }
    }
}

/// An input of a graph: `"image"`, or `{ name = "meta", shape = [4] }` with the shape of one
/// example (batch axis excluded). Every input but the first must declare its shape for the
/// graph to build as a layer; a declared shape is checked against the one given at build.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphInput {
    pub name: String,
    pub shape: Option<Vec<usize>>,
}

impl GraphInput {
    /// An input whose shape is given when the graph is built.
    pub fn new(name: impl Into<String>) -> Self {
        GraphInput {
            name: name.into(),
            shape: None,
        }
    }

    /// An input of examples of shape `shape`.
    pub fn with_shape(name: impl Into<String>, shape: &[usize]) -> Self {
        GraphInput {
            name: name.into(),
            shape: Some(shape.to_vec()),
        }
    }
}

/// A node: a layer applied to one input, or a merge of several. In TOML:
/// `{ name = "h", input = "x", layer = { type = "dense", units = 8 } }` or
/// `{ name = "sum", op = "add", inputs = ["h", "x"] }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawNode", into = "RawNode")]
pub struct NodeSpec {
    /// The node's name: other nodes and the outputs refer to it, and its layer's tensors are
    /// named after it (`"h.weight"`).
    pub name: String,
    /// The inputs or earlier nodes it takes, in order.
    pub inputs: Vec<String>,
    pub op: NodeOp,
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeOp {
    /// A layer (or chain, or block) on the node's single input.
    Layer(LayerSpec),
    /// A merge of two or more inputs.
    Merge(MergeOp),
}

/// The merges: `add` sums inputs of one shape elementwise; `concatenate` joins inputs on
/// their last axis (channels for NHWC images, features for flat ones), the other axes equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeOp {
    Add,
    Concatenate,
}

impl MergeOp {
    /// The name written in configs, used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            MergeOp::Add => "add",
            MergeOp::Concatenate => "concatenate",
        }
    }
}

impl NodeSpec {
    /// A node applying `layer` to `input`.
    pub fn layer(name: impl Into<String>, layer: LayerSpec, input: &str) -> Self {
        NodeSpec {
            name: name.into(),
            inputs: vec![input.to_string()],
            op: NodeOp::Layer(layer),
        }
    }

    /// A node merging `inputs` by `op`.
    pub fn merge(name: impl Into<String>, op: MergeOp, inputs: &[&str]) -> Self {
        NodeSpec {
            name: name.into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            op: NodeOp::Merge(op),
        }
    }

    /// The node's layer, if it is a layer node.
    pub fn layer_spec(&self) -> Option<&LayerSpec> {
        match &self.op {
            NodeOp::Layer(spec) => Some(spec),
            NodeOp::Merge(_) => None,
        }
    }

    /// What the node is, as error messages name it: its layer's type or its merge.
    pub fn kind(&self) -> &str {
        match &self.op {
            NodeOp::Layer(spec) => spec.kind(),
            NodeOp::Merge(op) => op.kind(),
        }
    }
}

/// A node as written: `input` or `inputs`, and `layer` or `op`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inputs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    layer: Option<LayerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<MergeOp>,
}

impl TryFrom<RawNode> for NodeSpec {
    type Error = String;

    fn try_from(raw: RawNode) -> Result<Self, String> {
        let name = raw.name;
        let inputs = match (raw.input, raw.inputs) {
            (Some(one), None) => vec![one],
            (None, Some(many)) => many,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "node `{name}`: give `input` (one name) or `inputs` (a list), not both"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "node `{name}`: needs `input` (one name) or `inputs` (a list of names)"
                ))
            }
        };
        let op = match (raw.layer, raw.op) {
            (Some(layer), None) => NodeOp::Layer(layer),
            (None, Some(op)) => NodeOp::Merge(op),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "node `{name}`: give `layer` (a layer table) or `op` (\"add\" or \
                     \"concatenate\"), not both"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "node `{name}`: needs `layer` (a layer table) or `op` (\"add\" or \
                     \"concatenate\")"
                ))
            }
        };
        Ok(NodeSpec { name, inputs, op })
    }
}

/// A layer node with one input is written with `input`, every other node with `inputs`.
impl From<NodeSpec> for RawNode {
    fn from(node: NodeSpec) -> Self {
        let (layer, op) = match node.op {
            NodeOp::Layer(layer) => (Some(layer), None),
            NodeOp::Merge(op) => (None, Some(op)),
        };
        let (input, inputs) = match (&layer, <[String; 1]>::try_from(node.inputs)) {
            (Some(_), Ok([one])) => (Some(one), None),
            (_, Ok([one])) => (None, Some(vec![one])),
            (_, Err(many)) => (None, Some(many)),
        };
        RawNode {
            name: node.name,
            input,
            inputs,
            layer,
            op,
        }
    }
}

/// An input with a shape as written: `{ name = "meta", shape = [4] }`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputTable {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shape: Option<Vec<usize>>,
}

/// Written as its name alone when it declares no shape.
impl Serialize for GraphInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.shape {
            None => s.serialize_str(&self.name),
            Some(shape) => InputTable {
                name: self.name.clone(),
                shape: Some(shape.clone()),
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for GraphInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InputVisitor)
    }
}

struct InputVisitor;

impl<'de> serde::de::Visitor<'de> for InputVisitor {
    type Value = GraphInput;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an input name, or a table such as { name = \"meta\", shape = [4] }")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GraphInput, E> {
        Ok(GraphInput::new(v))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<GraphInput, A::Error> {
        let t = InputTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(GraphInput {
            name: t.name,
            shape: t.shape,
        })
    }
}

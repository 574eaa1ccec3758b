//! A model summary as Keras' `model.summary()` prints it, from the layer specs alone
//! ([`LayerSpec::tally`]): per layer its name, what it is, its output shape, its parameters
//! and its forward FLOPs per example; containers on one line with their total, their inner
//! layers indented below; then the totals.

use std::fmt;

use crate::error::Result;
use crate::layers::conv2d::PaddingSpec;
use crate::layers::graph::{MergeOp, NodeOp};
use crate::layers::pool::Pool2dSpec;
use crate::layers::sequential::Sequential;
use crate::model_config::layer_names;
use crate::shape::{Counting, Tally};
use crate::spec::LayerSpec;

/// How FLOPs are counted, as the summary prints it (the rules in full: [`Tally`]).
pub const FLOPS_RULE: &str = "FLOPs: forward floating-point operations per example, 2 per \
    multiply-add (dense 2*in*out + out for the bias; conv2d 2*kh*kw*c_in*filters*out_h*out_w \
    + filters*out_h*out_w for the bias); batch norm 4 per element; relu, sigmoid, tanh 1 and \
    softmax 3 per element; max pooling kh*kw-1 and average pooling kh*kw per output element; \
    dropout, flatten, concatenation 0; custom layers as their type reports (0 by default).";

/// One line of a summary: a layer, or a layer inside a container (`depth` > 0).
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// The layer's position among the model's layers; `None` for a layer inside a container.
    pub index: Option<usize>,
    /// How deep inside containers the layer is: 0 for the model's own layers.
    pub depth: usize,
    /// Keras-style name (`"conv2d_1"`, [`layer_names`]); inside a container, the name
    /// within its chain after the branch (`"main.conv2d_1"`), or a graph node's name.
    pub name: String,
    /// What the layer is (`"conv2d 3x3, 8 filters, stride 1, same"`).
    pub description: String,
    /// The shape of one example it outputs (batch axis excluded).
    pub output_shape: Vec<usize>,
    /// Its parameters, buffers and FLOPs; a container's are those of everything inside.
    pub tally: Tally,
}

/// A model's summary for examples of one input shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The shape of one example the model takes (batch axis excluded).
    pub input_shape: Vec<usize>,
    /// The model's layers in order, each container followed by its inner layers.
    pub rows: Vec<SummaryRow>,
    /// The sum over the model's own layers (depth 0).
    pub total: Tally,
}

/// The summary of the model made of `layers` for examples of shape `input`, without
/// building it; the error [`Sequential::build`] would give for layers that do not fit.
pub fn summarize(layers: &[LayerSpec], input: &[usize]) -> Result<Summary> {
    let (tallies, _) = Sequential::walk(layers, &mut Counting, input)?;
    let mut rows = Vec::new();
    chain_rows(layers, input, 0, "", &mut rows)?;
    for (i, row) in rows.iter_mut().filter(|r| r.depth == 0).enumerate() {
        row.index = Some(i);
    }
    Ok(Summary {
        input_shape: input.to_vec(),
        rows,
        total: tallies.into_iter().sum(),
    })
}

/// The rows of a chain of layers on `input`, each container's inner rows after its own.
fn chain_rows(
    specs: &[LayerSpec],
    input: &[usize],
    depth: usize,
    prefix: &str,
    rows: &mut Vec<SummaryRow>,
) -> Result<Vec<usize>> {
    let mut shape = input.to_vec();
    for (spec, name) in specs.iter().zip(layer_names(specs)) {
        let (tally, out) = spec.tally(&shape)?;
        rows.push(SummaryRow {
            index: None,
            depth,
            name: format!("{prefix}{name}"),
            description: describe(spec),
            output_shape: out.clone(),
            tally,
        });
        inner_rows(spec, &shape, depth + 1, rows)?;
        shape = out;
    }
    Ok(shape)
}

/// The rows of the layers inside a container `spec` on `input`; none for other layers.
fn inner_rows(
    spec: &LayerSpec,
    input: &[usize],
    depth: usize,
    rows: &mut Vec<SummaryRow>,
) -> Result<()> {
    match spec {
        LayerSpec::Sequential { layers, .. } => {
            chain_rows(layers, input, depth, "", rows)?;
        }
        LayerSpec::Residual(r) => {
            chain_rows(&r.main, input, depth, "main.", rows)?;
            chain_rows(&r.shortcut, input, depth, "shortcut.", rows)?;
        }
        LayerSpec::Inception(inc) => {
            for (b, branch) in inc.branches.iter().enumerate() {
                chain_rows(branch, input, depth, &format!("branch_{b}."), rows)?;
            }
        }
        LayerSpec::Graph(g) => {
            let walked = g.walk(&mut Counting, &g.layer_shapes(input)?)?;
            let n_in = g.inputs.len();
            for (j, node) in g.nodes.iter().enumerate() {
                let out = walked.shapes[n_in + j].clone();
                let (description, tally) = match &node.op {
                    NodeOp::Layer(layer) => {
                        let source = &walked.shapes[walked.sources[j][0]];
                        (describe(layer), layer.tally(source)?.0)
                    }
                    NodeOp::Merge(op) => {
                        let k = node.inputs.len() as u64;
                        let flops = match op {
                            MergeOp::Add => {
                                k.saturating_sub(1) * out.iter().product::<usize>() as u64
                            }
                            MergeOp::Concatenate => 0,
                        };
                        let tally = Tally {
                            flops,
                            ..Tally::default()
                        };
                        (
                            format!("{} of {}", op.kind(), node.inputs.join(", ")),
                            tally,
                        )
                    }
                };
                rows.push(SummaryRow {
                    index: None,
                    depth,
                    name: node.name.clone(),
                    description,
                    output_shape: out,
                    tally,
                });
                if let NodeOp::Layer(layer) = &node.op {
                    let source = walked.shapes[walked.sources[j][0]].clone();
                    inner_rows(layer, &source, depth + 1, rows)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// What a layer is, in a few words: its kind and settings, `(frozen)` when it is.
pub fn describe(spec: &LayerSpec) -> String {
    let hw = |[h, w]: [usize; 2]| format!("{h}x{w}");
    let padding = |p: &PaddingSpec| match p {
        PaddingSpec::Valid => "valid".to_string(),
        PaddingSpec::Same => "same".to_string(),
        PaddingSpec::Explicit {
            top,
            bottom,
            left,
            right,
        } => format!("pad {top},{bottom},{left},{right}"),
    };
    let pool = |kind: &str, p: &Pool2dSpec| {
        format!(
            "{kind} {}, stride {}, {}",
            hw(p.window),
            hw(p.effective_stride()),
            padding(&p.padding)
        )
    };
    let layers = |n: usize| format!("{n} layer{}", if n == 1 { "" } else { "s" });
    let text = match spec {
        LayerSpec::Dense(d) => {
            format!("dense {}{}", d.units, if d.bias { "" } else { ", no bias" })
        }
        LayerSpec::Dropout(d) => format!("dropout (keep {})", d.keep_prob),
        LayerSpec::LeakyRelu { slope } => format!("leaky_relu ({slope})"),
        LayerSpec::Conv2d(c) => format!(
            "conv2d {}, {} filters, stride {}, {}{}",
            hw(c.kernel),
            c.filters,
            hw(c.stride),
            padding(&c.padding),
            if c.bias { "" } else { ", no bias" }
        ),
        LayerSpec::MaxPool2d(p) => pool("max_pool2d", p),
        LayerSpec::AvgPool2d(p) => pool("avg_pool2d", p),
        LayerSpec::Sequential { layers: l, .. } => format!("sequential ({})", layers(l.len())),
        LayerSpec::Residual(r) => format!(
            "residual (main {}, shortcut {}, {})",
            layers(r.main.len()),
            match r.shortcut.len() {
                0 => "identity".to_string(),
                n => layers(n),
            },
            r.activation.map_or("no activation".to_string(), |a| a
                .layer_spec()
                .kind()
                .to_string())
        ),
        LayerSpec::Inception(i) => format!("inception ({} branches)", i.branches.len()),
        LayerSpec::Graph(g) => format!("graph ({} nodes)", g.nodes.len()),
        other => other.kind().to_string(),
    };
    if spec.trainable() {
        text
    } else {
        format!("{text} (frozen)")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = |s: &[usize]| format!("{s:?}");
        let name_of = |r: &SummaryRow| format!("{}{}", "  ".repeat(r.depth), r.name);
        let w_name = self
            .rows
            .iter()
            .map(|r| name_of(r).len())
            .max()
            .unwrap_or(0)
            .max(5);
        let w_desc = self
            .rows
            .iter()
            .map(|r| r.description.len())
            .max()
            .unwrap_or(0)
            .max(11);
        let w_shape = self
            .rows
            .iter()
            .map(|r| shape(&r.output_shape).len())
            .max()
            .unwrap_or(0)
            .max(12);
        writeln!(f, "input: {}", shape(&self.input_shape))?;
        writeln!(
            f,
            "{:>3}  {:<w_name$}  {:<w_desc$}  {:<w_shape$}  {:>12}  {:>14}",
            "#", "layer", "description", "output shape", "parameters", "FLOPs"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:>3}  {:<w_name$}  {:<w_desc$}  {:<w_shape$}  {:>12}  {:>14}",
                r.index.map_or(String::new(), |i| i.to_string()),
                name_of(r),
                r.description,
                shape(&r.output_shape),
                r.tally.parameters,
                r.tally.flops
            )?;
        }
        let t = &self.total;
        writeln!(f, "total parameters: {}", t.parameters)?;
        writeln!(f, "trainable parameters: {}", t.trainable)?;
        writeln!(
            f,
            "non-trainable parameters: {}",
            t.parameters - t.trainable
        )?;
        writeln!(
            f,
            "buffers (not parameters: batch norm running mean and variance): {}",
            t.buffers
        )?;
        writeln!(f, "total FLOPs per example: {}", t.flops)?;
        writeln!(f, "{FLOPS_RULE}")
    }
}

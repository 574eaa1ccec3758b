//! Graph models: f64 gradient checks through a skip connection (add) and a concatenation at
//! the course's threshold; node naming and weight order; build errors that name the nodes
//! (shapes, unknown, duplicate, unused and out-of-order names); descriptions in TOML and JSON,
//! round trips and unknown fields; save and load of a graph inside a `Sequential`.

#[path = "../../dlkit-core/tests/common/mod.rs"]
mod common;

use common::{check_op, randn};
use dlkit_core::{no_grad, DType, Rng, Tensor};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::DropoutSpec;
use dlkit_nn::layers::graph::{GraphInput, GraphOp, MergeOp, NodeOp, NodeSpec};
use dlkit_nn::{
    Activation, BuildContext, Dense, Graph, GraphBuilder, GraphSpec, Init, LayerSpec, Module,
    Sequential,
};

// ---- helpers --------------------------------------------------------------------------------

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense(DenseSpec::new(units))
}

fn ctx(dtype: DType) -> BuildContext {
    BuildContext::new(dtype, 1, Init::He)
}

fn build_err(spec: &GraphSpec) -> String {
    let shapes: Vec<Vec<usize>> = spec
        .inputs
        .iter()
        .map(|i| i.shape.clone().unwrap())
        .collect();
    match spec.build_graph(&mut ctx(DType::F32), &shapes) {
        Ok((_, out)) => panic!("built, with outputs {out:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing from: {msg}");
    }
}

fn toml_spec(text: &str) -> LayerSpec {
    toml::from_str::<LayerSpec>(text).unwrap_or_else(|e| panic!("{e}"))
}

fn toml_err(text: &str) -> String {
    match toml::from_str::<LayerSpec>(text) {
        Ok(s) => panic!("parsed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn graph_of(spec: LayerSpec) -> GraphSpec {
    match spec {
        LayerSpec::Graph(g) => g,
        other => panic!("not a graph: {other:?}"),
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).to_vec::<f64>()
}

// ---- gradient checks ------------------------------------------------------------------------

/// `out = W2 [tanh(W1 a + b1) + a ; m] + b2`: a skip connection (add) and a concatenation
/// with a second input, checked through both inputs and every parameter.
#[test]
fn gradcheck_skip_and_concatenation() {
    let inputs = [
        randn(&[3, 4], 500),
        randn(&[3, 2], 501),
        randn(&[4, 4], 502).mul_scalar(0.5),
        randn(&[4], 503),
        randn(&[3, 6], 504).mul_scalar(0.5),
        randn(&[3], 505),
    ];
    check_op("graph skip + concatenate", &inputs, 506, |t| {
        let layer = |w: &Tensor, b: &Tensor| {
            GraphOp::Layer(Box::new(Dense::from_tensors(w.clone(), Some(b.clone()))))
        };
        let graph = Graph::from_modules(
            &["a", "m"],
            vec![
                ("h", &["a"], layer(&t[2], &t[3])),
                ("act", &["h"], GraphOp::Layer(Box::new(Activation::Tanh))),
                ("skip", &["act", "a"], GraphOp::Merge(MergeOp::Add)),
                ("cat", &["skip", "m"], GraphOp::Merge(MergeOp::Concatenate)),
                ("out", &["cat"], layer(&t[4], &t[5])),
            ],
            &["out"],
        )
        .unwrap();
        let mut outs = graph.forward_many(&[t[0].clone(), t[1].clone()]).unwrap();
        outs.remove(0)
    });
}

/// Two outputs, one of them an intermediate node: both outputs' gradients reach the shared
/// layer.
#[test]
fn gradcheck_two_outputs_sharing_a_node() {
    let inputs = [
        randn(&[2, 3], 510),
        randn(&[4, 3], 511).mul_scalar(0.5),
        randn(&[4], 512),
        randn(&[2, 4], 513).mul_scalar(0.5),
        randn(&[2], 514),
    ];
    let g2 = randn(&[2, 4], 515);
    check_op("graph two outputs", &inputs, 516, |t| {
        let layer = |w: &Tensor, b: &Tensor| {
            GraphOp::Layer(Box::new(Dense::from_tensors(w.clone(), Some(b.clone()))))
        };
        let graph = Graph::from_modules(
            &["x"],
            vec![
                ("h", &["x"], layer(&t[1], &t[2])),
                ("act", &["h"], GraphOp::Layer(Box::new(Activation::Sigmoid))),
                ("y", &["act"], layer(&t[3], &t[4])),
            ],
            &["y", "act"],
        )
        .unwrap();
        let outs = graph.forward_many(std::slice::from_ref(&t[0])).unwrap();
        // Both outputs in one well-conditioned scalar's worth of output.
        Tensor::try_concat(&[&outs[0], &outs[1].mul(&g2)], -1).unwrap()
    });
}

// ---- building, naming, running --------------------------------------------------------------

#[test]
fn a_chain_graph_draws_the_weights_of_the_same_sequential() {
    let layers = [dense(8), LayerSpec::Relu, dense(3)];
    let (seq, seq_out) = Sequential::build(&layers, &mut ctx(DType::F32), &[4]).unwrap();
    let (graph, out) = GraphBuilder::new()
        .input("x", &[4])
        .node("h", layers[0].clone(), "x")
        .node("r", LayerSpec::Relu, "h")
        .node("out", layers[2].clone(), "r")
        .output("out")
        .build(&mut ctx(DType::F32))
        .unwrap();
    assert_eq!(out, vec![seq_out]);
    let names: Vec<String> = graph.parameters().iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["h.weight", "h.bias", "out.weight", "out.bias"]);
    for (a, b) in graph.parameters().iter().zip(seq.parameters()) {
        assert_eq!(
            a.tensor.to_vec::<f32>(),
            b.tensor.to_vec::<f32>(),
            "{}",
            a.name
        );
    }
    let x = Tensor::rand_normal(&[5, 4], 0.0, 1.0, DType::F32, &mut Rng::new(2));
    let (a, b) = no_grad(|| (graph.forward(&x).unwrap(), seq.forward(&x).unwrap()));
    assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
}

#[test]
fn merges_compute_the_sum_and_the_concatenation() {
    let (graph, shapes) = GraphBuilder::new()
        .input("a", &[2])
        .input("b", &[2])
        .input("c", &[1])
        .add("sum", &["a", "b"])
        .concatenate("cat", &["sum", "c", "a"])
        .output("cat")
        .output("sum")
        .build(&mut ctx(DType::F64))
        .unwrap();
    assert_eq!(shapes, vec![vec![5], vec![2]]);
    assert!(graph.parameters().is_empty());
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = Tensor::from_vec(vec![10.0, 20.0, 30.0, 40.0], &[2, 2]);
    let c = Tensor::from_vec(vec![-1.0, -2.0], &[2, 1]);
    let outs = graph.forward_many(&[a, b, c]).unwrap();
    assert_eq!(
        values(&outs[0]),
        [11.0, 22.0, -1.0, 1.0, 2.0, 33.0, 44.0, -2.0, 3.0, 4.0]
    );
    assert_eq!(values(&outs[1]), [11.0, 22.0, 33.0, 44.0]);
    assert_eq!(graph.input_names(), ["a", "b", "c"]);
    assert_eq!(graph.output_names(), ["cat", "sum"]);
}

#[test]
fn forward_takes_one_input_and_one_output_and_forward_many_counts_inputs() {
    let (graph, _) = GraphBuilder::new()
        .input("a", &[2])
        .input("b", &[2])
        .add("sum", &["a", "b"])
        .output("sum")
        .build(&mut ctx(DType::F32))
        .unwrap();
    let x = Tensor::ones(&[1, 2], DType::F32);
    let e = graph.forward(&x).unwrap_err().to_string();
    assert_has(&e, &["inputs (a, b)", "outputs (sum)", "forward_many"]);
    let e = graph
        .forward_many(std::slice::from_ref(&x))
        .unwrap_err()
        .to_string();
    assert_has(&e, &["takes 2 inputs (a, b) but got 1"]);
    // Any module takes one input through forward_many.
    let relu = Activation::Relu;
    assert_eq!(
        relu.forward_many(std::slice::from_ref(&x)).unwrap().len(),
        1
    );
    let e = relu.forward_many(&[x.clone(), x]).unwrap_err().to_string();
    assert_has(&e, &["takes one input, got 2"]);
}

#[test]
fn a_run_on_other_shapes_names_the_add_node() {
    let graph = Graph::from_modules(
        &["a", "b"],
        vec![("sum", &["a", "b"], GraphOp::Merge(MergeOp::Add))],
        &["sum"],
    )
    .unwrap();
    let a = Tensor::ones(&[2, 3], DType::F32);
    let b = Tensor::ones(&[2, 1], DType::F32);
    let e = graph.forward_many(&[a, b]).unwrap_err().to_string();
    assert_has(&e, &["node `sum` adds `a` and `b`", "[2, 3]", "[2, 1]"]);
}

#[test]
fn dropout_in_a_graph_follows_training_mode_and_reseeding() {
    let (mut graph, _) = GraphBuilder::new()
        .input("x", &[50])
        .node("drop", LayerSpec::Dropout(DropoutSpec::new(0.5)), "x")
        .output("drop")
        .build(&mut ctx(DType::F32))
        .unwrap();
    let x = Tensor::ones(&[4, 50], DType::F32);
    let run = |g: &Graph| no_grad(|| g.forward(&x).unwrap().to_vec::<f32>());
    graph.reseed(7);
    let first = run(&graph);
    graph.reseed(7);
    assert_eq!(run(&graph), first);
    assert!(first.contains(&0.0));
    graph.set_training(false);
    assert!(run(&graph).iter().all(|&v| v == 1.0));
}

// ---- build errors ---------------------------------------------------------------------------

#[test]
fn an_add_of_different_shapes_names_both_inputs() {
    let spec = GraphBuilder::new()
        .input("x", &[4])
        .node("a", dense(8), "x")
        .node("b", dense(4), "x")
        .add("sum", &["a", "b"])
        .output("sum")
        .spec();
    assert_has(
        &build_err(&spec),
        &["node `sum` (add): input `a` gives [8] but `b` gives [4]"],
    );
}

#[test]
fn a_concatenation_of_different_leading_axes_names_both_inputs() {
    let spec = GraphBuilder::new()
        .input("img", &[4, 4, 3])
        .input("small", &[2, 2, 3])
        .concatenate("cat", &["img", "small"])
        .output("cat")
        .spec();
    assert_has(
        &build_err(&spec),
        &[
            "node `cat` (concatenate): input `img` gives [4, 4, 3] but `small` gives [2, 2, 3]",
            "other axes equal",
        ],
    );
}

#[test]
fn a_layer_that_does_not_fit_names_its_node_and_its_input() {
    let spec = GraphBuilder::new()
        .input("img", &[4, 4, 3])
        .node("d", dense(3), "img")
        .output("d")
        .spec();
    assert_has(
        &build_err(&spec),
        &[
            "node `d` (dense) does not fit input `img` of shape [4, 4, 3]",
            "add a flatten layer",
        ],
    );
}

#[test]
fn names_are_checked() {
    let base = || GraphBuilder::new().input("x", &[4]);
    let cases = [
        (
            base().node("h", dense(2), "y").output("h").spec(),
            "node `h` (dense) takes `y`, which is no input or node of the graph",
        ),
        (
            base()
                .node("a", dense(2), "b")
                .node("b", dense(2), "x")
                .output("a")
                .spec(),
            "node `a` (dense) uses node `b` (dense), which comes after it",
        ),
        (
            base().node("a", dense(2), "a").output("a").spec(),
            "node `a` (dense) takes itself as input",
        ),
        (
            base().node("x", dense(2), "x").output("x").spec(),
            "input `x` and node `x` (dense) have the same name",
        ),
        (
            base()
                .node("h", dense(2), "x")
                .node("h", dense(3), "x")
                .output("h")
                .spec(),
            "node `h` (dense) and node `h` (dense) have the same name",
        ),
        (
            base()
                .node("h", dense(2), "x")
                .node("unused", dense(3), "x")
                .output("h")
                .spec(),
            "node `unused` (dense) is not used by any node and is no output",
        ),
        (
            base()
                .input("m", &[2])
                .node("h", dense(2), "x")
                .output("h")
                .spec(),
            "input `m` is not used by any node and is no output",
        ),
        (
            base().node("h", dense(2), "x").output("z").spec(),
            "output `z` is no input or node of the graph",
        ),
        (
            base()
                .node("h", dense(2), "x")
                .output("h")
                .output("h")
                .spec(),
            "output `h` is listed twice",
        ),
        (
            base().add("s", &["x"]).output("s").spec(),
            "node `s` (add) merges two or more inputs but takes 1",
        ),
        (base().spec(), "graph: needs at least one output"),
        (
            GraphBuilder::new().output("x").spec(),
            "graph: needs at least one input",
        ),
    ];
    for (spec, expected) in cases {
        assert_has(&build_err(&spec), &[expected]);
    }
    let mut two = base()
        .input("m", &[4])
        .node("h", dense(2), "x")
        .output("h")
        .spec();
    two.nodes[0].inputs.push("m".into());
    assert_has(
        &build_err(&two),
        &["node `h` (dense) applies a layer to one input but takes 2 (x, m)"],
    );
}

#[test]
fn declared_shapes_are_checked_and_needed_after_the_first_input() {
    let spec = GraphBuilder::new()
        .input("x", &[4])
        .input("m", &[2])
        .concatenate("cat", &["x", "m"])
        .output("cat")
        .spec();
    let e = spec
        .build_graph(&mut ctx(DType::F32), &[vec![4], vec![3]])
        .err()
        .unwrap()
        .to_string();
    assert_has(&e, &["input `m` declares shape [2] but gets [3]"]);

    // As a layer the graph takes its first input's shape from the layer before.
    let mut open = spec.clone();
    open.inputs[0].shape = None;
    let layers = [dense(4), LayerSpec::Graph(open.clone())];
    let (_, out) = Sequential::build(&layers, &mut ctx(DType::F32), &[7]).unwrap();
    assert_eq!(out, vec![6]);
    let layers = [dense(5), LayerSpec::Graph(spec.clone())];
    let e = Sequential::build(&layers, &mut ctx(DType::F32), &[7])
        .err()
        .unwrap()
        .to_string();
    assert_has(
        &e,
        &[
            "layer 1 (graph) does not fit after layer 0 (dense)",
            "input `x` declares shape [4] but gets [5]",
        ],
    );
    open.inputs[1].shape = None;
    let e = LayerSpec::Graph(open)
        .build(&mut ctx(DType::F32), &[4])
        .err()
        .unwrap()
        .to_string();
    assert_has(&e, &["input `m` declares no shape"]);
}

// ---- descriptions ---------------------------------------------------------------------------

const TWO_INPUTS: &str = r#"
type = "graph"
inputs = ["image", { name = "meta", shape = [3] }]
outputs = ["logits", "features"]
nodes = [
  { name = "c1", input = "image", layer = { type = "conv2d", filters = 4, kernel = 3, padding = "same" } },
  { name = "skip", op = "add", inputs = ["c1", "c2"] },
  { name = "c2", input = "c1", layer = { type = "conv2d", filters = 4, kernel = 3, padding = "same" } },
]
"#;

/// The description above with `c2` before `skip`, and the rest of the model.
fn two_inputs_toml() -> String {
    let fixed = TWO_INPUTS.replace(
        r#"  { name = "skip", op = "add", inputs = ["c1", "c2"] },
  { name = "c2", input = "c1", layer = { type = "conv2d", filters = 4, kernel = 3, padding = "same" } },
"#,
        r#"  { name = "c2", input = "c1", layer = { type = "conv2d", filters = 4, kernel = 3, padding = "same" } },
  { name = "skip", op = "add", inputs = ["c1", "c2"] },
  { name = "pool", input = "skip", layer = { type = "global_avg_pool" } },
  { name = "features", op = "concatenate", inputs = ["pool", "meta"] },
  { name = "logits", input = "features", layer = { type = "sequential", layers = [{ type = "dense", units = 2 }, { type = "softmax" }] } },
"#,
    );
    assert_ne!(fixed, TWO_INPUTS);
    fixed
}

#[test]
fn a_node_used_before_it_is_defined_in_toml_is_named() {
    let spec = toml_spec(TWO_INPUTS);
    let e = spec
        .build(&mut ctx(DType::F32), &[5, 5, 2])
        .err()
        .unwrap()
        .to_string();
    assert_has(
        &e,
        &["node `skip` (add) uses node `c2` (conv2d), which comes after it"],
    );
}

#[test]
fn toml_descriptions_build_and_round_trip() {
    let spec = toml_spec(&two_inputs_toml());
    let g = graph_of(spec.clone());
    assert_eq!(g.inputs[0], GraphInput::new("image"));
    assert_eq!(g.inputs[1], GraphInput::with_shape("meta", &[3]));
    assert_eq!(
        g.nodes[2],
        NodeSpec::merge("skip", MergeOp::Add, &["c1", "c2"])
    );
    assert!(matches!(
        &g.nodes[0].op,
        NodeOp::Layer(LayerSpec::Conv2d(_))
    ));
    assert_eq!(g.nodes[0].inputs, ["image"]);

    let (built, out) = spec.build(&mut ctx(DType::F32), &[5, 5, 2]).unwrap();
    assert_eq!(out, vec![2]);
    // The built graph describes itself (with the initialiser each dense layer was drawn by),
    // and that description builds the same graph, which describes itself the same way.
    let again = built.spec().unwrap();
    let (rebuilt, _) = again.build(&mut ctx(DType::F32), &[5, 5, 2]).unwrap();
    assert_eq!(rebuilt.spec().unwrap(), again);
    for (a, b) in built.parameters().iter().zip(rebuilt.parameters()) {
        assert_eq!(
            (&a.name, a.tensor.to_vec::<f32>()),
            (&b.name, b.tensor.to_vec::<f32>())
        );
    }
    let names: Vec<String> = built.parameters().iter().map(|p| p.name.clone()).collect();
    assert_eq!(
        names,
        [
            "c1.weight",
            "c1.bias",
            "c2.weight",
            "c2.bias",
            "logits.0.weight",
            "logits.0.bias"
        ]
    );

    // TOML and JSON write it back to the same description.
    let text = toml::to_string(&spec).unwrap();
    assert_eq!(toml_spec(&text), spec);
    let json = serde_json::to_string(&spec).unwrap();
    assert!(
        json.contains(r#"{"name":"c1","input":"image","layer":{"type":"conv2d""#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"name":"skip","inputs":["c1","c2"],"op":"add"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""inputs":["image",{"name":"meta","shape":[3]}]"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<LayerSpec>(&json).unwrap(), spec);

    // Run it: two batches in, the probabilities and the features out.
    let image = Tensor::rand_normal(&[2, 5, 5, 2], 0.0, 1.0, DType::F32, &mut Rng::new(3));
    let meta = Tensor::rand_normal(&[2, 3], 0.0, 1.0, DType::F32, &mut Rng::new(4));
    let outs = built.forward_many(&[image, meta.clone()]).unwrap();
    assert_eq!(outs[0].shape(), [2, 2]);
    assert_eq!(outs[1].shape(), [2, 7]);
    let probs = outs[0].to_vec::<f32>();
    assert!((probs[0] + probs[1] - 1.0).abs() < 1e-6);
    assert_eq!(&outs[1].to_vec::<f32>()[4..7], &meta.to_vec::<f32>()[..3]);
}

#[test]
fn unknown_and_conflicting_fields_are_rejected() {
    let graph = |inputs: &str, node: &str, extra: &str| {
        format!("type = \"graph\"\ninputs = {inputs}\noutputs = [\"h\"]\nnodes = [{node}]\n{extra}")
    };
    let ok_node = r#"{ name = "h", input = "x", layer = { type = "relu" } }"#;
    toml_spec(&graph(r#"["x"]"#, ok_node, ""));
    let cases = [
        (
            graph(r#"["x"]"#, ok_node, "output = [\"h\"]"),
            &["unknown field `output`"][..],
        ),
        (
            graph(r#"[{ name = "x", shap = [2] }]"#, ok_node, ""),
            &["unknown field `shap`"],
        ),
        (
            graph(
                r#"["x"]"#,
                r#"{ name = "h", input = "x", layr = { type = "relu" } }"#,
                "",
            ),
            &["unknown field `layr`"],
        ),
        (
            graph(
                r#"["x"]"#,
                r#"{ name = "h", input = "x", layer = { type = "dense", unit = 3 } }"#,
                "",
            ),
            &["unknown field `unit`"],
        ),
        (
            graph(
                r#"["x"]"#,
                r#"{ name = "h", input = "x", op = "multiply" }"#,
                "",
            ),
            &["unknown variant `multiply`", "add", "concatenate"],
        ),
        (
            graph(
                r#"["x"]"#,
                r#"{ name = "h", input = "x", inputs = ["x"], layer = { type = "relu" } }"#,
                "",
            ),
            &["node `h`: give `input` (one name) or `inputs` (a list), not both"],
        ),
        (
            graph(r#"["x"]"#, r#"{ name = "h", input = "x" }"#, ""),
            &["node `h`: needs `layer` (a layer table) or `op`"],
        ),
        (
            graph(
                r#"["x"]"#,
                r#"{ name = "h", input = "x", op = "add", layer = { type = "relu" } }"#,
                "",
            ),
            &["node `h`: give `layer`", "not both"],
        ),
    ];
    for (text, expected) in cases {
        assert_has(&toml_err(&text), expected);
    }
}

// ---- save and load --------------------------------------------------------------------------

#[test]
fn a_graph_saves_and_loads_inside_a_sequential() {
    let spec = toml_spec(&two_inputs_toml());
    let (model, _) = Sequential::build(&[spec], &mut ctx(DType::F32), &[5, 5, 2]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info = dlkit_nn::save(&model, &[5, 5, 2], dir.path()).unwrap();
    assert_eq!(info.output_shape, vec![2]);
    let (loaded, _) = dlkit_nn::load(dir.path()).unwrap();
    let names =
        |m: &Sequential| -> Vec<String> { m.parameters().iter().map(|p| p.name.clone()).collect() };
    assert_eq!(names(&loaded), names(&model));
    assert!(names(&model).contains(&"0.c1.weight".to_string()));

    let image = Tensor::rand_normal(&[3, 5, 5, 2], 0.0, 1.0, DType::F32, &mut Rng::new(5));
    let meta = Tensor::rand_normal(&[3, 3], 0.0, 1.0, DType::F32, &mut Rng::new(6));
    let xs = [image, meta];
    let (a, b) = no_grad(|| {
        (
            model.layers()[0].forward_many(&xs).unwrap(),
            loaded.layers()[0].forward_many(&xs).unwrap(),
        )
    });
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    }
}

#[test]
fn a_bad_layer_in_a_saved_graph_is_named_by_its_path() {
    let spec = toml_spec(&two_inputs_toml());
    let (model, _) = Sequential::build(&[spec], &mut ctx(DType::F32), &[5, 5, 2]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    dlkit_nn::save(&model, &[5, 5, 2], dir.path()).unwrap();
    let description = dir.path().join("model.json");
    let text = std::fs::read_to_string(&description).unwrap();
    let bad = text.replacen("\"filters\"", "\"filter\"", 1);
    assert_ne!(bad, text);
    std::fs::write(&description, bad).unwrap();
    let e = dlkit_nn::load(dir.path()).err().unwrap().to_string();
    assert_has(
        &e,
        &[
            "model.json",
            "layers[0].nodes[0].layer (conv2d)",
            "`filter`",
        ],
    );
}

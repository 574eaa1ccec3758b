//! Output shapes and parameter counts from the specs alone (`LayerSpec::output_shape`,
//! `LayerSpec::parameter_count`, `ModelConfig::output_shape`, `ModelConfig::parameter_count`)
//! equal those of the built model: for every example config's model, for every layer type
//! (blocks, graphs and frozen layers included), and for descriptions that do not fit, whose
//! errors are building's word for word.

use std::path::Path;

use dlkit_core::DType;
use dlkit_nn::{describe_layers, parameter_count, BuildContext, Init, LayerSpec, ModelConfig};

// ---- helpers --------------------------------------------------------------------------------

/// The shape of one example each example config's data give the model (after
/// `[preprocess]`): every file in `examples/` is listed, so a new one must be added here.
const EXAMPLE_INPUTS: &[(&str, &[usize])] = &[
    ("cat_2layer", &[12288]),
    ("cat_4layer", &[12288]),
    ("cat_logreg", &[12288]),
    ("circles_he", &[2]),
    ("circles_random", &[2]),
    ("circles_zeros", &[2]),
    ("flower_logreg", &[2]),
    ("flower_tanh", &[2]),
    ("football_dropout", &[2]),
    ("football_l2", &[2]),
    ("football_none", &[2]),
    ("mnist_batchnorm", &[784]),
    ("mnist_dropout", &[784]),
    ("mnist_mlp", &[784]),
    ("mnist_mlp_untuned", &[784]),
    ("moons_adam", &[2]),
    ("moons_gd", &[2]),
    ("moons_momentum", &[2]),
    ("moons_untuned", &[2]),
    ("signs_softmax", &[12288]),
    ("signs_convnet", &[64, 64, 3]),
    ("signs_resnet50", &[64, 64, 3]),
    ("signs_inception", &[64, 64, 3]),
    ("mnist_cnn", &[28, 28, 1]),
    ("digits_scratch", &[28, 28, 1]),
];

fn layer(text: &str) -> LayerSpec {
    toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn ctx() -> BuildContext {
    BuildContext::new(DType::F32, 0, Init::He)
}

/// The built layer's output shape and number of parameter scalars, or its error.
fn built(spec: &LayerSpec, input: &[usize]) -> Result<(Vec<usize>, usize), String> {
    let (module, out) = spec.build(&mut ctx(), input).map_err(|e| e.to_string())?;
    let count = module.parameters().iter().map(|p| p.tensor.numel()).sum();
    Ok((out, count))
}

/// The same from the spec alone; both functions must agree on the error too.
fn from_spec(spec: &LayerSpec, input: &[usize]) -> Result<(Vec<usize>, usize), String> {
    let out = spec.output_shape(input).map_err(|e| e.to_string());
    let count = spec.parameter_count(input).map_err(|e| e.to_string());
    match (out, count) {
        (Ok(out), Ok(count)) => Ok((out, count)),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "output_shape and parameter_count disagree");
            Err(a)
        }
        (out, count) => panic!("one fails, one does not: {out:?}, {count:?}"),
    }
}

/// Checks that the spec gives the built layer's shape and count; returns them.
fn same(spec: &LayerSpec, input: &[usize]) -> (Vec<usize>, usize) {
    let want = built(spec, input).unwrap_or_else(|e| panic!("does not build: {e}"));
    assert_eq!(
        from_spec(spec, input),
        Ok(want.clone()),
        "{spec:?} on {input:?}"
    );
    want
}

/// Checks that the spec fails with building's error; returns it.
fn same_error(spec: &LayerSpec, input: &[usize]) -> String {
    let want = match built(spec, input) {
        Ok(got) => panic!("builds, giving {got:?}"),
        Err(e) => e,
    };
    assert_eq!(from_spec(spec, input), Err(want.clone()));
    want
}

/// `describe_layers` as it was when it built each layer: the reference for the spec-based one.
fn describe_by_building(specs: &[LayerSpec], input: &[usize]) -> Vec<String> {
    let mut ctx = BuildContext::new(DType::F32, 0, Init::Zeros);
    let mut shape = input.to_vec();
    specs
        .iter()
        .map(|spec| {
            let name = match spec {
                LayerSpec::Dense(d) => format!("dense {}", d.units),
                LayerSpec::Dropout(d) => format!("dropout (keep {})", d.keep_prob),
                LayerSpec::LeakyRelu { slope } => format!("leaky_relu ({slope})"),
                other => other.kind().to_string(),
            };
            match spec.build(&mut ctx, &shape) {
                Ok((_, out)) => {
                    shape = out;
                    format!("{name} -> {shape:?}")
                }
                Err(_) => name,
            }
        })
        .collect()
}

// ---- example configs --------------------------------------------------------------------------

#[test]
fn every_example_model_has_the_built_shape_and_count() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no configs in {}", dir.display());
    for path in files {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        if table["model"].get("from").is_some() {
            continue; // transfer learning: the layers come from a saved run (tests/transfer.rs)
        }
        let Some(&(_, input)) = EXAMPLE_INPUTS.iter().find(|(name, _)| *name == stem) else {
            panic!("{stem}.toml: add its input shape to EXAMPLE_INPUTS");
        };
        let model: ModelConfig = table["model"]
            .clone()
            .try_into()
            .unwrap_or_else(|e| panic!("{stem}: {e}"));
        let mut ctx = model.build_context(DType::F32).unwrap();
        let (built, out) = model.build(&mut ctx, input).unwrap();
        assert_eq!(model.output_shape(input).unwrap(), out, "{stem}");
        assert_eq!(
            model.parameter_count(input).unwrap(),
            parameter_count(&built),
            "{stem}"
        );
        assert_eq!(
            describe_layers(&model.layers, input),
            describe_by_building(&model.layers, input),
            "{stem}"
        );
    }
}

// ---- every layer type -------------------------------------------------------------------------

#[test]
fn flat_layers_match_building() {
    let cases: &[(&str, &[usize])] = &[
        ("type = \"dense\"\nunits = 5", &[3]),
        ("type = \"dense\"\nunits = 5\nbias = false", &[3]),
        ("type = \"dense\"\nunits = 2\ntrainable = false", &[7]),
        ("type = \"batch_norm\"", &[6]),
        ("type = \"batch_norm\"", &[4, 4, 3]),
        ("type = \"dropout\"\nkeep_prob = 0.5", &[4, 4, 3]),
        ("type = \"sigmoid\"", &[3]),
        ("type = \"tanh\"", &[3]),
        ("type = \"relu\"", &[2, 2, 1]),
        ("type = \"leaky_relu\"\nslope = 0.2", &[3]),
        ("type = \"softmax\"", &[4]),
        ("type = \"flatten\"", &[4, 5, 3]),
        ("type = \"flatten\"", &[]),
    ];
    for (text, input) in cases {
        same(&layer(text), input);
    }
    assert_eq!(
        same(&layer("type = \"dense\"\nunits = 5"), &[3]),
        (vec![5], 20)
    );
    assert_eq!(
        same(&layer("type = \"batch_norm\""), &[4, 4, 3]),
        (vec![4, 4, 3], 6)
    );
}

#[test]
fn image_layers_match_building() {
    let cases: &[(&str, &[usize])] = &[
        ("type = \"conv2d\"\nfilters = 4\nkernel = 3", &[8, 8, 3]),
        (
            "type = \"conv2d\"\nfilters = 4\nkernel = [3, 2]\nstride = 2\npadding = \"same\"\n\
             bias = false",
            &[9, 7, 2],
        ),
        (
            "type = \"conv2d\"\nfilters = 2\nkernel = 3\n\
             padding = { top = 1, bottom = 0, left = 2, right = 1 }",
            &[5, 5, 1],
        ),
        ("type = \"max_pool2d\"\nwindow = 2", &[8, 8, 3]),
        (
            "type = \"avg_pool2d\"\nwindow = 3\nstride = 1\npadding = \"same\"",
            &[5, 6, 2],
        ),
        ("type = \"global_avg_pool\"", &[4, 4, 7]),
    ];
    for (text, input) in cases {
        same(&layer(text), input);
    }
    let conv = "type = \"conv2d\"\nfilters = 4\nkernel = 3\nstride = 2\npadding = \"same\"";
    assert_eq!(
        same(&layer(conv), &[9, 9, 3]),
        (vec![5, 5, 4], 3 * 3 * 3 * 4 + 4)
    );
}

#[test]
fn blocks_and_chains_match_building() {
    use dlkit_nn::{Inception, Residual};
    let chain = |layers: Vec<LayerSpec>| LayerSpec::Sequential {
        layers,
        trainable: true,
    };
    let convnet = chain(vec![
        layer("type = \"conv2d\"\nfilters = 8\nkernel = 3\npadding = \"same\"\nbias = false"),
        layer("type = \"batch_norm\""),
        LayerSpec::Relu,
        Residual::identity_block(8),
        Residual::projection_block(16, 2),
        Residual::bottleneck_identity_block(3, [4, 4, 16]),
        Residual::bottleneck_projection_block(3, [4, 4, 32], 2),
        Inception::classic_block(4, 2, 4, 2, 4, 4),
        layer("type = \"max_pool2d\"\nwindow = 2"),
        chain(vec![
            layer("type = \"global_avg_pool\""),
            LayerSpec::Flatten,
        ]),
        layer("type = \"dropout\"\nkeep_prob = 0.8"),
        layer("type = \"dense\"\nunits = 3"),
        LayerSpec::Softmax,
    ]);
    let (out, count) = same(&convnet, &[16, 16, 3]);
    assert_eq!(out, [3]);
    assert!(count > 0);
    let residual = layer(
        r#"
        type = "residual"
        activation = { type = "leaky_relu", slope = 0.1 }
        trainable = false
        main = [{ type = "dense", units = 4 }, { type = "tanh" }, { type = "dense", units = 6 }]
        shortcut = [{ type = "dense", units = 6, bias = false }]
        "#,
    );
    assert_eq!(
        same(&residual, &[3]),
        (vec![6], (3 * 4 + 4) + (4 * 6 + 6) + 3 * 6)
    );
    let inception = layer(
        r#"
        type = "inception"
        branches = [
          [],
          [{ type = "conv2d", filters = 2, kernel = 1 }],
          [{ type = "avg_pool2d", window = 3, stride = 1, padding = "same" },
           { type = "conv2d", filters = 5, kernel = 3, padding = "same", bias = false }],
        ]
        "#,
    );
    assert_eq!(
        same(&inception, &[4, 4, 3]),
        (vec![4, 4, 3 + 2 + 5], (3 * 2 + 2) + 3 * 3 * 3 * 5)
    );
}

#[test]
fn graphs_match_building() {
    let graph = layer(
        r#"
        type = "graph"
        inputs = ["image", { name = "meta", shape = [4] }]
        outputs = ["logits", "pool"]
        nodes = [
          { name = "c1", input = "image", layer = { type = "conv2d", filters = 8, kernel = 3 } },
          { name = "c2", input = "c1", layer = { type = "conv2d", filters = 8, kernel = 3, padding = "same" } },
          { name = "skip", op = "add", inputs = ["c1", "c2"] },
          { name = "pool", input = "skip", layer = { type = "global_avg_pool" } },
          { name = "m", input = "meta", layer = { type = "dense", units = 3 } },
          { name = "cat", op = "concatenate", inputs = ["pool", "m"] },
          { name = "logits", input = "cat", layer = { type = "dense", units = 2 } },
        ]
        "#,
    );
    let c1 = 3 * 3 * 3 * 8 + 8;
    let c2 = 3 * 3 * 8 * 8 + 8;
    let counts = c1 + c2 + (4 * 3 + 3) + (11 * 2 + 2);
    assert_eq!(same(&graph, &[6, 6, 3]), (vec![2], counts));
    // A graph inside a chain, frozen: the count still includes its parameters.
    let chain = LayerSpec::Sequential {
        layers: vec![LayerSpec::Relu, graph, LayerSpec::Softmax],
        trainable: false,
    };
    assert_eq!(same(&chain, &[6, 6, 3]), (vec![2], counts));
}

// ---- descriptions that do not fit -------------------------------------------------------------

#[test]
fn errors_are_building_errors() {
    let bad: &[(&str, &[usize], &str)] = &[
        (
            "type = \"dense\"\nunits = 3",
            &[4, 4, 3],
            "add a flatten layer",
        ),
        ("type = \"dense\"\nunits = 0", &[4], "units >= 1"),
        ("type = \"batch_norm\"", &[], "at least one axis"),
        (
            "type = \"batch_norm\"\nmomentum = 2.0",
            &[3],
            "0 <= momentum <= 1",
        ),
        (
            "type = \"dropout\"\nkeep_prob = 0.0",
            &[3],
            "0 < keep_prob <= 1",
        ),
        (
            "type = \"conv2d\"\nfilters = 4\nkernel = 3",
            &[12],
            "conv2d",
        ),
        (
            "type = \"conv2d\"\nfilters = 4\nkernel = 5",
            &[3, 3, 1],
            "conv2d",
        ),
        (
            "type = \"max_pool2d\"\nwindow = 2\npadding = 2",
            &[4, 4, 1],
            "smaller than",
        ),
        ("type = \"global_avg_pool\"", &[5], "global_avg_pool"),
        (
            r#"
            type = "sequential"
            layers = [{ type = "dense", units = 3 }, { type = "conv2d", filters = 2, kernel = 1 }]
            "#,
            &[4],
            "layer 1 (conv2d) does not fit after layer 0 (dense) with output shape [3]",
        ),
        (
            r#"
            type = "residual"
            main = [{ type = "conv2d", filters = 4, kernel = 3, stride = 2, padding = "same" }]
            "#,
            &[8, 8, 2],
            "use a 1x1 conv2d with 4 filters and stride 2",
        ),
        (
            "type = \"residual\"\nmain = [{ type = \"dense\", units = 3 }]\n\
             shortcut = [{ type = \"flatten\" }, { type = \"dense\", units = 2 }]",
            &[4],
            "residual: the main branch outputs [3] but the shortcut outputs [2]",
        ),
        (
            "type = \"residual\"\nmain = [{ type = \"flatten\" }, { type = \"dense\", units = 3 }]",
            &[4, 4, 1],
            "residual",
        ),
        ("type = \"residual\"\nmain = []", &[4], "at least one layer"),
        (
            "type = \"inception\"\nbranches = [[], [{ type = \"max_pool2d\", window = 2 }]]",
            &[4, 4, 1],
            "every branch must keep the same height and width",
        ),
        (
            "type = \"inception\"\nbranches = [[{ type = \"flatten\" }]]",
            &[4, 4, 1],
            "to be concatenated on the channel axis",
        ),
        (
            "type = \"inception\"\nbranches = [[{ type = \"dense\", units = 2 }]]",
            &[4, 4, 1],
            "inception branch 0: layer 0 (dense)",
        ),
        (
            "type = \"inception\"\nbranches = []",
            &[4, 4, 1],
            "at least one branch",
        ),
        (
            r#"
            type = "graph"
            inputs = ["x", "y"]
            outputs = ["s"]
            nodes = [{ name = "s", op = "add", inputs = ["x", "y"] }]
            "#,
            &[3],
            "input `y` declares no shape",
        ),
        (
            r#"
            type = "graph"
            inputs = ["x", { name = "y", shape = [2] }]
            outputs = ["s"]
            nodes = [{ name = "s", op = "add", inputs = ["x", "y"] }]
            "#,
            &[3],
            "add needs equal shapes",
        ),
        (
            r#"
            type = "graph"
            inputs = ["x"]
            outputs = ["h"]
            nodes = [{ name = "h", input = "x", layer = { type = "global_avg_pool" } }]
            "#,
            &[3],
            "graph: node `h` (global_avg_pool) does not fit input `x` of shape [3]",
        ),
        (
            r#"
            type = "graph"
            inputs = ["x"]
            outputs = ["h"]
            nodes = [{ name = "h", input = "z", layer = { type = "relu" } }]
            "#,
            &[3],
            "which is no input or node of the graph",
        ),
    ];
    for (text, input, part) in bad {
        let e = same_error(&layer(text), input);
        assert!(e.contains(part), "`{part}` missing from: {e}");
    }
}

#[test]
fn a_model_that_does_not_fit_fails_as_building_does() {
    let model: ModelConfig = toml::from_str(
        r#"
        layers = [
          { type = "conv2d", filters = 4, kernel = 3 },
          { type = "relu" },
          { type = "dense", units = 2 },
          { type = "sigmoid" },
        ]
        "#,
    )
    .unwrap();
    let input = [8, 8, 1];
    let Err(want) = model.build(&mut model.build_context(DType::F32).unwrap(), &input) else {
        panic!("builds");
    };
    let want = want.to_string();
    assert!(
        want.contains("layer 2 (dense) does not fit after layer 1 (relu)"),
        "{want}"
    );
    assert_eq!(model.output_shape(&input).unwrap_err().to_string(), want);
    assert_eq!(model.parameter_count(&input).unwrap_err().to_string(), want);
    // The report names the layer that does not fit alone and goes on from the shape before.
    let described = describe_layers(&model.layers, &input);
    assert_eq!(described, describe_by_building(&model.layers, &input));
    assert_eq!(described[2], "dense 2");
    assert_eq!(described[3], "sigmoid -> [6, 6, 4]");
}

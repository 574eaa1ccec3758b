//! Forward FLOPs and model summaries from the specs alone (`LayerSpec::flops`,
//! `LayerSpec::tally`, `summarize`): the FLOPs of each layer type by its formula, and the
//! summary's parameter, trainable and buffer totals equal to those of the built model.

use dlkit_core::DType;
use dlkit_nn::{summarize, BuildContext, Init, LayerSpec, Module, Sequential};

fn layer(text: &str) -> LayerSpec {
    toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn layers(text: &str) -> Vec<LayerSpec> {
    #[derive(serde::Deserialize)]
    struct Layers {
        layers: Vec<LayerSpec>,
    }
    toml::from_str::<Layers>(text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .layers
}

fn flops(text: &str, input: &[usize]) -> u64 {
    layer(text).flops(input).unwrap()
}

#[test]
fn each_layer_counts_its_formula() {
    // Dense: 2 per multiply-add, plus one addition per unit for the bias.
    assert_eq!(flops("type = \"dense\"\nunits = 5", &[7]), 2 * 7 * 5 + 5);
    assert_eq!(
        flops("type = \"dense\"\nunits = 5\nbias = false", &[7]),
        2 * 7 * 5
    );
    // Conv2d 3x3, 8 filters, valid on 10x10x3: out 8x8.
    let conv = "type = \"conv2d\"\nfilters = 8\nkernel = 3";
    assert_eq!(flops(conv, &[10, 10, 3]), 2 * 3 * 3 * 3 * 8 * 64 + 8 * 64);
    let strided =
        "type = \"conv2d\"\nfilters = 4\nkernel = 3\nstride = 2\npadding = \"same\"\nbias = false";
    assert_eq!(flops(strided, &[10, 10, 3]), 2 * 3 * 3 * 3 * 4 * 25);
    // Elementwise layers on 60 elements.
    assert_eq!(flops("type = \"relu\"", &[3, 4, 5]), 60);
    assert_eq!(flops("type = \"sigmoid\"", &[60]), 60);
    assert_eq!(flops("type = \"softmax\"", &[60]), 180);
    assert_eq!(flops("type = \"batch_norm\"", &[3, 4, 5]), 4 * 60);
    assert_eq!(flops("type = \"dropout\"\nkeep_prob = 0.5", &[60]), 0);
    assert_eq!(flops("type = \"flatten\"", &[3, 4, 5]), 0);
    // Pooling 2x2 on 8x8x3: 4x4x3 outputs.
    assert_eq!(
        flops("type = \"max_pool2d\"\nwindow = 2", &[8, 8, 3]),
        3 * 48
    );
    assert_eq!(
        flops("type = \"avg_pool2d\"\nwindow = 2", &[8, 8, 3]),
        4 * 48
    );
    assert_eq!(flops("type = \"global_avg_pool\"", &[8, 8, 3]), 192);
    // Residual: the branches, the addition and the ReLU of the sum.
    let residual = "type = \"residual\"\nmain = [{ type = \"dense\", units = 4 }, { type = \"dense\", units = 3 }]";
    assert_eq!(
        flops(residual, &[3]),
        (2 * 3 * 4 + 4) + (2 * 4 * 3 + 3) + 3 + 3
    );
    // A graph's add of two inputs: one addition per element.
    let graph = r#"
        type = "graph"
        inputs = ["x"]
        outputs = ["sum"]
        nodes = [
          { name = "a", input = "x", layer = { type = "dense", units = 4 } },
          { name = "sum", op = "add", inputs = ["a", "a"] },
        ]
    "#;
    assert_eq!(flops(graph, &[2]), (2 * 2 * 4 + 4) + 4);
}

/// A small convnet with batch norm, a frozen layer, a residual and an inception block.
const CONVNET: &str = r#"
layers = [
  { type = "conv2d", filters = 4, kernel = 3, padding = "same", trainable = false },
  { type = "batch_norm" },
  { type = "relu" },
  { type = "residual", main = [{ type = "conv2d", filters = 4, kernel = 3, padding = "same" }] },
  { type = "inception", branches = [[{ type = "conv2d", filters = 2, kernel = 1 }], [{ type = "max_pool2d", window = 3, stride = 1, padding = "same" }]] },
  { type = "max_pool2d", window = 2 },
  { type = "flatten" },
  { type = "dense", units = 3 },
  { type = "softmax" },
]
"#;

#[test]
fn summary_totals_equal_the_built_model() {
    let specs = layers(CONVNET);
    let input = [8, 8, 3];
    let s = summarize(&specs, &input).unwrap();
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    let (model, out) = Sequential::build(&specs, &mut ctx, &input).unwrap();
    let params = model.parameters();
    let numel = |p: &dlkit_nn::Param| p.tensor.numel();
    assert_eq!(s.total.parameters, params.iter().map(numel).sum::<usize>());
    let trainable: usize = params.iter().filter(|p| p.trainable()).map(numel).sum();
    assert_eq!(s.total.trainable, trainable);
    assert_eq!(s.total.parameters - s.total.trainable, 3 * 3 * 3 * 4 + 4);
    let buffers: usize = model.buffers().iter().map(|(_, t)| t.numel()).sum();
    assert_eq!(s.total.buffers, buffers);
    assert_eq!(s.total.buffers, 8);

    // One row per top-level layer, numbered, named as `layer_names`, with the shapes of the
    // spec walk; the blocks' inner layers indented after them.
    let top: Vec<_> = s.rows.iter().filter(|r| r.depth == 0).collect();
    assert_eq!(top.len(), specs.len());
    let names: Vec<&str> = top.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, dlkit_nn::layer_names(&specs));
    assert_eq!(top.last().unwrap().output_shape, out);
    assert_eq!(top[4].output_shape, [8, 8, 6]);
    for (i, r) in top.iter().enumerate() {
        assert_eq!(r.index, Some(i));
    }
    let inner: Vec<&str> = s
        .rows
        .iter()
        .filter(|r| r.depth == 1)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        inner,
        [
            "main.conv2d_1",
            "branch_0.conv2d_1",
            "branch_1.max_pool2d_1"
        ]
    );
    assert!(
        top[0].description.ends_with("(frozen)"),
        "{}",
        top[0].description
    );
    let flops: u64 = top.iter().map(|r| r.tally.flops).sum();
    assert_eq!(s.total.flops, flops);
    let conv1 = 2 * 3 * 3 * 3 * 4 * 64 + 4 * 64;
    assert_eq!(top[0].tally.flops, conv1);

    let text = s.to_string();
    for wanted in [
        "input: [8, 8, 3]",
        &format!("total parameters: {}", s.total.parameters),
        &format!("trainable parameters: {trainable}"),
        "non-trainable parameters: 112",
        "buffers (not parameters: batch norm running mean and variance): 8",
        &format!("total FLOPs per example: {}", s.total.flops),
        "2 per multiply-add",
        "    main.conv2d_1",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
    }
}

#[test]
fn summaries_fail_as_building_does() {
    let specs = layers("layers = [{ type = \"dense\", units = 3 }]");
    let err = summarize(&specs, &[4, 4, 3]).unwrap_err().to_string();
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    let built = Sequential::build(&specs, &mut ctx, &[4, 4, 3])
        .err()
        .unwrap();
    assert_eq!(err, built.to_string());
}

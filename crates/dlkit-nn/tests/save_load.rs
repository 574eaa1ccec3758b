//! Save → load round trips of every layer type, and every way a saved model can be broken.

use dlkit_core::{DType, Rng, Tensor};
use dlkit_nn::init::Init;
use dlkit_nn::io::{
    self, load_weights_with, ModelMetadata, ModelPaths, Normalization, WeightsFilter,
};
use dlkit_nn::layers::batch_norm::BatchNormSpec;
use dlkit_nn::layers::conv2d::{Conv2dSpec, PaddingSpec};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::DropoutSpec;
use dlkit_nn::layers::global_avg_pool::GlobalAvgPoolSpec;
use dlkit_nn::layers::inception::InceptionSpec;
use dlkit_nn::layers::pool::Pool2dSpec;
use dlkit_nn::layers::residual::ResidualSpec;
use dlkit_nn::{Activation, GraphBuilder, Inception, Residual};
use dlkit_nn::{BuildContext, LayerSpec, Module, Sequential};
use std::path::{Path, PathBuf};

// ---- helpers ------------------------------------------------------------------------------

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense(DenseSpec::new(units))
}

fn dense_no_bias(units: usize) -> LayerSpec {
    LayerSpec::Dense(DenseSpec {
        units,
        bias: false,
        init: None,
        trainable: true,
    })
}

fn build(specs: &[LayerSpec], input: &[usize], dtype: DType, seed: u64) -> Sequential {
    let mut ctx = BuildContext::new(dtype, seed, Init::He);
    Sequential::build(specs, &mut ctx, input)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

/// Gives every parameter and buffer random values, so that nothing passes by being zero or
/// one (buffers such as running variances get positive values).
fn randomize(model: &dyn Module, seed: u64) {
    let mut rng = Rng::new(seed);
    for p in model.parameters() {
        let t = &p.tensor;
        t.assign(&Tensor::rand_normal(
            t.shape(),
            0.1,
            0.5,
            t.dtype(),
            &mut rng,
        ));
    }
    for (_, t) in model.buffers() {
        t.assign(&Tensor::rand_uniform(
            t.shape(),
            0.5,
            1.5,
            t.dtype(),
            &mut rng,
        ));
    }
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec_f64().iter().map(|v| v.to_bits()).collect()
}

/// Every tensor of a model by name, as bits.
fn state(model: &dyn Module) -> Vec<(String, Vec<usize>, DType, Vec<u64>)> {
    let mut out: Vec<_> = model
        .parameters()
        .into_iter()
        .map(|p| (p.name, p.tensor))
        .chain(model.buffers())
        .map(|(n, t)| (n, t.shape().to_vec(), t.dtype(), bits(&t)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dlkit-save-load-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn input(shape: &[usize], dtype: DType, seed: u64) -> Tensor {
    let mut full = vec![3];
    full.extend_from_slice(shape);
    Tensor::rand_normal(&full, 0.0, 1.0, dtype, &mut Rng::new(seed))
}

/// Builds `specs`, randomises it, saves, loads, and checks that the description, every tensor
/// and the eval-mode predictions come back bit for bit.
fn round_trip(name: &str, specs: &[LayerSpec], shape: &[usize], dtype: DType) {
    let dir = TempDir::new(name);
    let mut model = build(specs, shape, dtype, 1);
    randomize(&model, 2);
    model.set_training(false);
    let x = input(shape, dtype, 3);
    let before = model.forward(&x).unwrap();

    let saved = io::save(&model, shape, dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(dir.entries(), ["model.json", "model.safetensors"], "{name}");
    // Loaded models come back in evaluation mode.
    let (loaded, info) = io::load(dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(info, saved, "{name}");
    let Some(LayerSpec::Sequential { layers, .. }) = model.spec() else {
        unreachable!()
    };
    assert_eq!(
        info.layers, layers,
        "{name}: the layers come back as described"
    );
    if !model.parameters().is_empty() {
        assert_eq!(info.dtype, dtype, "{name}");
    }
    assert_eq!(info.input_shape, shape);
    assert_eq!(state(&loaded), state(&model), "{name}: tensors differ");
    let after = loaded.forward(&x).unwrap();
    assert_eq!(after.shape(), before.shape(), "{name}");
    assert_eq!(bits(&after), bits(&before), "{name}: predictions differ");
    assert_eq!(info.output_shape, &before.shape()[1..]);
}

/// One model per layer type (and variant of one), with the shape of its input.
fn cases() -> Vec<(&'static str, Vec<LayerSpec>, Vec<usize>)> {
    dlkit_nn::register_layer::<ScaleSpec>().unwrap();
    vec![
        (
            "custom",
            vec![
                dense(3),
                LayerSpec::custom(&ScaleSpec { bias: true }).unwrap(),
            ],
            vec![4],
        ),
        (
            "graph",
            // A skip connection, batch norm's buffers and a concatenation inside a graph.
            vec![LayerSpec::Graph(
                GraphBuilder::new()
                    .input("x", &[4])
                    .node("h", dense(4), "x")
                    .add("skip", &["h", "x"])
                    .node(
                        "norm",
                        LayerSpec::BatchNorm(BatchNormSpec::default()),
                        "skip",
                    )
                    .concatenate("cat", &["norm", "x"])
                    .node("out", dense(2), "cat")
                    .output("out")
                    .spec(),
            )],
            vec![4],
        ),
        ("dense", vec![dense(5), dense(2)], vec![4]),
        ("dense_no_bias", vec![dense_no_bias(5), dense(1)], vec![4]),
        (
            "dense_init",
            vec![LayerSpec::Dense(DenseSpec {
                units: 3,
                bias: true,
                init: Some(Init::Normal { scale: 0.01 }),
                trainable: true,
            })],
            vec![4],
        ),
        ("sigmoid", vec![dense(3), LayerSpec::Sigmoid], vec![4]),
        ("tanh", vec![dense(3), LayerSpec::Tanh], vec![4]),
        ("relu", vec![dense(3), LayerSpec::Relu, dense(2)], vec![4]),
        (
            "leaky_relu",
            // A slope that only survives the JSON round trip if floats are read exactly.
            vec![
                dense(3),
                LayerSpec::LeakyRelu {
                    slope: 0.123_456_789_012_345_68,
                },
                dense(2),
            ],
            vec![4],
        ),
        ("softmax", vec![dense(4), LayerSpec::Softmax], vec![4]),
        ("flatten", vec![LayerSpec::Flatten, dense(3)], vec![2, 3, 2]),
        (
            "sequential",
            vec![
                LayerSpec::Flatten,
                LayerSpec::Sequential {
                    layers: vec![
                        dense(6),
                        LayerSpec::Tanh,
                        LayerSpec::Sequential {
                            layers: vec![dense_no_bias(5), LayerSpec::Relu],
                            trainable: true,
                        },
                    ],
                    trainable: true,
                },
                dense(3),
                LayerSpec::Softmax,
            ],
            vec![2, 2],
        ),
        ("activations_only", vec![LayerSpec::Tanh], vec![3]),
        (
            "dropout",
            vec![
                dense(5),
                LayerSpec::Dropout(DropoutSpec::new(0.8)),
                dense(2),
            ],
            vec![4],
        ),
        (
            "dropout_seeded",
            vec![
                LayerSpec::Dropout(DropoutSpec {
                    keep_prob: 0.5,
                    seed: Some(7),
                }),
                dense(2),
            ],
            vec![4],
        ),
        (
            "batch_norm",
            vec![
                dense_no_bias(5),
                LayerSpec::BatchNorm(BatchNormSpec::default()),
                LayerSpec::Relu,
                dense(2),
            ],
            vec![4],
        ),
        (
            "batch_norm_nhwc",
            vec![
                LayerSpec::BatchNorm(BatchNormSpec {
                    momentum: 0.99,
                    epsilon: 0.001_234_567_890_123,
                    unbiased_running_var: true,
                    momentum_pytorch: None,
                    trainable: true,
                }),
                LayerSpec::Flatten,
                dense(2),
            ],
            vec![2, 2, 3],
        ),
        (
            "conv2d",
            vec![
                LayerSpec::Conv2d(Conv2dSpec::new(4, 3)),
                LayerSpec::Relu,
                LayerSpec::Conv2d(Conv2dSpec {
                    filters: 3,
                    kernel: [2, 3],
                    stride: [2, 1],
                    padding: PaddingSpec::Same,
                    bias: false,
                    init: Some(Init::GlorotUniform),
                    trainable: true,
                }),
                LayerSpec::Conv2d(Conv2dSpec::new(2, 3).with_stride(2).with_padding(
                    PaddingSpec::Explicit {
                        top: 1,
                        bottom: 2,
                        left: 0,
                        right: 1,
                    },
                )),
                LayerSpec::Flatten,
                dense(2),
            ],
            vec![7, 6, 3],
        ),
        (
            "pools",
            vec![
                LayerSpec::Conv2d(Conv2dSpec::new(3, 1)),
                LayerSpec::MaxPool2d(Pool2dSpec::new(2)),
                LayerSpec::AvgPool2d(
                    Pool2dSpec::new(3)
                        .with_stride(1)
                        .with_padding(PaddingSpec::Same),
                ),
                LayerSpec::MaxPool2d(Pool2dSpec {
                    window: [2, 3],
                    stride: Some([1, 2]),
                    padding: PaddingSpec::uniform(1),
                }),
                LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
                dense(2),
            ],
            vec![8, 9, 2],
        ),
        (
            "residual",
            vec![
                LayerSpec::Conv2d(Conv2dSpec::new(4, 3).with_padding(PaddingSpec::Same)),
                Residual::identity_block(4),
                Residual::projection_block(6, 2),
                LayerSpec::Residual(
                    ResidualSpec::new(vec![LayerSpec::Conv2d(
                        Conv2dSpec::new(6, 3).with_padding(PaddingSpec::Same),
                    )])
                    .with_activation(Some(Activation::LeakyRelu {
                        slope: 0.123_456_789_012_345_68,
                    })),
                ),
                LayerSpec::Residual(
                    ResidualSpec::new(vec![LayerSpec::Conv2d(Conv2dSpec::new(6, 1))])
                        .with_activation(None),
                ),
                Residual::bottleneck_projection_block(3, [2, 2, 5], 1),
                LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
                dense(2),
            ],
            vec![6, 6, 3],
        ),
        (
            "inception",
            vec![
                Inception::classic_block(2, 2, 3, 1, 2, 2),
                LayerSpec::Inception(InceptionSpec::new(vec![
                    vec![],
                    vec![LayerSpec::BatchNorm(BatchNormSpec::default())],
                    vec![LayerSpec::AvgPool2d(
                        Pool2dSpec::new(3)
                            .with_stride(1)
                            .with_padding(PaddingSpec::Same),
                    )],
                ])),
                LayerSpec::Flatten,
                dense(2),
            ],
            vec![5, 5, 3],
        ),
    ]
}

/// Maps each `LayerSpec` variant to an index. There is no wildcard arm on purpose: a new
/// variant does not compile here until it gets an arm (bump `VARIANTS`) and a model in
/// `cases()`, which `every_layer_type_has_a_round_trip_case` checks.
fn variant(spec: &LayerSpec) -> usize {
    match spec {
        LayerSpec::Dense(_) => 0,
        LayerSpec::Sigmoid => 1,
        LayerSpec::Tanh => 2,
        LayerSpec::Relu => 3,
        LayerSpec::LeakyRelu { .. } => 4,
        LayerSpec::Softmax => 5,
        LayerSpec::Flatten => 6,
        LayerSpec::Sequential { .. } => 7,
        LayerSpec::Dropout(_) => 8,
        LayerSpec::BatchNorm(_) => 9,
        LayerSpec::Conv2d(_) => 10,
        LayerSpec::MaxPool2d(_) => 11,
        LayerSpec::AvgPool2d(_) => 12,
        LayerSpec::GlobalAvgPool(_) => 13,
        LayerSpec::Residual(_) => 14,
        LayerSpec::Inception(_) => 15,
        LayerSpec::Graph(_) => 16,
        LayerSpec::Custom(_) => 17,
    }
}
const VARIANTS: usize = 18;

fn visit(spec: &LayerSpec, seen: &mut [bool]) {
    seen[variant(spec)] = true;
    let children: Vec<&LayerSpec> = match spec {
        LayerSpec::Sequential { layers, .. } => layers.iter().collect(),
        LayerSpec::Residual(r) => r.main.iter().chain(&r.shortcut).collect(),
        LayerSpec::Inception(i) => i.branches.iter().flatten().collect(),
        LayerSpec::Graph(g) => g.nodes.iter().filter_map(|n| n.layer_spec()).collect(),
        _ => Vec::new(),
    };
    children.into_iter().for_each(|l| visit(l, seen));
}

// ---- round trips --------------------------------------------------------------------------

#[test]
fn every_layer_type_has_a_round_trip_case() {
    let mut seen = vec![false; VARIANTS];
    for (_, specs, _) in cases() {
        specs.iter().for_each(|s| visit(s, &mut seen));
    }
    let missing: Vec<usize> = (0..VARIANTS).filter(|&i| !seen[i]).collect();
    assert!(missing.is_empty(), "variants {missing:?} have no case");
}

#[test]
fn every_layer_type_round_trips_in_f32() {
    for (name, specs, shape) in cases() {
        round_trip(name, &specs, &shape, DType::F32);
    }
}

#[test]
fn every_layer_type_round_trips_in_f64() {
    for (name, specs, shape) in cases() {
        round_trip(name, &specs, &shape, DType::F64);
    }
}

#[test]
fn the_saved_files_are_standard_safetensors_and_readable_json() {
    let dir = TempDir::new("format");
    let model = build(&[dense(3), LayerSpec::Relu, dense(2)], &[4], DType::F32, 1);
    let info = io::save(&model, &[4], dir.path()).unwrap();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight"]);
    let w = st.tensor("0.weight").unwrap();
    assert_eq!(w.dtype(), safetensors::Dtype::F32);
    assert_eq!(w.shape(), [3, 4]);
    let first = f32::from_le_bytes(w.data()[..4].try_into().unwrap());
    assert_eq!(first, model.parameters()[0].tensor.to_vec::<f32>()[0]);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("model.json")).unwrap()).unwrap();
    assert_eq!(json["format"], "dlkit-model");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["dtype"], "f32");
    assert_eq!(json["input_shape"], serde_json::json!([4]));
    assert_eq!(json["output_shape"], serde_json::json!([2]));
    assert_eq!(json["layers"][1]["type"], "relu");
    assert_eq!(json["weights"]["tensors"], 4);
    assert_eq!(json["weights"]["parameters"], 3 * 4 + 3 + 2 * 3 + 2);
    assert_eq!(json["weights"]["bytes"], bytes.len());
    assert!(json.get("metadata").is_none(), "empty metadata is left out");
    assert_eq!(info.weights.unwrap().bytes, bytes.len() as u64);
}

#[test]
fn a_stem_names_a_pair_of_files() {
    let dir = TempDir::new("stem");
    let model = build(&[dense(2)], &[3], DType::F64, 1);
    io::save(&model, &[3], dir.join("cat.json")).unwrap();
    assert_eq!(dir.entries(), ["cat.json", "cat.safetensors"]);
    let (loaded, _) = io::load(dir.join("cat.safetensors")).unwrap();
    assert_eq!(state(&loaded), state(&model));
    let paths = ModelPaths::resolve(dir.join("cat.json"));
    assert_eq!(paths.weights, dir.join("cat.safetensors"));
}

#[test]
fn metadata_for_the_trainer_round_trips() {
    let dir = TempDir::new("meta");
    let model = build(&[dense(3), LayerSpec::Softmax], &[2], DType::F32, 1);
    let meta = ModelMetadata {
        class_names: Some(vec!["a".into(), "b".into(), "c".into()]),
        normalization: Some(Normalization {
            mean: vec![0.1, -2.5],
            std: vec![1.0 / 3.0, 7.0],
        }),
        extra: Some(serde_json::json!({ "run": "r17", "epochs": 40 })),
    };
    io::save_with(&model, &[2], &meta, dir.path()).unwrap();
    let info = io::read_info(dir.path()).unwrap();
    assert_eq!(info.metadata, meta);
    let (_, info) = io::load(dir.path()).unwrap();
    assert_eq!(info.metadata, meta);

    let bad = ModelMetadata {
        class_names: Some(vec!["a".into(), "b".into()]),
        ..ModelMetadata::default()
    };
    let err = io::save_with(&model, &[2], &bad, dir.join("bad")).unwrap_err();
    assert!(
        err.to_string()
            .contains("class_names: 2 names for an output of shape [3], which needs 3"),
        "{err}"
    );
    let bad = ModelMetadata {
        normalization: Some(Normalization {
            mean: vec![0.0],
            std: vec![0.0],
        }),
        ..ModelMetadata::default()
    };
    let err = io::save_with(&model, &[2], &bad, dir.join("bad")).unwrap_err();
    assert!(err.to_string().contains("normalization.std[0]"), "{err}");
    assert!(!dir.join("bad").exists());
}

#[test]
fn saving_over_a_model_replaces_it_whole() {
    let dir = TempDir::new("overwrite");
    let a = build(&[dense(3)], &[2], DType::F32, 1);
    let b = build(&[dense(5), LayerSpec::Relu, dense(1)], &[4], DType::F64, 2);
    io::save(&a, &[2], dir.path()).unwrap();
    io::save(&b, &[4], dir.path()).unwrap();
    let (loaded, info) = io::load(dir.path()).unwrap();
    assert_eq!(info.dtype, DType::F64);
    assert_eq!(state(&loaded), state(&b));
    assert_eq!(
        dir.entries(),
        ["model.json", "model.safetensors"],
        "no temporary files left"
    );
}

#[test]
fn weights_alone_round_trip_into_an_existing_model() {
    let dir = TempDir::new("weights");
    let specs = [dense(4), LayerSpec::Tanh, dense(2)];
    let a = build(&specs, &[3], DType::F32, 1);
    let b = build(&specs, &[3], DType::F32, 2);
    assert_ne!(state(&a), state(&b));
    io::save_weights(&a, dir.join("ckpt.safetensors")).unwrap();
    io::load_weights_into(&b, dir.join("ckpt.safetensors")).unwrap();
    assert_eq!(state(&a), state(&b));
    // A saved model's folder works as well.
    let c = build(&specs, &[3], DType::F32, 3);
    io::save(&a, &[3], dir.join("full")).unwrap();
    io::load_weights_into(&c, dir.join("full")).unwrap();
    assert_eq!(state(&a), state(&c));
}

#[test]
fn transfer_learning_loads_a_subset_by_prefix() {
    let dir = TempDir::new("transfer");
    let pretrained = build(&[dense(5), LayerSpec::Relu, dense(3)], &[4], DType::F32, 1);
    io::save(&pretrained, &[4], dir.path()).unwrap();

    // A new head of another size: a full load refuses it, naming the tensors.
    let model = build(&[dense(5), LayerSpec::Relu, dense(2)], &[4], DType::F32, 2);
    let err = io::load_weights_into(&model, dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.safetensors"), "{err}");
    assert!(
        err.contains("tensor `2.weight`: expected shape [2, 5] but the file has [3, 5]"),
        "{err}"
    );
    let head_before = bits(&model.parameters()[2].tensor);
    assert_eq!(
        bits(&model.parameters()[0].tensor),
        bits(
            &build(&[dense(5), LayerSpec::Relu, dense(2)], &[4], DType::F32, 2).parameters()[0]
                .tensor
        ),
        "a refused load changes no weight"
    );

    // Only the backbone.
    let filter = WeightsFilter {
        only: vec!["0".into()],
        rename: None,
    };
    let loaded = load_weights_with(&model, dir.path(), &filter).unwrap();
    assert_eq!(loaded, ["0.weight", "0.bias"]);
    let p = model.parameters();
    assert_eq!(bits(&p[0].tensor), bits(&pretrained.parameters()[0].tensor));
    assert_eq!(bits(&p[1].tensor), bits(&pretrained.parameters()[1].tensor));
    assert_eq!(bits(&p[2].tensor), head_before, "the new head is untouched");

    // The pretrained network nested as the first layer of a bigger one.
    let wrapped = build(
        &[
            LayerSpec::Sequential {
                layers: vec![dense(5), LayerSpec::Relu, dense(3)],
                trainable: true,
            },
            LayerSpec::Relu,
            dense(2),
        ],
        &[4],
        DType::F32,
        3,
    );
    let filter = WeightsFilter {
        only: vec!["0".into()],
        rename: Some(("".into(), "0.".into())),
    };
    let loaded = load_weights_with(&wrapped, dir.path(), &filter).unwrap();
    assert_eq!(loaded, ["0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias"]);
    let inner: Vec<_> = wrapped
        .parameters()
        .into_iter()
        .take(4)
        .map(|p| bits(&p.tensor))
        .collect();
    let outer: Vec<_> = pretrained
        .parameters()
        .into_iter()
        .map(|p| bits(&p.tensor))
        .collect();
    assert_eq!(inner, outer);

    let filter = WeightsFilter {
        only: vec!["7".into()],
        rename: None,
    };
    let err = load_weights_with(&model, dir.path(), &filter)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no tensor under the prefixes [\"7\"]"),
        "{err}"
    );
}

// ---- a failed save ------------------------------------------------------------------------

#[test]
fn a_save_that_fails_leaves_no_partial_file() {
    let dir = TempDir::new("failed-save");
    let model = build(&[dense(3), LayerSpec::Relu, dense(2)], &[4], DType::F32, 1);

    // A wrong input shape is found before anything is written.
    let err = io::save(&model, &[5], dir.join("m"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot save"), "{err}");
    assert!(err.contains("input shape [5]"), "{err}");
    assert!(!dir.join("m").exists());

    // The description cannot replace what is in its place (a folder): the error names it,
    // and no temporary file stays behind.
    std::fs::create_dir_all(dir.join("n/model.json/occupied")).unwrap();
    let err = io::save(&model, &[4], dir.join("n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.json"), "{err}");
    assert!(err.contains("cannot replace"), "{err}");
    let left: Vec<String> = std::fs::read_dir(dir.join("n"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    // The folder cannot be created (a file is in the way): nothing is written.
    std::fs::write(dir.join("blocker"), b"x").unwrap();
    let err = io::save(&model, &[4], dir.join("blocker/sub"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot create the folder"), "{err}");
    assert_eq!(std::fs::read(dir.join("blocker")).unwrap(), b"x");
}

// ---- broken weights -----------------------------------------------------------------------

/// A saved model to break: `0.weight [3, 4]`, `0.bias [3]`, `2.weight [2, 3]`, `2.bias [2]`.
fn saved(tag: &str, dtype: DType) -> (TempDir, Sequential) {
    let dir = TempDir::new(tag);
    let model = build(&[dense(3), LayerSpec::Relu, dense(2)], &[4], dtype, 1);
    io::save(&model, &[4], dir.path()).unwrap();
    (dir, model)
}

fn weights_path(dir: &TempDir) -> PathBuf {
    dir.join("model.safetensors")
}

/// Rewrites the weights file with the tensors `edit` returns (name, dtype, shape, bytes).
fn rewrite(
    dir: &TempDir,
    edit: impl FnOnce(&mut Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>),
) {
    let bytes = std::fs::read(weights_path(dir)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let out = safetensors::serialize(views, None).unwrap();
    std::fs::write(weights_path(dir), out).unwrap();
}

/// The messages of `load` and of `load_weights_into` for the same broken file.
fn both_errors(dir: &TempDir, model: &Sequential) -> (String, String) {
    let load = match io::load(dir.path()) {
        Ok(_) => panic!("load accepted a broken file"),
        Err(e) => e.to_string(),
    };
    let into = io::load_weights_into(model, weights_path(dir))
        .unwrap_err()
        .to_string();
    for msg in [&load, &into] {
        assert!(msg.contains("model.safetensors"), "names the file: {msg}");
    }
    (load, into)
}

/// The message `load` fails with (`Sequential` has no `Debug`, so no `unwrap_err`).
fn load_err(path: &Path) -> String {
    match io::load(path) {
        Ok(_) => panic!("load accepted a broken model at {}", path.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in: {msg}");
    }
}

#[test]
fn a_truncated_weights_file_is_an_error() {
    let (dir, model) = saved("truncated", DType::F32);
    let bytes = std::fs::read(weights_path(&dir)).unwrap();
    std::fs::write(weights_path(&dir), &bytes[..bytes.len() - 10]).unwrap();
    let (load, into) = both_errors(&dir, &model);
    assert_has(&load, &["truncated", &format!("recorded {}", bytes.len())]);
    assert_has(&into, &["truncated", "do not fill"]);

    std::fs::write(weights_path(&dir), &bytes[..5]).unwrap();
    let (load, into) = both_errors(&dir, &model);
    assert_has(&load, &["5 bytes is too short"]);
    assert_has(&into, &["5 bytes is too short"]);

    std::fs::write(weights_path(&dir), b"").unwrap();
    let (load, _) = both_errors(&dir, &model);
    assert_has(&load, &["0 bytes is too short"]);
}

#[test]
fn a_header_length_beyond_the_file_is_an_error() {
    let (dir, model) = saved("header-length", DType::F32);
    let mut bytes = std::fs::read(weights_path(&dir)).unwrap();
    let claimed = bytes.len() as u64 + 100;
    bytes[..8].copy_from_slice(&claimed.to_le_bytes());
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, into) = both_errors(&dir, &model);
    let expected = format!(
        "header length field says {claimed} bytes, beyond the end of the file ({} bytes)",
        bytes.len()
    );
    assert_has(&load, &[&expected]);
    assert_has(&into, &[&expected]);

    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, _) = both_errors(&dir, &model);
    assert_has(&load, &["more than the 100 MB limit"]);
}

#[test]
fn flipped_header_bytes_are_an_error() {
    let (dir, model) = saved("flipped-header", DType::F32);
    let good = std::fs::read(weights_path(&dir)).unwrap();

    // The opening brace of the header JSON.
    let mut bytes = good.clone();
    assert_eq!(bytes[8], b'{');
    bytes[8] ^= 0x55;
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, into) = both_errors(&dir, &model);
    assert_has(
        &load,
        &["corrupt safetensors file", "header is not valid JSON"],
    );
    assert_has(&into, &["header is not valid JSON"]);

    // A byte that is no longer UTF-8.
    let mut bytes = good.clone();
    bytes[12] = 0xff;
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, _) = both_errors(&dir, &model);
    assert_has(&load, &["header is not UTF-8"]);

    // A digit of a data offset: the tensors no longer tile the file.
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&good[8..8 + header_len]).unwrap();
    let at = 8 + header.find("\"data_offsets\":[0,").unwrap() + "\"data_offsets\":[0,".len();
    let mut bytes = good.clone();
    bytes[at] = if bytes[at] == b'9' { b'1' } else { b'9' };
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, _) = both_errors(&dir, &model);
    assert_has(&load, &["corrupt safetensors file"]);

    // A letter of a tensor's name: that tensor is missing and an unknown one appears.
    let at = 8 + header.find("\"0.weight\"").unwrap() + 1;
    let mut bytes = good.clone();
    bytes[at] = b'7';
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let (load, into) = both_errors(&dir, &model);
    for msg in [&load, &into] {
        assert_has(
            msg,
            &[
                "missing tensor `0.weight` (expected f32 [3, 4])",
                "unexpected tensor `7.weight` (f32 [3, 4]) that the model does not have",
            ],
        );
    }
}

#[test]
fn damaged_tensor_data_is_caught_by_the_checksum() {
    let (dir, _) = saved("flipped-data", DType::F32);
    let mut bytes = std::fs::read(weights_path(&dir)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(weights_path(&dir), &bytes).unwrap();
    let err = load_err(dir.path());
    assert_has(
        &err,
        &[
            "model.safetensors",
            "checksum",
            "differs from",
            "model.json",
        ],
    );
}

#[test]
fn a_weights_file_from_another_save_is_an_error() {
    let (dir, _) = saved("other-save", DType::F32);
    let other = TempDir::new("other-save-b");
    let model = build(&[dense(3), LayerSpec::Relu, dense(2)], &[4], DType::F32, 9);
    io::save(&model, &[4], other.path()).unwrap();
    std::fs::copy(weights_path(&other), weights_path(&dir)).unwrap();
    let err = load_err(dir.path());
    assert_has(&err, &["checksum", "different saves"]);

    // Without the "weights" section the replaced weights load, checked by name and shape.
    let json_path = dir.join("model.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("weights");
    std::fs::write(&json_path, json.to_string()).unwrap();
    let (loaded, info) = io::load(dir.path()).unwrap();
    assert!(info.weights.is_none());
    assert_eq!(state(&loaded), state(&model));
}

#[test]
fn a_wrong_shape_for_one_tensor_is_an_error() {
    let (dir, model) = saved("shape", DType::F32);
    rewrite(&dir, |ts| {
        let w = ts.iter_mut().find(|t| t.0 == "0.weight").unwrap();
        w.2 = vec![4, 3];
    });
    let (load, into) = both_errors(&dir, &model);
    for msg in [&load, &into] {
        assert_has(
            msg,
            &[
                "tensor `0.weight`: expected shape [3, 4] but the file has [4, 3]",
                "1 problem",
            ],
        );
    }
}

#[test]
fn a_missing_tensor_is_an_error() {
    let (dir, model) = saved("missing", DType::F64);
    rewrite(&dir, |ts| ts.retain(|t| t.0 != "2.bias"));
    let (load, into) = both_errors(&dir, &model);
    for msg in [&load, &into] {
        assert_has(msg, &["missing tensor `2.bias` (expected f64 [2])"]);
    }
}

#[test]
fn an_extra_tensor_is_an_error() {
    let (dir, model) = saved("extra", DType::F32);
    rewrite(&dir, |ts| {
        ts.push((
            "3.weight".into(),
            safetensors::Dtype::F32,
            vec![2],
            vec![0; 8],
        ))
    });
    let (load, into) = both_errors(&dir, &model);
    for msg in [&load, &into] {
        assert_has(
            msg,
            &["unexpected tensor `3.weight` (f32 [2]) that the model does not have"],
        );
    }
}

#[test]
fn a_wrong_dtype_is_an_error() {
    let (dir, model) = saved("dtype", DType::F32);
    rewrite(&dir, |ts| {
        for t in ts.iter_mut() {
            t.1 = safetensors::Dtype::F64;
            t.3 =
                t.3.chunks_exact(4)
                    .flat_map(|b| (f32::from_le_bytes(b.try_into().unwrap()) as f64).to_le_bytes())
                    .collect();
        }
    });
    let (load, into) = both_errors(&dir, &model);
    for msg in [&load, &into] {
        assert_has(
            msg,
            &[
                "tensor `0.weight`: expected dtype f32 but the file has f64",
                "4 problems",
            ],
        );
    }

    // A dtype dlkit has no tensors of.
    let (dir, model) = saved("dtype-i32", DType::F32);
    rewrite(&dir, |ts| {
        let b = ts.iter_mut().find(|t| t.0 == "0.bias").unwrap();
        b.1 = safetensors::Dtype::I32;
    });
    let (_, into) = both_errors(&dir, &model);
    assert_has(
        &into,
        &["tensor `0.bias`: expected dtype f32 but the file has I32 (which dlkit cannot load)"],
    );
}

#[test]
fn a_missing_weights_file_is_an_error() {
    let (dir, model) = saved("no-weights", DType::F32);
    std::fs::remove_file(weights_path(&dir)).unwrap();
    let (load, _) = both_errors(&dir, &model);
    assert_has(&load, &["cannot read"]);
}

// ---- broken descriptions ------------------------------------------------------------------

/// Saves a model with nested layers, applies `edit` to its description, and returns the
/// message `load` fails with (checked to name `model.json`).
fn broken_description(tag: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let dir = TempDir::new(tag);
    let model = build(
        &[
            dense(3),
            LayerSpec::LeakyRelu { slope: 0.2 },
            LayerSpec::Sequential {
                layers: vec![dense(2), LayerSpec::Relu],
                trainable: true,
            },
        ],
        &[4],
        DType::F32,
        1,
    );
    io::save(&model, &[4], dir.path()).unwrap();
    let path = dir.join("model.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let msg = match io::load(dir.path()) {
        Ok(_) => panic!("{tag}: load accepted a broken description"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains("model.json"), "names the file: {msg}");
    let again = io::read_info(dir.path())
        .map(|_| ())
        .map_err(|e| e.to_string());
    if let Err(m) = again {
        assert_eq!(m, msg, "read_info gives the same message");
    }
    msg
}

#[test]
fn an_unknown_layer_type_is_an_error() {
    let msg = broken_description("unknown-type", |j| j["layers"][1]["type"] = "conv3d".into());
    assert_has(
        &msg,
        &[
            "layers[1]: unknown layer type `conv3d`",
            "`dense`",
            "`leaky_relu`",
        ],
    );

    let msg = broken_description("unknown-nested-type", |j| {
        j["layers"][2]["layers"][1]["type"] = "swish".into()
    });
    assert_has(&msg, &["layers[2].layers[1]: unknown layer type `swish`"]);

    let msg = broken_description("no-type", |j| {
        j["layers"][0].as_object_mut().unwrap().remove("type");
    });
    assert_has(&msg, &["layers[0]: a layer needs a `type` field"]);
}

/// Saves a model of residual and inception blocks, edits its description, and returns the
/// load error.
fn broken_block_description(tag: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let dir = TempDir::new(tag);
    let specs = [
        Residual::projection_block(2, 2),
        Inception::classic_block(1, 1, 1, 1, 1, 1),
        LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
    ];
    let model = build(&specs, &[4, 4, 1], DType::F32, 1);
    io::save(&model, &[4, 4, 1], dir.path()).unwrap();
    let path = dir.join("model.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    match io::load(dir.path()) {
        Ok(_) => panic!("{tag}: load accepted a broken description"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn mistakes_inside_blocks_are_located() {
    let msg = broken_block_description("residual-field", |j| {
        j["layers"][0]["main"][0]["dilation"] = 2.into()
    });
    assert_has(
        &msg,
        &[
            "model.json",
            "layers[0].main[0] (conv2d): unknown field `dilation`",
        ],
    );
    let msg = broken_block_description("residual-shortcut-type", |j| {
        j["layers"][0]["shortcut"][1]["type"] = "batchnorm".into()
    });
    assert_has(
        &msg,
        &["layers[0].shortcut[1]: unknown layer type `batchnorm`"],
    );
    let msg = broken_block_description("inception-field", |j| {
        j["layers"][1]["branches"][3][0]["strides"] = 1.into()
    });
    assert_has(
        &msg,
        &["layers[1].branches[3][0] (max_pool2d): unknown field `strides`"],
    );
    let msg = broken_block_description("padding", |j| {
        j["layers"][1]["branches"][1][2]["padding"] = "full".into()
    });
    assert_has(
        &msg,
        &[
            "layers[1].branches[1][2] (conv2d)",
            "string \"full\", expected padding \"valid\", \"same\"",
        ],
    );
    let msg =
        broken_block_description("global-field", |j| j["layers"][2]["keepdims"] = true.into());
    assert_has(
        &msg,
        &["layers[2] (global_avg_pool): unknown field `keepdims`"],
    );
    // A description whose blocks no longer fit is a build error naming them.
    let msg = broken_block_description("residual-shape", |j| {
        j["layers"][0]["shortcut"][0]["stride"] = serde_json::json!([1, 1])
    });
    assert_has(
        &msg,
        &["residual: the main branch outputs [2, 2, 2] but the shortcut outputs [4, 4, 2]"],
    );
}

#[test]
fn a_mistyped_field_is_an_error() {
    // A misspelt field name in a layer that lists its fields.
    let msg = broken_description("misspelt-dense", |j| {
        let d = j["layers"][0].as_object_mut().unwrap();
        let units = d.remove("units").unwrap();
        d.insert("unit".into(), units);
    });
    assert_has(
        &msg,
        &["layers[0] (dense): unknown field `unit`", "`units`"],
    );

    // ... in a layer whose fields all have defaults, where serde alone would ignore it.
    let msg = broken_description("misspelt-slope", |j| {
        let d = j["layers"][1].as_object_mut().unwrap();
        let slope = d.remove("slope").unwrap();
        d.insert("slop".into(), slope);
    });
    assert_has(
        &msg,
        &["layers[1] (leaky_relu): unknown field `slop`; its fields are `slope`"],
    );

    // ... in a layer that takes none, nested.
    let msg = broken_description("field-on-relu", |j| {
        j["layers"][2]["layers"][1]["alpha"] = 0.1.into()
    });
    assert_has(
        &msg,
        &["layers[2].layers[1] (relu): unknown field `alpha`; it takes no fields"],
    );

    // A field of the wrong type.
    let msg = broken_description("units-type", |j| j["layers"][0]["units"] = "three".into());
    assert_has(
        &msg,
        &["layers[0] (dense): invalid type: string \"three\", expected usize"],
    );
    let msg = broken_description("init-type", |j| {
        j["layers"][2]["layers"][0]["init"] = serde_json::json!({ "type": "hee" })
    });
    assert_has(
        &msg,
        &["layers[2].layers[0] (dense): unknown variant `hee`", "`he`"],
    );

    // Fields of the description itself.
    let msg = broken_description("top-field", |j| {
        let o = j.as_object_mut().unwrap();
        let v = o.remove("input_shape").unwrap();
        o.insert("input_shap".into(), v);
    });
    assert_has(&msg, &["unknown field `input_shap`", "`input_shape`"]);
    let msg = broken_description("top-type", |j| j["input_shape"] = "4".into());
    assert_has(&msg, &["field `input_shape`: invalid type: string \"4\""]);
    let msg = broken_description("dtype", |j| j["dtype"] = "f16".into());
    assert_has(
        &msg,
        &["field `dtype`: unknown dtype `f16`, expected `f32` or `f64`"],
    );
    let msg = broken_description("layers-missing", |j| {
        j.as_object_mut().unwrap().remove("layers");
    });
    assert_has(&msg, &["missing field `layers`"]);
    let msg = broken_description("checksum", |j| j["weights"]["checksum"] = "md5:abc".into());
    assert_has(&msg, &["field `weights.checksum`"]);
    let msg = broken_description("metadata", |j| {
        j["metadata"] = serde_json::json!({ "classes": ["a"] })
    });
    assert_has(&msg, &["field `metadata`: unknown field `classes`"]);
}

#[test]
fn a_description_that_does_not_build_is_an_error() {
    let msg = broken_description("input-shape", |j| {
        j["input_shape"] = serde_json::json!([2, 2])
    });
    assert_has(
        &msg,
        &[
            "do not build for input_shape [2, 2]",
            "layer 0 (dense)",
            "flatten",
        ],
    );
    let msg = broken_description("output-shape", |j| {
        j["output_shape"] = serde_json::json!([7])
    });
    assert_has(&msg, &["output_shape is [7] but the layers give [2]"]);
}

#[test]
fn a_description_that_is_not_one_is_an_error() {
    let msg = broken_description("format", |j| {
        j.as_object_mut().unwrap().remove("format");
    });
    assert_has(&msg, &["not a dlkit model description", "\"dlkit-model\""]);
    let msg = broken_description("version", |j| j["format_version"] = 2.into());
    assert_has(&msg, &["format_version 2", "newer dlkit"]);
    let msg = broken_description("array", |j| *j = serde_json::json!([1, 2]));
    assert_has(&msg, &["expected a JSON object"]);

    let dir = TempDir::new("bad-json");
    let model = build(&[dense(2)], &[3], DType::F32, 1);
    io::save(&model, &[3], dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.join("model.json")).unwrap();
    std::fs::write(dir.join("model.json"), &text[..text.len() / 2]).unwrap();
    let msg = load_err(dir.path());
    assert_has(&msg, &["model.json", "invalid JSON", "line"]);
    std::fs::write(dir.join("model.json"), [0xff, 0xfe, 0x00]).unwrap();
    let msg = load_err(dir.path());
    assert_has(&msg, &["model.json", "not UTF-8"]);
    std::fs::remove_file(dir.join("model.json")).unwrap();
    let msg = load_err(dir.path());
    assert_has(&msg, &["model.json", "cannot read"]);
}

// ---- buffers ------------------------------------------------------------------------------

/// A module with a buffer beside its parameter, as batch norm has running statistics.
struct WithBuffer {
    scale: dlkit_nn::Param,
    running_mean: Tensor,
}

impl Module for WithBuffer {
    fn forward(&self, x: &Tensor) -> dlkit_nn::Result<Tensor> {
        Ok(x.try_sub(&self.running_mean)?.try_mul(&self.scale.tensor)?)
    }
    fn parameters(&self) -> Vec<dlkit_nn::Param> {
        vec![self.scale.clone()]
    }
    fn buffers(&self) -> Vec<(String, Tensor)> {
        vec![("running_mean".into(), self.running_mean.clone())]
    }
}

fn with_buffer(seed: u64, dtype: DType) -> Sequential {
    let mut rng = Rng::new(seed);
    Sequential::from_modules(vec![
        Box::new(WithBuffer {
            scale: dlkit_nn::Param::new(
                "scale",
                Tensor::rand_normal(&[3], 0.0, 1.0, dtype, &mut rng),
                dlkit_nn::ParamKind::Scale,
            ),
            running_mean: Tensor::rand_normal(&[3], 0.0, 1.0, dtype, &mut rng),
        }),
        Box::new(dlkit_nn::Activation::Tanh),
    ])
}

#[test]
fn buffers_round_trip_beside_parameters() {
    for dtype in [DType::F32, DType::F64] {
        let dir = TempDir::new("buffers");
        let a = with_buffer(1, dtype);
        let b = with_buffer(2, dtype);
        io::save_weights(&a, dir.join("w.safetensors")).unwrap();
        let bytes = std::fs::read(dir.join("w.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names = st.names();
        names.sort();
        assert_eq!(names, ["0.running_mean", "0.scale"]);
        io::load_weights_into(&b, dir.join("w.safetensors")).unwrap();
        assert_eq!(state(&a), state(&b));
        let x = input(&[3], dtype, 4);
        assert_eq!(bits(&a.forward(&x).unwrap()), bits(&b.forward(&x).unwrap()));
        // A model without the buffer does not take the file.
        let plain = build(&[LayerSpec::Tanh], &[3], dtype, 1);
        let err = io::load_weights_into(&plain, dir.join("w.safetensors"))
            .unwrap_err()
            .to_string();
        assert_has(
            &err,
            &[
                "unexpected tensor `0.running_mean`",
                "unexpected tensor `0.scale`",
            ],
        );
    }
}

#[test]
fn batch_norm_running_stats_round_trip() {
    for dtype in [DType::F32, DType::F64] {
        let dir = TempDir::new("bn-stats");
        let specs = [
            dense(4),
            LayerSpec::BatchNorm(BatchNormSpec::default()),
            LayerSpec::Tanh,
            LayerSpec::Dropout(DropoutSpec::new(0.7)),
            dense(2),
        ];
        let mut model = build(&specs, &[3], dtype, 1);
        // Training passes move the running statistics away from 0 and 1.
        for seed in 0..3 {
            model.forward(&input(&[3], dtype, 10 + seed)).unwrap();
        }
        let stats: Vec<_> = model.buffers();
        assert_eq!(
            stats.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["1.running_mean", "1.running_var"]
        );
        assert!(stats[0].1.to_vec_f64().iter().all(|&v| v != 0.0));
        assert!(stats[1].1.to_vec_f64().iter().all(|&v| v != 1.0));
        model.set_training(false);
        let x = input(&[3], dtype, 5);
        let before = model.forward(&x).unwrap();

        io::save(&model, &[3], dir.path()).unwrap();
        let (loaded, _) = io::load(dir.path()).unwrap();
        assert_eq!(state(&loaded), state(&model));
        for ((n, a), (_, b)) in loaded.buffers().iter().zip(&stats) {
            assert_eq!(bits(a), bits(b), "{n}");
        }
        // In evaluation mode: the same predictions, twice, and the statistics stay put.
        assert_eq!(bits(&loaded.forward(&x).unwrap()), bits(&before));
        assert_eq!(bits(&loaded.forward(&x).unwrap()), bits(&before));
        assert_eq!(state(&loaded), state(&model));
    }
}

/// A layer type registered from outside dlkit-nn: `y = x * scale (+ shift)`, per feature.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleSpec {
    bias: bool,
}

struct Scale {
    spec: ScaleSpec,
    params: Vec<dlkit_nn::Param>,
}

impl dlkit_nn::CustomLayer for ScaleSpec {
    const TYPE: &'static str = "test_scale";

    fn build(
        &self,
        ctx: &mut BuildContext,
        input: &[usize],
    ) -> dlkit_nn::Result<dlkit_nn::spec::Built> {
        let n = input[0];
        let w = ctx.sample_weight(Init::He, &[n], n, n);
        let mut params = vec![dlkit_nn::Param::new("scale", w, dlkit_nn::ParamKind::Scale)];
        if self.bias {
            let b = ctx.sample_weight(Init::He, &[n], n, n);
            params.push(dlkit_nn::Param::new("shift", b, dlkit_nn::ParamKind::Shift));
        }
        let spec = self.clone();
        Ok((Box::new(Scale { spec, params }), input.to_vec()))
    }
}

impl Module for Scale {
    fn forward(&self, x: &Tensor) -> dlkit_nn::Result<Tensor> {
        let y = x.try_mul(&self.params[0].tensor)?;
        Ok(match self.params.get(1) {
            Some(b) => y.try_add(&b.tensor)?,
            None => y,
        })
    }

    fn own_parameters(&self) -> Vec<dlkit_nn::Param> {
        self.params.clone()
    }

    fn spec(&self) -> Option<LayerSpec> {
        LayerSpec::custom(&self.spec).ok()
    }
}

#[test]
fn a_graph_or_a_custom_layer_saves_and_loads_as_the_top_module() {
    dlkit_nn::register_layer::<ScaleSpec>().unwrap();
    let graph = cases().into_iter().find(|c| c.0 == "graph").unwrap().1;
    let custom = LayerSpec::custom(&ScaleSpec { bias: false }).unwrap();
    for (name, spec) in [("top-graph", graph[0].clone()), ("top-custom", custom)] {
        let dir = TempDir::new(name);
        let mut ctx = BuildContext::new(DType::F32, 1, Init::He);
        let (mut model, _) = spec.build(&mut ctx, &[4]).unwrap();
        randomize(&*model, 2);
        model.set_training(false);
        let x = input(&[4], DType::F32, 3);
        let saved = io::save(&*model, &[4], dir.path()).unwrap();
        assert!(saved.single_layer, "{name}");
        let (loaded, info) = io::load_module(dir.path()).unwrap();
        assert_eq!(info, saved, "{name}");
        assert_eq!(state(&*loaded), state(&*model), "{name}: tensors differ");
        let (a, b) = (model.forward(&x).unwrap(), loaded.forward(&x).unwrap());
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>(), "{name}");
        let e = io::load(dir.path()).err().unwrap().to_string();
        assert!(e.contains("load it with load_module"), "{name}: {e}");
    }
}

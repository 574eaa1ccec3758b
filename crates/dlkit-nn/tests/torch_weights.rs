//! PyTorch state dicts loaded through a name map: a torchvision-style ResNet that PyTorch saved
//! (scripts/make_torch_resnet_fixture.py) gives PyTorch's logits in dlkit, and every way a file
//! can fail to fit is an error that names the tensors.

use dlkit_core::{no_grad, DType, Rng, Tensor};
use dlkit_nn::io::{decode_tensors, load_torch_state_dict, Layout, NameMap};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::{BuildContext, Init, LayerSpec, ModelConfig, Module, Sequential};
use safetensors::tensor::{SafeTensors, TensorView};
use safetensors::Dtype;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch_resnet")
        .join(name)
}

/// The dlkit layers of the fixture's ResNet.
fn resnet_layers() -> Vec<LayerSpec> {
    let text = std::fs::read_to_string(fixture("model.toml")).unwrap();
    toml::from_str::<ModelConfig>(&text).unwrap().layers
}

fn build(layers: &[LayerSpec], input: &[usize], dtype: DType) -> Sequential {
    let mut ctx = BuildContext::new(dtype, 7, Init::He);
    Sequential::build(layers, &mut ctx, input).unwrap().0
}

fn resnet(dtype: DType) -> Sequential {
    build(&resnet_layers(), &[20, 20, 3], dtype)
}

fn io_tensor(name: &str) -> Tensor {
    let all = decode_tensors(&fixture("io.safetensors")).unwrap();
    all.into_iter().find(|(n, _)| n == name).unwrap().1
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The logits of the fixture's inputs, the model in evaluation mode.
fn logits(model: &mut Sequential, dtype: DType) -> Vec<f64> {
    model.set_training(false);
    let x = io_tensor("inputs_nhwc").to_vec_f64();
    let x = match dtype {
        DType::F32 => Tensor::from_vec(x.iter().map(|&v| v as f32).collect(), &[4, 20, 20, 3]),
        DType::F64 => Tensor::from_vec(x, &[4, 20, 20, 3]),
    };
    no_grad(|| model.forward(&x)).unwrap().to_vec_f64()
}

#[test]
fn a_torchvision_resnet_gives_pytorchs_logits() {
    let mut model = resnet(DType::F32);
    let report = load_torch_state_dict(
        &model,
        fixture("resnet.safetensors"),
        &NameMap::torchvision_resnet(),
    )
    .unwrap();
    let tensors = model.parameters().len() + model.buffers().len();
    assert_eq!(report.loaded.len(), tensors);
    assert_eq!(report.loaded.len(), 42);
    assert_eq!(report.ignored.len(), 8);
    let stem = &report.loaded[0];
    assert_eq!(
        (stem.torch_name.as_str(), stem.dlkit_name.as_str()),
        ("conv1.weight", "0.weight")
    );
    assert_eq!(stem.shape, vec![7, 7, 3, 8]);
    assert_eq!(stem.layout, Layout::OihwToHwio);
    let names: Vec<(&str, &str)> = report
        .loaded
        .iter()
        .map(|t| (t.torch_name.as_str(), t.dlkit_name.as_str()))
        .collect();
    for pair in [
        ("bn1.weight", "1.gamma"),
        ("bn1.running_var", "1.running_var"),
        ("layer1.1.conv2.weight", "5.main.3.weight"),
        ("layer2.0.bn2.bias", "6.main.4.beta"),
        ("layer2.0.downsample.0.weight", "6.shortcut.0.weight"),
        (
            "layer2.0.downsample.1.running_mean",
            "6.shortcut.1.running_mean",
        ),
        ("fc.weight", "8.weight"),
        ("fc.bias", "8.bias"),
    ] {
        assert!(names.contains(&pair), "{pair:?} not in {names:?}");
    }
    assert_eq!(
        report.to_string(),
        "loaded 42 tensors (7586 values; 8 convolutions OIHW to HWIO, 0 dense columns \
         permuted), ignored 8 (num_batches_tracked)"
    );

    let ours = logits(&mut model, DType::F32);
    let torch = io_tensor("logits").to_vec_f64();
    let diff = max_abs_diff(&ours, &torch);
    assert!(diff < 1e-4, "logits differ from PyTorch's by {diff}");
}

#[test]
fn in_f64_the_mapping_is_exact() {
    let mut model = resnet(DType::F64);
    load_torch_state_dict(
        &model,
        fixture("resnet.safetensors"),
        &NameMap::torchvision_resnet(),
    )
    .unwrap();
    let ours = logits(&mut model, DType::F64);
    let torch = io_tensor("logits_f64").to_vec_f64();
    let diff = max_abs_diff(&ours, &torch);
    assert!(diff < 1e-10, "f64 logits differ from PyTorch's by {diff}");
}

/// A temporary copy of the fixture's weights, edited.
struct Edited {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

type Raw = (String, Dtype, Vec<usize>, Vec<u8>);

fn edited(edit: impl FnOnce(&mut Vec<Raw>)) -> Edited {
    let bytes = std::fs::read(fixture("resnet.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut raw: Vec<Raw> = file
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut raw);
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    Edited { _dir: dir, path }
}

fn load_error(model: &dyn Module, path: &Path, map: &NameMap) -> String {
    let err = load_torch_state_dict(model, path, map).unwrap_err();
    let prefix = format!("{}: ", path.display());
    err.to_string().strip_prefix(&prefix).unwrap().to_string()
}

#[test]
fn a_wrong_shape_names_the_tensor_and_both_layouts() {
    let mut layers = resnet_layers();
    let LayerSpec::Conv2d(stem) = &mut layers[0] else {
        panic!("the stem is a conv2d")
    };
    stem.kernel = [5, 5];
    let model = build(&layers, &[20, 20, 3], DType::F32);
    let path = fixture("resnet.safetensors");
    let before = model.parameters()[1].tensor.to_vec_f64();
    assert_eq!(
        load_error(&model, &path, &NameMap::torchvision_resnet()),
        "the PyTorch weights do not fit the model (1 problem): tensor `conv1.weight` (dlkit \
         `0.weight`): expected shape [8, 3, 5, 5] (OIHW of dlkit's HWIO [5, 5, 3, 8]) but the \
         file has [8, 3, 7, 7]"
    );
    // Nothing was copied.
    assert_eq!(model.parameters()[1].tensor.to_vec_f64(), before);

    let mut layers = resnet_layers();
    layers[8] = LayerSpec::Dense(DenseSpec::new(6));
    let model = build(&layers, &[20, 20, 3], DType::F32);
    assert_eq!(
        load_error(&model, &path, &NameMap::torchvision_resnet()),
        "the PyTorch weights do not fit the model (2 problems): tensor `fc.weight` (dlkit \
         `8.weight`): expected shape [6, 16] but the file has [10, 16]; tensor `fc.bias` \
         (dlkit `8.bias`): expected shape [6] but the file has [10]"
    );
}

#[test]
fn an_unmapped_tensor_is_listed() {
    let file = edited(|raw| {
        raw.push((
            "layer3.0.conv1.weight".into(),
            Dtype::F32,
            vec![1],
            vec![0; 4],
        ));
        raw.push(("fc.scale".into(), Dtype::F32, vec![1], vec![0; 4]));
    });
    assert_eq!(
        load_error(
            &resnet(DType::F32),
            &file.path,
            &NameMap::torchvision_resnet()
        ),
        "the PyTorch weights do not fit the model (1 problem): tensors of the file that map to \
         no tensor of the model (2): `fc.scale` (to `8.scale`, which the model lacks), \
         `layer3.0.conv1.weight`"
    );
}

#[test]
fn a_missing_tensor_is_listed() {
    let file = edited(|raw| raw.retain(|(n, ..)| n != "fc.bias"));
    // An extra dense layer before `fc`, which no PyTorch module fills.
    let mut layers = resnet_layers();
    layers.insert(8, LayerSpec::Dense(DenseSpec::new(16)));
    let model = build(&layers, &[20, 20, 3], DType::F32);
    assert_eq!(
        load_error(&model, &file.path, &NameMap::torchvision_resnet()),
        "the PyTorch weights do not fit the model (1 problem): tensors of the model that get \
         no value from the file (3): `8.weight` (no PyTorch module maps to `8`), `8.bias` (no \
         PyTorch module maps to `8`), `9.bias` (from `fc.bias`)"
    );
}

#[test]
fn a_dtype_other_than_f32_and_f64_is_refused() {
    let file = edited(|raw| {
        let fc = raw.iter_mut().find(|t| t.0 == "fc.bias").unwrap();
        fc.1 = Dtype::F16;
        fc.3.truncate(20);
    });
    assert_eq!(
        load_error(
            &resnet(DType::F32),
            &file.path,
            &NameMap::torchvision_resnet()
        ),
        "the PyTorch weights do not fit the model (1 problem): tensor `fc.bias` (dlkit \
         `8.bias`) has dtype F16, but only F32 and F64 load (save `model.float().state_dict()`)"
    );
}

#[test]
fn a_pair_to_a_layer_without_tensors_is_named() {
    let file = edited(|raw| {
        for t in raw.iter_mut().filter(|t| t.0.starts_with("fc.")) {
            t.0 = t.0.replace("fc.", "head.");
        }
    });
    assert_eq!(
        load_error(
            &resnet(DType::F32),
            &file.path,
            &NameMap::torchvision_resnet().with("head", "7")
        ),
        "the PyTorch weights do not fit the model (2 problems): tensors of the file that map \
         to no tensor of the model (2): `head.bias` (to layer `7`, which holds no tensors in \
         the model), `head.weight` (to layer `7`, which holds no tensors in the model); \
         tensors of the model that get no value from the file (2): `8.weight` (from \
         `fc.weight`), `8.bias` (from `fc.bias`)"
    );
}

#[test]
fn explicit_pairs_override_the_built_in_names() {
    let file = edited(|raw| {
        for t in raw.iter_mut().filter(|t| t.0.starts_with("fc.")) {
            t.0 = t.0.replace("fc.", "head.");
        }
    });
    let mut model = resnet(DType::F64);
    let map = NameMap::torchvision_resnet().with("head", "8");
    load_torch_state_dict(&model, &file.path, &map).unwrap();
    let diff = max_abs_diff(
        &logits(&mut model, DType::F64),
        &io_tensor("logits_f64").to_vec_f64(),
    );
    assert!(diff < 1e-10, "{diff}");
}

/// A dense layer after a flatten of a 2x2x3 map: PyTorch's columns run over (c, h, w).
#[test]
fn a_dense_after_a_flatten_of_a_map_permutes_its_columns() {
    let (h, w, c, units) = (2, 2, 3, 4);
    let layers = [LayerSpec::Flatten, LayerSpec::Dense(DenseSpec::new(units))];
    let model = build(&layers, &[h, w, c], DType::F64);
    let mut rng = Rng::new(3);
    let weight = Tensor::rand_normal(&[units, h * w * c], 0.0, 1.0, DType::F64, &mut rng);
    let bias = Tensor::rand_normal(&[units], 0.0, 1.0, DType::F64, &mut rng);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat.safetensors");
    let bytes =
        dlkit_nn::io::encode_tensors([("fc.weight", &weight), ("fc.bias", &bias)], None).unwrap();
    std::fs::write(&path, bytes).unwrap();

    let map = NameMap::new().with("fc", "1");
    assert_eq!(
        load_error(&model, &path, &map),
        "the PyTorch weights do not fit the model (1 problem): tensor `fc.weight` (dlkit \
         `1.weight`): dense `1` follows a flatten of a map whose shape the model does not \
         tell; PyTorch flattens NCHW as (c, h, w) and dlkit NHWC as (h, w, c), so its columns \
         must be permuted: give the map's shape with NameMap::with_flatten_input(\"1\", [h, \
         w, c])"
    );
    assert_eq!(
        load_error(
            &model,
            &path,
            &map.clone().with_flatten_input("1", [2, 2, 2])
        ),
        "the PyTorch weights do not fit the model (1 problem): tensor `fc.weight` (dlkit \
         `1.weight`): the flattened map [2, 2, 2] given for dense `1` holds 8 values but the \
         layer takes 12 inputs"
    );

    assert_eq!(
        load_error(
            &model,
            &path,
            &map.clone().with_flatten_input("0", [2, 2, 3])
        ),
        "the PyTorch weights do not fit the model (2 problems): NameMap::with_flatten_input \
         names `0`, not a dense layer of the model; tensor `fc.weight` (dlkit `1.weight`): \
         dense `1` follows a flatten of a map whose shape the model does not tell; PyTorch \
         flattens NCHW as (c, h, w) and dlkit NHWC as (h, w, c), so its columns must be \
         permuted: give the map's shape with NameMap::with_flatten_input(\"1\", [h, w, c])"
    );
    let map = map.with_flatten_input("1", [h, w, c]);
    let report = load_torch_state_dict(&model, &path, &map).unwrap();
    assert_eq!(report.loaded[0].layout, Layout::FlattenChwToHwc { h, w, c });
    // PyTorch's z[r] = b[r] + sum over (c, y, x) of W[r, c·h·w + y·w + x] · x[y, x, c].
    let x = Tensor::rand_normal(&[2, h, w, c], 0.0, 1.0, DType::F64, &mut rng);
    let ours = no_grad(|| model.forward(&x)).unwrap().to_vec_f64();
    let (xs, ws, bs) = (x.to_vec_f64(), weight.to_vec_f64(), bias.to_vec_f64());
    let n = h * w * c;
    for m in 0..2 {
        for r in 0..units {
            let mut z = bs[r];
            for ch in 0..c {
                for y in 0..h {
                    for xx in 0..w {
                        z +=
                            ws[r * n + ch * h * w + y * w + xx] * xs[m * n + (y * w + xx) * c + ch];
                    }
                }
            }
            assert!((ours[m * units + r] - z).abs() < 1e-12, "{m} {r}");
        }
    }
}

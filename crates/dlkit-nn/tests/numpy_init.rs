//! Models built with the NumPy init stream (`InitRng::Numpy`) start from exactly the course's
//! initial weights: `tests/fixtures/numpy_init.json`, written by NumPy 2.4 running the
//! course's initialisation code (`scripts/make_init_fixtures.py`). Every comparison is
//! bit for bit (`f64::to_bits`), no tolerance.

use dlkit_core::{DType, NumpyRandom};
use dlkit_nn::layers::conv2d::Conv2dSpec;
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::{BuildContext, Init, InitRng, LayerSpec, Module, ParamKind, Sequential};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/numpy_init.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A space-separated string of shortest round-trip decimals, parsed exactly.
fn floats(v: &Value) -> Vec<f64> {
    v.as_str()
        .unwrap()
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn assert_bits_eq(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits(),
            "{what}[{i}]: dlkit {g:e}, NumPy {w:e}"
        );
    }
}

/// The course's fully connected net over `dims`: dense layers with ReLU between them and a
/// sigmoid at the end (activations draw nothing), built from the NumPy stream.
fn build(dims: &[usize], seed: u64, init: Init, dtype: DType) -> Sequential {
    let mut layers = Vec::new();
    for (l, &units) in dims.iter().enumerate().skip(1) {
        layers.push(LayerSpec::Dense(DenseSpec::new(units)));
        layers.push(if l + 1 == dims.len() {
            LayerSpec::Sigmoid
        } else {
            LayerSpec::Relu
        });
    }
    let mut ctx = BuildContext::with_init_rng(dtype, seed, init, InitRng::Numpy).unwrap();
    assert_eq!(ctx.init_rng(), InitRng::Numpy);
    let (model, out) = Sequential::build(&layers, &mut ctx, &dims[..1]).unwrap();
    assert_eq!(out, [*dims.last().unwrap()]);
    model
}

/// The weights `[n[l], n[l-1]]` of each dense layer, checking that the biases are zeros.
fn dense_weights(model: &Sequential, dims: &[usize]) -> Vec<Vec<f64>> {
    let params = model.parameters();
    let weights: Vec<_> = params
        .iter()
        .filter(|p| p.kind == ParamKind::Weight)
        .collect();
    let biases: Vec<_> = params
        .iter()
        .filter(|p| p.kind == ParamKind::Bias)
        .collect();
    assert_eq!(weights.len(), dims.len() - 1);
    assert_eq!(biases.len(), dims.len() - 1);
    for (l, (w, b)) in weights.iter().zip(&biases).enumerate() {
        assert_eq!(w.tensor.shape(), [dims[l + 1], dims[l]]);
        assert_eq!(b.tensor.shape(), [dims[l + 1]]);
        assert!(b.tensor.to_vec::<f64>().iter().all(|&v| v == 0.0));
    }
    weights.iter().map(|w| w.tensor.to_vec::<f64>()).collect()
}

fn init_of(v: &Value) -> Init {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn small_models_match_the_course_bit_for_bit() {
    let fx = fixture();
    let models = fx["models"].as_array().unwrap();
    assert_eq!(models.len(), 5);
    for m in models {
        let name = m["name"].as_str().unwrap();
        let dims = usizes(&m["dims"]);
        let model = build(
            &dims,
            m["seed"].as_u64().unwrap(),
            init_of(&m["init"]),
            DType::F64,
        );
        let got = dense_weights(&model, &dims);
        let want = m["weights"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for (l, (g, w)) in got.iter().zip(want).enumerate() {
            assert_bits_eq(&format!("{name} W{}", l + 1), g, &floats(w));
        }
    }
}

#[test]
fn the_cat_two_layer_model_matches_the_course_bit_for_bit() {
    let fx = fixture();
    let big = &fx["big"];
    let dims = usizes(&big["dims"]);
    assert_eq!(dims, [12288, 7, 1]);
    let model = build(
        &dims,
        big["seed"].as_u64().unwrap(),
        init_of(&big["init"]),
        DType::F64,
    );
    let w = dense_weights(&model, &dims);
    let w1 = &w[0];
    assert_bits_eq("W1 head", &w1[..16], &floats(&big["head"]));
    assert_bits_eq("W1 tail", &w1[w1.len() - 16..], &floats(&big["tail"]));
    let stride = big["stride"].as_u64().unwrap() as usize;
    let strided: Vec<f64> = w1.iter().step_by(stride).copied().collect();
    assert_bits_eq("W1 strided", &strided, &floats(&big["strided"]));
    let sum = w1.iter().fold(0.0f64, |s, &v| s + v);
    let want_sum: f64 = big["sum"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        sum.to_bits(),
        want_sum.to_bits(),
        "W1 sum {sum:e} vs {want_sum:e}"
    );
    let checksum = w1.iter().enumerate().fold(0u64, |c, (i, v)| {
        c.wrapping_add(v.to_bits().wrapping_mul(2 * i as u64 + 1))
    });
    assert_eq!(checksum.to_string(), big["checksum"].as_str().unwrap());
    assert_bits_eq("W2", &w[1], &floats(&big["w2"]));
}

#[test]
fn conv_filters_are_drawn_in_their_layout_order() {
    let fx = fixture();
    let conv = &fx["conv"];
    let layers = [
        LayerSpec::Conv2d(
            serde_json::from_str::<Conv2dSpec>(r#"{"filters": 4, "kernel": 3}"#).unwrap(),
        ),
        LayerSpec::Relu,
        LayerSpec::Flatten,
        LayerSpec::Dense(DenseSpec::new(1)),
        LayerSpec::Sigmoid,
    ];
    let seed = conv["seed"].as_u64().unwrap();
    let mut ctx = BuildContext::with_init_rng(DType::F64, seed, Init::He, InitRng::Numpy).unwrap();
    let (model, _) = Sequential::build(&layers, &mut ctx, &usizes(&conv["input"])).unwrap();
    let weights: Vec<_> = model
        .parameters()
        .into_iter()
        .filter(|p| p.kind == ParamKind::Weight)
        .collect();
    assert_eq!(weights[0].tensor.shape(), [3, 3, 2, 4]);
    assert_bits_eq(
        "filters",
        &weights[0].tensor.to_vec::<f64>(),
        &floats(&conv["filters"]),
    );
    assert_eq!(weights[1].tensor.shape(), [1, 36]);
    assert_bits_eq(
        "dense",
        &weights[1].tensor.to_vec::<f64>(),
        &floats(&conv["dense"]),
    );
}

#[test]
fn f32_models_hold_the_course_values_rounded_to_f32() {
    let fx = fixture();
    let m = &fx["models"][0];
    let dims = usizes(&m["dims"]);
    let seed = m["seed"].as_u64().unwrap();
    let model = build(&dims, seed, init_of(&m["init"]), DType::F32);
    let w1 = model
        .parameters()
        .into_iter()
        .find(|p| p.kind == ParamKind::Weight)
        .unwrap();
    let want: Vec<f32> = floats(&m["weights"][0])
        .into_iter()
        .map(|v| v as f32)
        .collect();
    assert_eq!(w1.tensor.to_vec::<f32>(), want);
}

#[test]
fn the_numpy_stream_needs_a_u32_seed() {
    let max = u64::from(u32::MAX);
    assert!(BuildContext::with_init_rng(DType::F64, max, Init::He, InitRng::Numpy).is_ok());
    let err = BuildContext::with_init_rng(DType::F64, max + 1, Init::He, InitRng::Numpy)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("4294967296") && err.contains("4294967295"),
        "{err}"
    );
    // dlkit's own stream takes any u64 seed and is today's behaviour.
    let ctx = BuildContext::with_init_rng(DType::F64, max + 1, Init::He, InitRng::Dlkit).unwrap();
    assert_eq!(ctx.init_rng(), InitRng::Dlkit);
    let layers = [LayerSpec::Dense(DenseSpec::new(3))];
    let built = |mut ctx: BuildContext| {
        let (m, _) = Sequential::build(&layers, &mut ctx, &[4]).unwrap();
        m.parameters()[0].tensor.to_vec::<f64>()
    };
    assert_eq!(
        built(BuildContext::with_init_rng(DType::F64, 9, Init::He, InitRng::Dlkit).unwrap()),
        built(BuildContext::new(DType::F64, 9, Init::He))
    );
}

#[test]
fn zeros_draw_nothing_from_the_stream() {
    // A zeros layer between two drawn ones leaves the stream where it was: the last layer
    // gets the values it would get as the second drawn tensor.
    let fx = fixture();
    let m = &fx["models"][1]; // he, [2, 10, 5, 1], seed 3
    let dims = usizes(&m["dims"]);
    let seed = m["seed"].as_u64().unwrap();
    let zeros_then = |units| {
        let mut spec = DenseSpec::new(units);
        spec.init = Some(Init::Zeros);
        LayerSpec::Dense(spec)
    };
    let layers = [
        LayerSpec::Dense(DenseSpec::new(10)),
        zeros_then(5),
        LayerSpec::Dense(DenseSpec::new(1)),
    ];
    let mut ctx = BuildContext::with_init_rng(DType::F64, seed, Init::He, InitRng::Numpy).unwrap();
    let (model, _) = Sequential::build(&layers, &mut ctx, &dims[..1]).unwrap();
    let w: Vec<Vec<f64>> = model
        .parameters()
        .iter()
        .filter(|p| p.kind == ParamKind::Weight)
        .map(|p| p.tensor.to_vec::<f64>())
        .collect();
    assert_bits_eq("W1", &w[0], &floats(&m["weights"][0]));
    assert!(w[1].iter().all(|&v| v == 0.0));
    // np.random.seed(3); W1 = randn(10, 2) * np.sqrt(2 / 2); W3 = randn(1, 5) * np.sqrt(2 / 5).
    let mut np = NumpyRandom::new(3);
    np.randn(20);
    let want: Vec<f64> = np
        .randn(5)
        .iter()
        .map(|g| g * (2.0f64 / 5.0).sqrt())
        .collect();
    assert_bits_eq("W3", &w[2], &want);
}

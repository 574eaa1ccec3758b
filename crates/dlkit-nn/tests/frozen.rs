//! Frozen layers (`trainable = false`): descriptions round-trip, optimisers leave frozen
//! parameters alone, and a frozen batch norm normalises as in evaluation while training.

use dlkit_core::{no_grad, DType, Rng, Tensor};
use dlkit_nn::optim::Adam;
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Optimizer, Regularizer, Sequential};

const LAYERS: &str = r#"
layers = [
  { type = "dense", units = 8, trainable = false },
  { type = "batch_norm", trainable = false },
  { type = "relu" },
  { type = "sequential", trainable = false, layers = [{ type = "dense", units = 4 }] },
  { type = "dense", units = 3 },
]
"#;

#[derive(serde::Deserialize)]
struct Layers {
    layers: Vec<LayerSpec>,
}

fn specs() -> Vec<LayerSpec> {
    toml::from_str::<Layers>(LAYERS).unwrap().layers
}

fn build(specs: &[LayerSpec]) -> Sequential {
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    Sequential::build(specs, &mut ctx, &[5]).unwrap().0
}

#[test]
fn trainable_false_round_trips_through_toml_json_and_saved_models() {
    let specs = specs();
    assert_eq!(
        specs.iter().map(LayerSpec::trainable).collect::<Vec<_>>(),
        [false, false, true, false, true]
    );
    let model = build(&specs);
    let layers = model.layers();
    assert!(!layers[0].trainable() && !layers[1].trainable() && !layers[3].trainable());
    assert!(layers[4].trainable());
    assert!(layers[3].parameters().iter().all(|p| !p.trainable()));
    let Some(LayerSpec::Sequential { layers: saved, .. }) = model.spec() else {
        unreachable!()
    };
    // The saved description names the initialiser the layer was built with.
    assert!(!saved[0].trainable() && saved[1..3] == specs[1..3]);
    let json = serde_json::to_string(&saved).unwrap();
    assert_eq!(json.matches(r#""trainable":false"#).count(), 4, "{json}");
    assert!(
        !json.contains(r#""trainable":true"#),
        "written only when false: {json}"
    );
    let back: Vec<LayerSpec> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, saved);
    let dir = tempfile::tempdir().unwrap();
    dlkit_nn::save(&model, &[5], dir.path()).unwrap();
    let (loaded, info) = dlkit_nn::load(dir.path()).unwrap();
    assert_eq!(info.layers, saved);
    let frozen = |m: &Sequential| {
        m.parameters()
            .iter()
            .map(|p| p.trainable())
            .collect::<Vec<_>>()
    };
    assert_eq!(frozen(&loaded), frozen(&model));
}

#[test]
fn an_optimiser_step_leaves_frozen_parameters_unchanged_with_l2_and_weight_decay() {
    let model = build(&specs());
    let x = Tensor::rand_normal(&[6, 5], 0.0, 1.0, DType::F32, &mut Rng::new(2));
    let labels = [0, 1, 2, 0, 1, 2];
    let before: Vec<Vec<f32>> = model
        .parameters()
        .iter()
        .map(|p| p.tensor.to_vec())
        .collect();
    let mut opt = Adam::new(model.parameters(), 0.1).weight_decay(0.5);
    let l2 = Regularizer::l2(0.7).with_all_params(true);
    for _ in 0..3 {
        let cost = Loss::SoftmaxCrossEntropy
            .compute(&model.forward(&x).unwrap(), &labels[..])
            .unwrap()
            .try_add(&l2.penalty(&model.parameters(), 6).unwrap())
            .unwrap();
        opt.zero_grad();
        cost.backward();
        opt.step();
    }
    for (p, old) in model.parameters().iter().zip(before) {
        let moved = p.tensor.to_vec::<f32>() != old;
        assert_eq!(moved, p.trainable(), "{}", p.name);
    }
}

#[test]
fn a_frozen_batch_norm_in_training_mode_equals_its_inference_output() {
    let bn = &specs()[1];
    let mut ctx = BuildContext::new(DType::F64, 0, Init::He);
    let (mut frozen, _) = bn.build(&mut ctx, &[3]).unwrap();
    let stats = |m: &dyn Module| {
        m.buffers()
            .iter()
            .map(|(_, t)| t.to_vec::<f64>())
            .collect::<Vec<_>>()
    };
    let x = Tensor::rand_normal(&[8, 3], 2.0, 3.0, DType::F64, &mut Rng::new(3));
    let running = stats(frozen.as_ref());
    frozen.set_training(true);
    let train = frozen.forward(&x).unwrap().to_vec::<f64>();
    assert_eq!(
        stats(frozen.as_ref()),
        running,
        "the running statistics do not move"
    );
    frozen.set_training(false);
    let eval = no_grad(|| frozen.forward(&x)).unwrap().to_vec::<f64>();
    assert_eq!(train, eval);
    frozen.set_trainable(true);
    frozen.set_training(true);
    assert_ne!(frozen.forward(&x).unwrap().to_vec::<f64>(), eval);
    assert_ne!(stats(frozen.as_ref()), running);
}

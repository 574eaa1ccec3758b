//! A layer defined outside dlkit-nn: a learnable per-feature scale and shift
//! (`y = x * gamma + beta`, gamma starting at `init_scale`, beta at 0), registered under the
//! type name `scale_shift` so that models holding it save and load like any other.
//!
//! The model `scale_shift, dense 8, relu, dense 3` learns the iris flowers
//! (`data/sklearn/iris.csv`, raw features): 200 full-batch Adam steps (learning rate 0.05) on
//! the softmax cross-entropy reach a training accuracy above 0.9. Saved and loaded again, it
//! predicts exactly what the trained model does.
//!
//! `cargo run --release -p dlkit-nn --example custom_layer` (also run by `cargo test`).

use dlkit_core::{no_grad, DType, Tensor};
use dlkit_nn::optim::Adam;
use dlkit_nn::spec::Built;
use dlkit_nn::{io, register_layer, BuildContext, CustomLayer, Init, LayerSpec, Loss, Module};
use dlkit_nn::{Optimizer, Param, ParamKind, Result, Sequential};
use serde::{Deserialize, Serialize};

/// `{ type = "scale_shift", init_scale = 0.5 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleShiftSpec {
    #[serde(default = "one")]
    init_scale: f64,
}

fn one() -> f64 {
    1.0
}

impl CustomLayer for ScaleShiftSpec {
    const TYPE: &'static str = "scale_shift";

    fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let [n] = *input else {
            return Err(dlkit_nn::Error::Build(format!(
                "scale_shift needs a flat input [features] but gets {input:?}"
            )));
        };
        let gamma = Tensor::ones(&[n], ctx.dtype).mul_scalar(self.init_scale);
        let layer = ScaleShift {
            spec: self.clone(),
            gamma: Param::new("gamma", gamma, ParamKind::Scale),
            beta: Param::new("beta", Tensor::zeros(&[n], ctx.dtype), ParamKind::Shift),
        };
        Ok((Box::new(layer), input.to_vec()))
    }
}

struct ScaleShift {
    spec: ScaleShiftSpec,
    gamma: Param,
    beta: Param,
}

impl Module for ScaleShift {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.try_mul(&self.gamma.tensor)?.try_add(&self.beta.tensor)?)
    }

    fn own_parameters(&self) -> Vec<Param> {
        vec![self.gamma.clone(), self.beta.clone()]
    }

    fn spec(&self) -> Option<LayerSpec> {
        LayerSpec::custom(&self.spec).ok()
    }
}

const MODEL: &str = r#"layers = [
  { type = "scale_shift", init_scale = 0.5 },
  { type = "dense", units = 8 }, { type = "relu" }, { type = "dense", units = 3 },
]"#;

#[derive(Deserialize)]
struct Layers {
    layers: Vec<LayerSpec>,
}

fn accuracy(model: &Sequential, x: &Tensor, labels: &[usize]) -> f64 {
    let logits = no_grad(|| model.forward(x)).expect("shapes fit");
    let right = logits
        .argmax_indices(-1)
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    right as f64 / labels.len() as f64
}

fn main() {
    register_layer::<ScaleShiftSpec>().expect("a new type name");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sklearn/iris.csv");
    let table = dlkit_data::load_sklearn_csv(path).expect("the shipped iris table");
    let layers = toml::from_str::<Layers>(MODEL)
        .expect("a valid description")
        .layers;
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    let (mut model, _) = Sequential::build(&layers, &mut ctx, &[4]).expect("shapes fit");
    let mut optimizer = Adam::new(model.parameters(), 0.05);
    for _ in 0..200 {
        let logits = model.forward(&table.x).expect("shapes fit");
        let cost = Loss::SoftmaxCrossEntropy
            .compute(&logits, &table.y)
            .expect("labels");
        optimizer.zero_grad();
        cost.backward();
        optimizer.step();
    }
    model.set_training(false);
    let trained = accuracy(&model, &table.x, &table.y);
    println!("training accuracy {trained:.3}");
    assert!(trained > 0.9, "accuracy {trained}");

    let dir = std::env::temp_dir().join(format!("dlkit-custom-layer-{}", std::process::id()));
    let info = io::save(&model, &[4], &dir).expect("saves");
    assert_eq!(info.layers[0].kind(), "scale_shift");
    let (loaded, _) = io::load(&dir).expect("loads");
    let (a, b) = no_grad(|| (model.forward(&table.x), loaded.forward(&table.x)));
    assert_eq!(a.unwrap().to_vec::<f32>(), b.unwrap().to_vec::<f32>());
    std::fs::remove_dir_all(&dir).expect("removes the folder");
    println!("saved, loaded, identical predictions");
}

#[test]
fn a_custom_layer_trains_saves_and_loads() {
    main();
}

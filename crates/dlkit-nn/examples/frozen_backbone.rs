//! Fine-tuning with a frozen backbone, trained on the iris flowers (`data/sklearn/iris.csv`,
//! 150 examples, 3 classes).
//!
//! The model is a backbone (dense 16, batch norm, ReLU, dense 8, ReLU) and a head (dense 3
//! giving the logits). It is trained whole, saved and loaded again; then the backbone is
//! frozen (`trainable = false`, here by `Module::set_trainable`), the head is drawn afresh and
//! trained alone, with the model in training mode throughout. As in Keras, the frozen batch
//! norm normalises with its running statistics and leaves them unchanged, so the backbone's
//! weights and statistics after fine-tuning are bit-identical to the saved ones; the new head
//! reaches a training accuracy above 0.9 on the backbone's features.
//!
//! `cargo run --release -p dlkit-nn --example frozen_backbone`; its test runs with
//! `cargo test --release -p dlkit-nn --example frozen_backbone` (and with `cargo test`).

use dlkit_core::{no_grad, DType, Rng, Tensor};
use dlkit_nn::optim::Adam;
use dlkit_nn::{Loss, ModelConfig, Module, Optimizer, Sequential};

/// The model, as a config file's `[model]` would hold it (He initialisation, seed 0).
const MODEL: &str = r#"
layers = [
  { type = "sequential", layers = [
      { type = "dense", units = 16 }, { type = "batch_norm" }, { type = "relu" },
      { type = "dense", units = 8 }, { type = "relu" }] },
  { type = "dense", units = 3 },
]
"#;

const STEPS: usize = 200;
const LEARNING_RATE: f64 = 0.01;

/// The iris features, standardised per column (`(x - mean) / std`), and the labels.
fn iris() -> (Tensor, Vec<usize>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sklearn/iris.csv");
    let table = dlkit_data::load_sklearn_csv(path).expect("the shipped iris table");
    let (m, n) = (table.len(), table.features.len());
    let mut x = table.x.to_vec::<f32>();
    for j in 0..n {
        let column = || (0..m).map(|i| x[i * n + j]);
        let mean = column().sum::<f32>() / m as f32;
        let var = column().map(|v| (v - mean) * (v - mean)).sum::<f32>() / m as f32;
        (0..m).for_each(|i| x[i * n + j] = (x[i * n + j] - mean) / var.sqrt());
    }
    (Tensor::from_vec(x, &[m, n]), table.y)
}

/// `STEPS` full-batch Adam steps on every trainable parameter of `model`.
fn train(model: &mut Sequential, x: &Tensor, labels: &[usize]) {
    model.set_training(true);
    let mut optimizer = Adam::new(model.parameters(), LEARNING_RATE);
    for _ in 0..STEPS {
        let cost = Loss::SoftmaxCrossEntropy
            .compute(&model.forward(x).expect("shapes fit"), labels)
            .expect("one label per example");
        optimizer.zero_grad();
        cost.backward();
        optimizer.step();
    }
}

/// The training accuracy, in evaluation mode.
fn accuracy(model: &mut Sequential, x: &Tensor, labels: &[usize]) -> f64 {
    model.set_training(false);
    let predicted = no_grad(|| model.forward(x))
        .expect("shapes fit")
        .argmax_indices(-1);
    let right = predicted.iter().zip(labels).filter(|(p, y)| p == y).count();
    right as f64 / labels.len() as f64
}

/// Every value of a module's parameters and buffers (running mean and variance), as bits.
fn state_bits(module: &dyn Module) -> Vec<u32> {
    let params = module.parameters().into_iter().map(|p| p.tensor);
    let buffers = module.buffers().into_iter().map(|(_, t)| t);
    let values = params.chain(buffers).flat_map(|t| t.to_vec::<f32>());
    values.map(f32::to_bits).collect()
}

/// Pre-trains, saves, reloads, freezes the backbone and trains a fresh head; returns the
/// backbone's state before and after fine-tuning, the head's before and after, and the
/// accuracy reached.
fn fine_tune() -> (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>, f64) {
    let (x, labels) = iris();
    let config: ModelConfig = toml::from_str(MODEL).expect("a valid description");
    let mut ctx = config.build_context(DType::F32).expect("seed 0");
    let (mut model, _) = config.build(&mut ctx, &[4]).expect("shapes fit");
    train(&mut model, &x, &labels);

    let dir = tempfile::tempdir().expect("a temporary directory");
    dlkit_nn::save(&model, &[4], dir.path()).expect("saved");
    let (mut model, _) = dlkit_nn::load(dir.path()).expect("loaded");
    let (backbone, head) = (&model.layers()[0], &model.layers()[1]);
    backbone.set_trainable(false);
    let mut rng = Rng::new(1);
    for p in head.parameters() {
        let fresh = Tensor::rand_normal(p.tensor.shape(), 0.0, 0.1, DType::F32, &mut rng);
        p.tensor.try_assign(&fresh).expect("same shape");
    }
    let (backbone_before, head_before) = (state_bits(backbone.as_ref()), state_bits(head.as_ref()));
    train(&mut model, &x, &labels);
    let (backbone, head) = (&model.layers()[0], &model.layers()[1]);
    let (backbone_after, head_after) = (state_bits(backbone.as_ref()), state_bits(head.as_ref()));
    let acc = accuracy(&mut model, &x, &labels);
    (
        backbone_before,
        backbone_after,
        head_before,
        head_after,
        acc,
    )
}

fn main() {
    let (backbone_before, backbone_after, head_before, head_after, acc) = fine_tune();
    println!(
        "backbone unchanged: {}; head changed: {}; training accuracy {acc:.3}",
        backbone_before == backbone_after,
        head_before != head_after
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frozen_backbone_and_its_statistics_stay_bit_identical() {
        let (backbone_before, backbone_after, head_before, head_after, acc) = fine_tune();
        assert_eq!(backbone_before, backbone_after);
        assert_ne!(head_before, head_after);
        assert!(acc > 0.9, "training accuracy {acc}");
    }
}

//! The course's `L_layer_model`: [12288, 20, 7, 5, 1], ReLU then sigmoid, He initialisation,
//! batch gradient descent on the cat/non-cat images. Then save, reload, and check the reloaded
//! model predicts bit for bit the same.
//! `cargo run --release -p dlkit-nn --example l_layer_model`

use dlkit_core::{no_grad, DType, Tensor};
use dlkit_data::load_course_h5;
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::optim::GradientDescent;
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Optimizer, Sequential};

/// Images flattened and scaled to [0, 1], labels as an `[m, 1]` column.
fn load(file: &str, set: &str) -> Result<(Tensor, Tensor), Box<dyn std::error::Error>> {
    let path = format!(
        "{}/../../data/catvnoncat/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let d = load_course_h5(&path, &format!("{set}_x"), &format!("{set}_y"))?;
    let y: Vec<f32> = d.y.iter().map(|&c| c as f32).collect();
    Ok((
        d.x.flatten_from1().mul_scalar(1.0 / 255.0),
        Tensor::try_from_vec(y, &[d.y.len(), 1])?,
    ))
}

fn accuracy(model: &Sequential, x: &Tensor, y: &Tensor) -> Result<f64, dlkit_nn::Error> {
    let p = no_grad(|| model.forward(x))?.to_vec_f64();
    let hits = p
        .iter()
        .zip(y.to_vec_f64())
        .filter(|(p, y)| (**p > 0.5) == (*y > 0.5))
        .count();
    Ok(hits as f64 / p.len() as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = load("train_catvnoncat.h5", "train_set")?;
    let (x_test, y_test) = load("test_catvnoncat.h5", "test_set")?;
    let dense = |units| LayerSpec::Dense(DenseSpec::new(units));
    let layers = [
        dense(20),
        LayerSpec::Relu,
        dense(7),
        LayerSpec::Relu,
        dense(5),
        LayerSpec::Relu,
        dense(1),
        LayerSpec::Sigmoid,
    ];
    let mut ctx = BuildContext::new(DType::F32, 1, Init::He);
    let (mut model, _) = Sequential::build(&layers, &mut ctx, &[12288])?;
    let mut optimizer = GradientDescent::new(model.parameters(), 0.0075);
    for i in 0..2500 {
        let cost = Loss::BinaryCrossEntropy.compute(&model.forward_logits(&x)?, &y)?;
        optimizer.zero_grad();
        cost.backward();
        optimizer.step();
        if i % 500 == 0 {
            println!("Cost after iteration {i}: {:.6}", cost.item());
        }
    }
    model.set_training(false);
    println!(
        "train accuracy {:.3}, test accuracy {:.3}",
        accuracy(&model, &x, &y)?,
        accuracy(&model, &x_test, &y_test)?
    );

    let dir = std::env::temp_dir().join("dlkit-l-layer-model");
    dlkit_nn::save(&model, &[12288], &dir)?;
    let (reloaded, _) = dlkit_nn::load(&dir)?;
    let (a, b) = no_grad(|| {
        Ok::<_, dlkit_nn::Error>((model.forward(&x_test)?, reloaded.forward(&x_test)?))
    })?;
    assert_eq!(
        a.to_vec::<f32>(),
        b.to_vec::<f32>(),
        "the reloaded model predicts differently"
    );
    println!(
        "saved to {} and reloaded: identical predictions",
        dir.display()
    );
    Ok(())
}

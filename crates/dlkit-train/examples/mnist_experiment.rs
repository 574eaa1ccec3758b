//! Train `examples/mnist_mlp.toml` in-process through the experiment API (one epoch instead
//! of ten), write its run folder, and predict a PNG of a test digit with the saved model.
//!
//! Run: `cargo run --release -p dlkit-train --example mnist_experiment`; `cargo test` runs it
//! too and asserts the figures.

use std::path::{Path, PathBuf};

use dlkit_train::{run_writer, Experiment, ExperimentOptions, LoadedConfig, Predictor};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Returns the test accuracy, the test digit's true class and the class predicted for its PNG.
fn train_and_predict(run_dir: &Path) -> Result<(f64, usize, usize)> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut config = LoadedConfig::from_file(&repo.join("examples/mnist_mlp.toml"))?;
    config.config.train.epochs = 1;
    let outcome = Experiment::new(config, ExperimentOptions::default())?.run()?;
    let accuracy = outcome.set("test").expect("a test set").accuracy();
    run_writer::write_run(&outcome, run_dir)?;

    // The first test image (raw 0..255) as a 28x28 grey PNG, predicted from the run folder.
    let test = outcome.splits.test.as_ref().expect("a test set");
    let pixels: Vec<u8> = test.x.to_vec_f64()[..28 * 28]
        .iter()
        .map(|&v| v as u8)
        .collect();
    let png = run_dir.join("digit.png");
    image::GrayImage::from_raw(28, 28, pixels)
        .expect("28x28 pixels")
        .save(&png)?;
    let predictor = Predictor::load(run_dir)?;
    let inputs = dlkit_data::load_inputs(&png, &predictor.raw_input_shape(), None)?;
    let predicted = predictor.predict_classes(&inputs.x, "digit.png")?[0];
    let truth = test.y.class_indices().expect("class labels")[0];
    Ok((accuracy, truth, predicted))
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (accuracy, truth, predicted) = train_and_predict(dir.path())?;
    println!("test accuracy after one epoch: {accuracy:.4}");
    println!("the digit {truth} was predicted as {predicted}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_epoch_learns_mnist_and_the_png_is_predicted() {
        let dir = tempfile::tempdir().unwrap();
        let (accuracy, truth, predicted) = super::train_and_predict(dir.path()).unwrap();
        assert!(accuracy > 0.95, "test accuracy {accuracy}");
        assert_eq!(predicted, truth);
    }
}

//! The experiment API on a generated dataset: in-process training, the same validation for
//! training and the gradient check, errors that name the config and field.

use std::path::{Path, PathBuf};

use dlkit_train::{Experiment, ExperimentOptions, Gradcheck, GradcheckOptions, LoadedConfig};

fn moons(epochs: usize) -> LoadedConfig {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cfg = LoadedConfig::from_file(&repo.join("examples/moons_gd.toml")).unwrap();
    cfg.config.train.epochs = epochs;
    cfg
}

#[test]
fn an_experiment_trains_in_process_and_reports_every_set() {
    let outcome = Experiment::new(moons(50), ExperimentOptions::default())
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(outcome.history.epochs.len(), 50);
    assert_eq!(outcome.results.sets.len(), 1);
    let train = outcome.set("train").unwrap();
    assert_eq!(train.examples, 300);
    assert!(train.accuracy() > 0.5, "{}", train.accuracy());
    assert_eq!(outcome.class_names, ["upper", "lower"]);
    assert_eq!(outcome.layers[0], "dense 5 -> [5]");
    let raw = outcome.splits.train.x.clone();
    assert_eq!(outcome.classify(&raw).unwrap(), train.eval.predictions);
}

#[test]
fn training_and_the_gradient_check_reject_the_same_configs() {
    let mut cfg = moons(1);
    cfg.config.train.l1 = Some(0.1);
    cfg.config.train.l2 = Some(0.1);
    let want = format!(
        "{}: [train]: give either l2 or l1, not both (one penalty per run)",
        cfg.name
    );
    let e = Experiment::new(cfg.clone(), ExperimentOptions::default()).err();
    let e = e.expect("rejected");
    assert!(e.is_bad_input());
    assert_eq!(e.to_string(), want);
    let e = Gradcheck::new(cfg, GradcheckOptions::default()).err();
    assert_eq!(e.expect("rejected").to_string(), want);
}

#[test]
fn a_missing_data_file_names_the_field() {
    let mut cfg = moons(1);
    cfg.config.data = toml::from_str("format = \"h5\"\ntrain = \"no/such/train.h5\"").unwrap();
    cfg.bases = vec![Path::new("/nowhere").to_path_buf()];
    let e = Experiment::new(cfg, ExperimentOptions::default())
        .err()
        .unwrap();
    assert!(e.is_bad_input());
    assert!(
        e.to_string().ends_with(
            ": [data] train.path: no/such/train.h5: file not found (looked under /nowhere)"
        ),
        "{e}"
    );
}

#[test]
fn a_gradient_check_of_the_moons_network_passes() {
    let check = Gradcheck::new(moons(1), GradcheckOptions::default()).unwrap();
    assert_eq!(check.parameters, 5 * 2 + 5 + 2 * 5 + 2 + 2 + 1);
    let report = check.run().unwrap();
    assert!(report.passes, "{}", report.relative_difference);
    report.check().unwrap();
}

/// A PyTorch-style state dict for the moons network (`l1`, `l2`, `out`): tensor `k` holds
/// `k + 1 + i/100`.
fn torch_moons_weights(dir: &Path, out_units: usize) -> PathBuf {
    use dlkit_core::Tensor;
    let shapes: [(&str, Vec<usize>); 6] = [
        ("l1.weight", vec![5, 2]),
        ("l1.bias", vec![5]),
        ("l2.weight", vec![2, 5]),
        ("l2.bias", vec![2]),
        ("out.weight", vec![out_units, 2]),
        ("out.bias", vec![out_units]),
    ];
    let tensors: Vec<(&str, Tensor)> = shapes
        .iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let n: usize = shape.iter().product();
            let values = (0..n).map(|i| (k + 1) as f32 + i as f32 / 100.0).collect();
            (*name, Tensor::from_vec::<f32>(values, shape))
        })
        .collect();
    let bytes = dlkit_nn::io::encode_tensors(tensors.iter().map(|(n, t)| (*n, t)), None).unwrap();
    let path = dir.join("moons.safetensors");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn with_torch_weights(cfg: &mut LoadedConfig, path: &Path) {
    cfg.config.model.weights = Some(
        toml::from_str(&format!(
            "path = {:?}\nformat = \"pytorch\"\npairs = {{ l1 = \"0\", l2 = \"2\", out = \"4\" }}",
            path.display().to_string()
        ))
        .unwrap(),
    );
}

#[test]
fn model_weights_from_pytorch_replace_the_initial_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = torch_moons_weights(dir.path(), 1);
    let mut cfg = moons(1);
    // Steps of 1e-30 leave weights of 1 and more unchanged in f32: the model ends with the
    // file's values.
    cfg.config.optimizer = toml::from_str("type = \"gradient_descent\"\nlr = 1e-30").unwrap();
    with_torch_weights(&mut cfg, &path);
    let outcome = Experiment::new(cfg, ExperimentOptions::default())
        .unwrap()
        .run()
        .unwrap();
    let params = dlkit_nn::Module::parameters(&outcome.model);
    assert_eq!(params[0].name, "0.weight");
    assert_eq!(
        params[0].tensor.to_vec::<f32>(),
        vec![1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08, 1.09]
    );
    assert_eq!(params[5].tensor.to_vec::<f32>(), vec![6.0]);
}

#[test]
fn model_weights_that_do_not_fit_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = torch_moons_weights(dir.path(), 3);
    let mut cfg = moons(1);
    with_torch_weights(&mut cfg, &path);
    let name = cfg.name.clone();
    let e = Experiment::new(cfg, ExperimentOptions::default())
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "{name}: [model] weights: {}: the PyTorch weights do not fit the model (2 \
             problems): tensor `out.weight` (dlkit `4.weight`): expected shape [1, 2] but the \
             file has [3, 2]; tensor `out.bias` (dlkit `4.bias`): expected shape [1] but the \
             file has [3]",
            path.display()
        )
    );
}

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

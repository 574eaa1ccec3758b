//! Transfer learning from configs: an Iris network trained, then a second run `from` its run
//! folder that keeps the base frozen and trains a new head, then a fine-tuning run that
//! trains everything; and the errors of `[model] from`, `keep` and `freeze`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dlkit_core::DType;
use dlkit_nn::io::read_info;
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::{BuildContext, Init, LayerSelection, LayerSpec, Module, Sequential};
use dlkit_train::run_writer::write_run;
use dlkit_train::{Experiment, ExperimentOptions, Gradcheck, GradcheckOptions, LoadedConfig};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const DATA: &str = r#"
[data]
format = "csv"
train = { path = "data/sklearn/iris.csv", header = "sklearn" }
split = { train = 0.8, dev = 0.0, test = 0.2 }
seed = 1

[preprocess]
standardize = "per_feature"
"#;

const BASE: &str = r#"
[model]
seed = 1
layers = [
    { type = "dense", units = 16 }, { type = "batch_norm" }, { type = "relu" },
    { type = "dense", units = 3 }, { type = "softmax" },
]

[train]
epochs = 60
batch_size = 32
seed = 2

[optimizer]
type = "adam"
lr = 0.01
"#;

/// A config of `[data]`, `[preprocess]` and `rest`, its relative paths under the repository.
fn config(rest: &str) -> LoadedConfig {
    config_with(DATA, rest)
}

fn config_with(data: &str, rest: &str) -> LoadedConfig {
    let text = format!("{data}\n{rest}");
    LoadedConfig {
        config: dlkit_train::config::parse(&text, "transfer.toml").unwrap(),
        name: "transfer.toml".to_string(),
        bases: vec![repo()],
    }
}

/// Trains `cfg` into run folder `dir` and returns its test accuracy and trained model.
fn train(cfg: LoadedConfig, dir: &Path) -> (f64, Sequential) {
    let _ = std::fs::remove_dir_all(dir);
    let options = ExperimentOptions {
        run_dir: Some(dir.to_path_buf()),
        ..ExperimentOptions::default()
    };
    let outcome = Experiment::new(cfg, options).unwrap().run().unwrap();
    write_run(&outcome, dir).unwrap();
    let accuracy = outcome.set("test").unwrap().accuracy();
    (accuracy, outcome.model)
}

/// Every parameter and buffer by name, as raw values.
fn tensors(model: &dyn Module) -> HashMap<String, Vec<f32>> {
    let params = model
        .parameters()
        .into_iter()
        .map(|p| (p.name, p.tensor.to_vec::<f32>()));
    let buffers = model
        .buffers()
        .into_iter()
        .map(|(name, t)| (name, t.to_vec::<f32>()));
    params.chain(buffers).collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dlkit-transfer-{name}-{}", std::process::id()))
}

#[test]
fn a_frozen_base_keeps_its_weights_a_new_head_learns_and_fine_tuning_moves_the_base() {
    let (dir1, dir2, dir3) = (temp("base"), temp("head"), temp("fine"));
    let (acc1, _) = train(config(BASE), &dir1);
    assert!(acc1 > 0.9, "base test accuracy {acc1}");
    let saved = tensors(&dlkit_nn::load(dir1.join("model")).unwrap().0);

    // Stage 2: keep dense_1, batch_norm_1 and relu_1 (frozen by default), a new head.
    let stage2 = format!(
        r#"
[model]
from = "{}"
keep = "..dense_2"
seed = 7
layers = [{{ type = "dense", units = 3 }}, {{ type = "softmax" }}]

[train]
epochs = 40
batch_size = 32
seed = 3

[optimizer]
type = "adam"
lr = 0.01
"#,
        dir1.display()
    );
    let exp = Experiment::new(config(&stage2), ExperimentOptions::default()).unwrap();
    let initial = tensors(exp.model());
    assert_eq!(exp.layers().len(), 5);
    let (acc2, model2) = train(config(&stage2), &dir2);
    assert!(acc2 > 0.9, "new head's test accuracy {acc2}");
    let after = tensors(&model2);
    for name in [
        "0.weight",
        "0.bias",
        "1.gamma",
        "1.beta",
        "1.running_mean",
        "1.running_var",
    ] {
        assert_eq!(bits(&initial[name]), bits(&saved[name]), "{name} loaded");
        assert_eq!(bits(&after[name]), bits(&saved[name]), "{name} frozen");
    }
    assert_ne!(bits(&after["3.weight"]), bits(&initial["3.weight"]));
    let info = read_info(dir2.join("model")).unwrap();
    let trainable: Vec<bool> = info.layers.iter().map(|l| l.trainable()).collect();
    assert_eq!(trainable, [false, false, true, true, true]);
    let json = std::fs::read_to_string(dir2.join("model/model.json")).unwrap();
    assert_eq!(json.matches("\"trainable\": false").count(), 2, "{json}");
    // The run's config.toml is the config as used, `from` resolved; it reads back.
    let used = LoadedConfig::from_file(&dir2.join("config.toml")).unwrap();
    assert_eq!(used.config.model.from.as_deref(), Some(dir1.as_path()));
    assert_eq!(
        used.config.model.keep,
        Some(LayerSelection::Text("..dense_2".into()))
    );
    // The saved preprocessing of stage 1 is reused, statistics and all.
    let meta = |dir: &Path| read_info(dir.join("model")).unwrap().metadata.normalization;
    assert_eq!(meta(&dir2), meta(&dir1));

    // Stage 3: fine-tuning from stage 2's run folder, everything trainable, a small rate.
    let stage3 = format!(
        r#"
[model]
from = "{}"
freeze = []

[train]
epochs = 10
batch_size = 32
seed = 4

[optimizer]
type = "adam"
lr = 0.001
"#,
        dir2.display()
    );
    let (acc3, model3) = train(config(&stage3), &dir3);
    assert!(acc3 > 0.9, "fine-tuned test accuracy {acc3}");
    let tuned = tensors(&model3);
    for name in ["0.weight", "1.gamma", "1.running_mean"] {
        assert_ne!(bits(&tuned[name]), bits(&saved[name]), "{name} fine-tuned");
    }
    let info = read_info(dir3.join("model")).unwrap();
    assert!(info.layers.iter().all(|l| l.trainable()));
    assert!(!std::fs::read_to_string(dir3.join("model/model.json"))
        .unwrap()
        .contains("trainable"));
    for dir in [dir1, dir2, dir3] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// The message of the error `Experiment::new` gives for `[model]` `model` (with `[train]`).
fn error_of(cfg: LoadedConfig) -> String {
    let e = Experiment::new(cfg, ExperimentOptions::default()).err();
    let e = e.expect("rejected");
    assert!(e.is_bad_input(), "{e}");
    e.to_string()
}

const TRAIN: &str = "[train]\nepochs = 1\n";

#[test]
fn transfer_errors_name_the_field() {
    let dir = temp("errors");
    let mut base = config(BASE);
    base.config.train.epochs = 1;
    train(base, &dir);
    let from = dir.display().to_string();
    let with = |model: &str| config(&format!("[model]\nfrom = \"{from}\"\n{model}\n{TRAIN}"));

    // The gradient check takes the same configs: the frozen base has no trainable parameters.
    let check = Gradcheck::new(with("freeze = \"..2\""), GradcheckOptions::default()).unwrap();
    assert_eq!(check.parameters, 16 * 3 + 3);
    assert!(check.run().unwrap().passes);

    let not_a_model = repo().join("data/sklearn").canonicalize().unwrap();
    let e = error_of(config(&format!(
        "[model]\nfrom = \"data/sklearn\"\n{TRAIN}"
    )));
    assert_eq!(
        e,
        format!(
            "transfer.toml: [model] from: {0} is not a saved model (give a run folder, a model \
             folder or a model.json): {0}/model.json: cannot read: No such file or directory (os \
             error 2)",
            not_a_model.display()
        )
    );
    assert_eq!(
        error_of(with("keep = \"..dense_3\"")),
        "transfer.toml: [model] keep: of the saved model: no layer named `dense_3` (the layers \
         are 0 dense_1, 1 batch_norm_1, 2 relu_1, 3 dense_2, 4 softmax_1)"
    );
    assert_eq!(
        error_of(with(
            "keep = 3\nfreeze = [5]\nlayers = [{ type = \"dense\", units = 3 }]"
        )),
        "transfer.toml: [model] freeze: of the new model (the kept layers, then [model] layers): \
         index 5 is out of range: the model has 4 layers (the layers are 0 dense_1, 1 \
         batch_norm_1, 2 relu_1, 3 dense_2)"
    );
    assert_eq!(
        error_of(with("layers = [{ type = \"max_pool2d\", window = 2 }]")),
        "transfer.toml: [model] layers: model: layer 5 (max_pool2d) does not fit after layer 4 \
         (softmax) with output shape [3]: max_pool2d needs an image input [height, width, \
         channels] but gets [3]; image layers go before flatten and dense layers (the data's \
         examples have shape [4]; layers 0 to 4 are kept from [model] from)"
    );
    assert_eq!(
        error_of(with("dtype = \"f64\"")),
        "transfer.toml: [model] dtype: is f64 but the saved model of [model] from is f32: set \
         dtype = \"f32\" (or leave [model] from out)"
    );
    let other = DATA.replace("per_feature", "per_channel");
    assert_eq!(
        error_of(config_with(
            &other,
            &format!("[model]\nfrom = \"{from}\"\n{TRAIN}")
        )),
        "transfer.toml: [preprocess]: differs from the preprocessing the saved model of [model] \
         from was trained with (standardize = \"per_feature\", flatten = false), whose fitted \
         statistics the run reuses: leave [preprocess] out or give the same fields"
    );
    let moons = "[data]\nformat = \"generated\"\n\
                 train = { generate = { type = \"moons\", n = 30, noise = 0.2, seed = 3 } }\n";
    assert_eq!(
        error_of(config_with(
            moons,
            &format!("[model]\nfrom = \"{from}\"\n{TRAIN}")
        )),
        "transfer.toml: [model] from: the saved model was trained on examples of shape [4] \
         (before [preprocess]), but the data's have shape [2]"
    );
    // A model folder saved without training metadata: its input shape is checked after the
    // run's own preprocessing.
    let plain = temp("plain");
    let layers = [LayerSpec::Dense(DenseSpec::new(3)), LayerSpec::Softmax];
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    let (model, _) = Sequential::build(&layers, &mut ctx, &[2]).unwrap();
    dlkit_nn::save(&model, &[2], &plain).unwrap();
    let e = error_of(config(&format!(
        "[model]\nfrom = \"{}\"\n{TRAIN}",
        plain.display()
    )));
    assert_eq!(
        e,
        "transfer.toml: [model] from: the saved model takes examples of shape [2], but the \
         data's have shape [4]"
    );
    std::fs::remove_dir_all(plain).unwrap();
    assert_eq!(
        error_of(config(&format!(
            "[model]\nkeep = 2\nlayers = [{{ type = \"relu\" }}]\n{TRAIN}"
        ))),
        "transfer.toml: [model] keep: needs [model] from, the saved model whose layers are kept"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

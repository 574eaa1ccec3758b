//! The course's results, reproduced: each row of `docs/results.md` trains its shipped config
//! (`examples/*.toml`) with `dlkit train`, the whole recipe as given, and asserts the figure
//! the course reports (within the margins) on the set the course reports it for.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The figures of one training run of `examples/<name>.toml`.
struct Run {
    results: Value,
    /// The `cost` column of `metrics.csv`, one per epoch.
    epoch_costs: Vec<f64>,
    /// The run folder (removed when the run is dropped).
    dir: tempfile::TempDir,
}

impl Run {
    fn accuracy(&self, set: &str) -> f64 {
        self.results["sets"][set]["accuracy"]
            .as_f64()
            .unwrap_or_else(|| panic!("no {set} accuracy in {}", self.results))
    }
}

/// Trains `examples/<name>.toml` into a fresh folder and reads its results.
fn train(name: &str) -> Run {
    train_from(name, None)
}

/// [`train`], with the config's `[model] from` replaced by the run folder `base` when given
/// (a transfer config starts from a run trained in the same test, not from `runs/`).
fn train_from(name: &str, base: Option<&Path>) -> Run {
    let mut config = repo().join("examples").join(format!("{name}.toml"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    if let Some(base) = base {
        let text = std::fs::read_to_string(&config).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("from = "))
            .unwrap_or_else(|| panic!("{name}: no `from = ` line"));
        let data = repo().join("data").display().to_string();
        let text = text
            .replace(line, &format!("from = {:?}", base.display().to_string()))
            .replace("\"data/", &format!("\"{data}/"));
        config = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&config, text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dlkit"))
        .arg("train")
        .arg(&config)
        .arg("--run-dir")
        .arg(&dir)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: dlkit train failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let epoch_costs = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    println!(
        "{name}: {}",
        serde_json::to_string(&results["sets"]).unwrap()
    );
    Run {
        results,
        epoch_costs,
        dir: tmp,
    }
}

/// Row 1: logistic regression on cat/non-cat; course: train 99%, test 70%.
#[test]
fn row1_cat_logistic_regression() {
    let r = train("cat_logreg");
    assert!(r.accuracy("train") >= 0.95, "train {}", r.accuracy("train"));
    assert!(r.accuracy("test") >= 0.68, "test {}", r.accuracy("test"));
}

/// Row 2: [12288, 7, 1] on cat/non-cat; course: test 72%.
#[test]
fn row2_cat_two_layer() {
    let r = train("cat_2layer");
    assert!(r.accuracy("test") >= 0.70, "test {}", r.accuracy("test"));
}

/// Row 3: [12288, 20, 7, 5, 1] on cat/non-cat; course: test 80%.
#[test]
fn row3_cat_four_layer() {
    let r = train("cat_4layer");
    assert!(r.accuracy("test") >= 0.76, "test {}", r.accuracy("test"));
}

/// Row 4: the planar flower; course: 4 tanh units 90%, logistic regression 47% (train).
#[test]
fn row4_flower_shallow_network_beats_logistic_regression() {
    let (logreg, net) = (train("flower_logreg"), train("flower_tanh"));
    let (l, n) = (logreg.accuracy("train"), net.accuracy("train"));
    assert!(n >= 0.88, "net {n}");
    assert!(n - l >= 0.30, "net {n} vs logistic regression {l}");
    for stem in ["decision_boundary_train.png", "decision_boundary_train.svg"] {
        assert!(
            net.dir.path().join("flower_tanh").join(stem).is_file(),
            "{stem} missing"
        );
    }
}

/// Row 5: circles with three initialisations; course test: zeros 50%, x10 86%, He 96%.
#[test]
fn row5_circles_initialisations() {
    let (zeros, random, he) = (
        train("circles_zeros"),
        train("circles_random"),
        train("circles_he"),
    );
    let (z, x10, h) = (
        zeros.accuracy("test"),
        random.accuracy("test"),
        he.accuracy("test"),
    );
    assert!(z <= 0.55, "zeros {z}");
    assert!(h >= 0.93, "he {h}");
    assert!(h > x10, "he {h} vs random x10 {x10}");
}

/// Row 6: football; course test: none 91.5%, L2 0.7 93%, dropout 0.86 95%.
#[test]
fn row6_football_regularisation() {
    let (none, l2, dropout) = (
        train("football_none"),
        train("football_l2"),
        train("football_dropout"),
    );
    let n = none.accuracy("test");
    for (name, r) in [("l2", &l2), ("dropout", &dropout)] {
        let t = r.accuracy("test");
        assert!(t >= 0.92, "{name} {t}");
        assert!(t > n, "{name} {t} vs no regularisation {n}");
    }
}

/// Row 7: moons with mini-batches; course train: GD ~80%, momentum ~80%, Adam 94%.
#[test]
fn row7_moons_optimisers() {
    let (gd, momentum, adam) = (
        train("moons_gd"),
        train("moons_momentum"),
        train("moons_adam"),
    );
    let a = adam.accuracy("train");
    assert!(a >= 0.92, "adam {a}");
    for (name, r) in [("gd", &gd), ("momentum", &momentum)] {
        assert!(
            a > r.accuracy("train"),
            "adam {a} vs {name} {}",
            r.accuracy("train")
        );
    }
}

/// Row 8: SIGNS softmax network; course: test 72%.
#[test]
fn row8_signs_softmax() {
    let r = train("signs_softmax");
    assert_eq!(r.results["sets"]["train"]["examples"], 1080);
    assert_eq!(r.results["sets"]["test"]["examples"], 120);
    assert!(r.accuracy("test") >= 0.70, "test {}", r.accuracy("test"));
}

/// Rows 9 and 10: MNIST 784-512-256-10 plain, with batch norm and with dropout: each test
/// >= 98%, and batch norm's cost after the first epoch below the plain network's.
#[test]
fn rows9_10_mnist() {
    let (mlp, bn, dropout) = (
        train("mnist_mlp"),
        train("mnist_batchnorm"),
        train("mnist_dropout"),
    );
    for (name, r) in [("mlp", &mlp), ("batchnorm", &bn), ("dropout", &dropout)] {
        assert!(
            r.accuracy("test") >= 0.98,
            "{name} test {}",
            r.accuracy("test")
        );
    }
    assert!(
        bn.epoch_costs[0] < mlp.epoch_costs[0],
        "epoch 1 cost: batch norm {} vs plain {}",
        bn.epoch_costs[0],
        mlp.epoch_costs[0]
    );
}

/// Row 11: the course's SIGNS ConvNet (CONV 4x4 8, MAXPOOL 8x8, CONV 2x2 16, MAXPOOL 4x4,
/// dense 6), Adam 0.009, 100 epochs; course: train 94.1%, test 78.3%.
#[test]
fn row11_signs_convnet() {
    let r = train("signs_convnet");
    assert_eq!(r.results["sets"]["train"]["examples"], 1080);
    assert_eq!(r.results["sets"]["test"]["examples"], 120);
    assert!(r.accuracy("test") >= 0.78, "test {}", r.accuracy("test"));
}

/// Row 13: an Inception network on SIGNS (a stem, three inception blocks with 1x1, 3x3, 5x5
/// and pool branches, global average pool, dense 6): test >= 90%.
#[test]
fn row13_signs_inception() {
    let r = train("signs_inception");
    assert!(r.accuracy("test") >= 0.90, "test {}", r.accuracy("test"));
}

/// Row 12: the course's ResNet-50 on SIGNS trained from scratch: test >= 90%.
#[test]
fn row12_signs_resnet50() {
    let r = train("signs_resnet50");
    assert_eq!(r.results["parameters"], 23_546_886);
    assert!(r.accuracy("test") >= 0.90, "test {}", r.accuracy("test"));
}

/// Rows 14 and 15: a CNN of convolutions, pooling, batch norm and dropout on MNIST (the row's
/// bar is 99.2%; one run of the config gave 99.24%, too close to hold on every CPU, so the
/// test asserts 99%), then transferred to scikit-learn's digits with one labelled digit of each class:
/// the frozen MNIST base with a new head, and the whole network fine-tuned, each at least 15
/// points above the same network trained from scratch on the same digits.
#[test]
fn rows14_15_mnist_cnn_and_transfer_to_digits() {
    let mnist = train("mnist_cnn");
    assert_eq!(mnist.results["sets"]["test"]["examples"], 10000);
    assert!(
        mnist.accuracy("test") >= 0.99,
        "MNIST test {}",
        mnist.accuracy("test")
    );
    let scratch = train("digits_scratch");
    let frozen = train_from("digits_transfer", Some(&mnist.dir.path().join("mnist_cnn")));
    let tuned = train_from(
        "digits_finetune",
        Some(&frozen.dir.path().join("digits_transfer")),
    );
    for r in [&scratch, &frozen, &tuned] {
        assert_eq!(r.results["sets"]["train"]["examples"], 10);
        assert_eq!(r.results["sets"]["test"]["examples"], 1787);
    }
    let base = scratch.accuracy("test");
    for (stage, r) in [("frozen base, new head", &frozen), ("fine-tuned", &tuned)] {
        assert!(
            r.accuracy("test") >= base + 0.15,
            "{stage}: test {} vs {base} from scratch",
            r.accuracy("test")
        );
    }
}

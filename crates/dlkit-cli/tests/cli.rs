//! The `dlkit` binary end to end, on the repository's data: a training run and its folder,
//! eval / predict / diagnose on it, gradient checks, bad configs (exit code 2, a message
//! naming the problem, never a panic), and a run killed mid-training and resumed, which must
//! end with the same weights as an uninterrupted run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn dlkit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dlkit"));
    c.env_remove("RUST_BACKTRACE");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn cat_file(name: &str) -> String {
    repo()
        .join("data/catvnoncat")
        .join(name)
        .display()
        .to_string()
}

/// The default config (`examples/cat_4layer.toml`) with `epochs` epochs and the data paths
/// made absolute.
fn default_config(epochs: usize) -> String {
    let text = std::fs::read_to_string(repo().join("examples/cat_4layer.toml")).unwrap();
    let text = text
        .replace(
            "data/catvnoncat/train_catvnoncat.h5",
            &cat_file("train_catvnoncat.h5"),
        )
        .replace(
            "data/catvnoncat/test_catvnoncat.h5",
            &cat_file("test_catvnoncat.h5"),
        );
    assert!(text.contains("epochs = 2500"), "the default config changed");
    text.replace("epochs = 2500", &format!("epochs = {epochs}"))
}

/// A small network on the cat images: mini-batches of 32 (7 iterations per epoch), dropout
/// (whose masks a resumed run must draw again), Adam, a checkpoint every epoch.
fn small_config(epochs: usize) -> String {
    format!(
        r#"
[data]
format = "h5"
train = {{ path = "{train}", x = "train_set_x", y = "train_set_y" }}
test = {{ path = "{test}", x = "test_set_x", y = "test_set_y" }}

[preprocess]
scale = 255.0
flatten = true

[model]
seed = 3
layers = [
    {{ type = "dense", units = 8 }}, {{ type = "relu" }}, {{ type = "dropout", keep_prob = 0.9 }},
    {{ type = "dense", units = 1 }}, {{ type = "sigmoid" }},
]

[train]
epochs = {epochs}
batch_size = 32
checkpoint_every = 1
record_every = 5
seed = 7

[optimizer]
type = "adam"
lr = 0.001
"#,
        train = cat_file("train_catvnoncat.h5"),
        test = cat_file("test_catvnoncat.h5"),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("dlkit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "dlkit panicked:\n{stderr}");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "dlkit failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must fail on bad input: exit code 2, one `error: ` message.
fn bad_input(cmd: &mut Command) -> String {
    let out = run(cmd);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit code 2, got {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn decode_png(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

/// Trains each `(what, config, wanted)` case: it must exit 2 with every `wanted` text and the
/// config's file name in stderr, and train nothing.
fn assert_bad_configs(dir: &Path, cases: Vec<(&str, String, Vec<&str>)>) {
    for (what, config, wanted) in cases {
        let path = write(dir, "bad.toml", &config);
        let stderr = bad_input(
            dlkit()
                .args(["train", "-q", "--run-dir"])
                .arg(dir.join("run"))
                .arg(&path),
        );
        assert!(
            stderr.contains("bad.toml"),
            "{what}: the file is not named: {stderr}"
        );
        for w in wanted {
            assert!(stderr.contains(w), "{what}: {w:?} not in: {stderr}");
        }
        assert!(
            !dir.join("run/model").exists(),
            "{what}: nothing is trained on a bad config"
        );
    }
}

#[test]
fn training_writes_the_whole_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write(tmp.path(), "cat.toml", &default_config(30));
    let run_dir = tmp.path().join("run");
    let stdout = ok(dlkit()
        .args(["train", "--run-dir"])
        .arg(&run_dir)
        .arg(&config));
    for line in [
        "Train accuracy: ",
        "Test accuracy: ",
        "Diagnosis:",
        "Cost after ",
        "Run folder: ",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    for f in [
        "config.toml",
        "metrics.csv",
        "iterations.csv",
        "cost.png",
        "cost.svg",
        "accuracy.png",
        "accuracy.svg",
        "confusion_matrix.png",
        "confusion_matrix.svg",
        "model/model.json",
        "model/model.safetensors",
        "report.md",
        "diagnosis.json",
        "results.json",
    ] {
        assert!(run_dir.join(f).is_file(), "{f} missing from the run folder");
    }
    for png in ["cost.png", "accuracy.png", "confusion_matrix.png"] {
        assert_eq!(decode_png(&run_dir.join(png)), (800, 600), "{png}");
    }
    for svg in ["cost.svg", "accuracy.svg", "confusion_matrix.svg"] {
        let s = std::fs::read_to_string(run_dir.join(svg)).unwrap();
        assert!(s.contains("<svg"), "{svg} is not SVG");
    }
    let metrics = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    assert_eq!(lines[0], "epoch,cost,lr,train_acc,dev_acc,dev_cost,seconds");
    assert_eq!(lines.len(), 31, "one line per epoch");
    assert!(lines[30].starts_with("30,"), "{}", lines[30]);
    let iterations = std::fs::read_to_string(run_dir.join("iterations.csv")).unwrap();
    assert!(iterations.starts_with("iteration,cost\n"));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    for part in [
        "## Results",
        "## Diagnosis",
        "## Optimizing and satisficing",
        "](cost.png)",
        "(confusion_matrix.svg)",
    ] {
        assert!(report.contains(part), "report.md lacks {part:?}");
    }
    let diagnosis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("diagnosis.json")).unwrap()).unwrap();
    assert!(diagnosis["errors"]["train"].is_number(), "{diagnosis}");
    // The config as used trains again as it is (absolute data paths).
    let used = std::fs::read_to_string(run_dir.join("config.toml")).unwrap();
    assert!(used.contains(&cat_file("train_catvnoncat.h5")), "{used}");
    let model = std::fs::read_to_string(run_dir.join("model/model.json")).unwrap();
    assert!(
        model.contains("\"non-cat\"") && model.contains("\"preprocessing\""),
        "{model}"
    );

    // The test accuracy printed by train is what eval finds with the saved model.
    let test_line = stdout
        .lines()
        .find(|l| l.starts_with("Test accuracy: "))
        .unwrap();
    let acc = test_line
        .trim_start_matches("Test accuracy: ")
        .split(' ')
        .next()
        .unwrap();
    let eval = ok(dlkit()
        .arg("eval")
        .arg(&run_dir)
        .arg(cat_file("test_catvnoncat.h5")));
    assert!(
        eval.contains(&format!("accuracy: {acc}")),
        "{eval}\nvs {test_line}"
    );
    for part in ["precision: ", "recall: ", "F1: ", "true \\ pred"] {
        assert!(eval.contains(part), "{eval}");
    }

    // Predictions: one line per example with a class and a probability.
    let predict = ok(dlkit()
        .arg("predict")
        .arg(run_dir.join("model"))
        .arg(cat_file("test_catvnoncat.h5")));
    let rows: Vec<&str> = predict
        .lines()
        .filter(|l| l.contains(" cat ") || l.contains(" non-cat "))
        .collect();
    assert_eq!(rows.len(), 50, "{predict}");

    // One image file, as a person would give it.
    let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
    let png = tmp.path().join("photo.png");
    img.save(&png).unwrap();
    let predict = ok(dlkit().arg("predict").arg(&run_dir).arg(&png));
    assert!(predict.contains("photo.png"), "{predict}");

    let again = ok(dlkit().arg("diagnose").arg(&run_dir));
    assert!(
        again.contains("variance") && again.contains("avoidable bias"),
        "{again}"
    );
}

#[test]
fn bad_configs_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let good = default_config(1);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "unknown field",
            good.replace("lr = 0.0075", "learning_rat = 0.0075"),
            vec![
                "unknown field `learning_rat` in [optimizer]",
                "expected one of",
                "line ",
            ],
        ),
        (
            "mistyped type",
            good.replace("epochs = 1", "epochs = \"many\""),
            vec!["[train] epochs", "invalid type", "line "],
        ),
        (
            "unknown layer field",
            good.replace("units = 7 }", "units = 7, unit = 3 }"),
            vec!["unknown field `unit` in [model] layers[2]"],
        ),
        (
            "missing data file",
            good.replace("train_catvnoncat.h5", "no_such_file.h5"),
            vec!["[data] train.path", "no_such_file.h5", "not found"],
        ),
        (
            "wrong dataset name",
            good.replace("x = \"train_set_x\"", "x = \"train_set_q\""),
            vec!["[data] train", "'train_set_q' not found", "train_set_x"],
        ),
        (
            "layer shape mismatch",
            good.replace("flatten = true", "flatten = false"),
            vec![
                "[model] layers",
                "layer 0 (dense)",
                "[64, 64, 3]",
                "flatten",
            ],
        ),
        (
            "output does not fit the loss",
            good.replace(
                "{ type = \"dense\", units = 1 }, { type = \"sigmoid\" }",
                "{ type = \"dense\", units = 3 }, { type = \"softmax\" }",
            ),
            vec!["[train] loss", "binary_cross_entropy", "[3]"],
        ),
        (
            "bad hyperparameter",
            good.replace("lr = 0.0075", "lr = -1.0"),
            vec!["[optimizer]", "`lr` must be > 0"],
        ),
        ("not TOML", "this is [not toml".to_string(), vec!["line 1"]),
    ];
    assert_bad_configs(tmp.path(), cases);
    let stderr = bad_input(dlkit().args(["train", "/no/such/config.toml"]));
    assert!(
        stderr.contains("/no/such/config.toml: file not found"),
        "{stderr}"
    );
    let stderr = bad_input(dlkit().args(["eval", "/no/such/run", "x.h5"]));
    assert!(stderr.contains("/no/such/run"), "{stderr}");
    let stderr = bad_input(dlkit().args(["diagnose"]).arg(tmp.path()));
    assert!(stderr.contains("diagnosis.json"), "{stderr}");
    let stderr = bad_input(dlkit().args(["bench", "W99"]));
    assert!(stderr.contains("unknown workload"), "{stderr}");
    // clap's own usage errors also exit with 2.
    let out = run(dlkit().args(["train", "--resume"]));
    assert_eq!(out.status.code(), Some(2));
}

/// Generated data, lists of training sources and per-source formats: mistakes name the
/// field and what was expected.
#[test]
fn bad_sources_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let good = r#"
[data]
format = "generated"
train = { generate = { type = "circles", n = 40, noise = 0.05, seed = 1 } }

[model]
layers = [{ type = "dense", units = 3 }, { type = "relu" }, { type = "dense", units = 1 }, { type = "sigmoid" }]

[train]
epochs = 1
"#;
    let circles = r#"{ generate = { type = "circles", n = 40, noise = 0.05, seed = 1 } }"#;
    let cat = format!(
        r#"{{ path = "{}", format = "h5", x = "train_set_x", y = "train_set_y" }}"#,
        cat_file("train_catvnoncat.h5")
    );
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "a file for a generated source",
            good.replace(circles, "\"data.csv\""),
            vec!["[data] train", "needs `generate", "flower, circles, moons"],
        ),
        (
            "an unknown generator",
            good.replace("\"circles\"", "\"spiral\""),
            vec!["[data] train", "spiral", "circles"],
        ),
        (
            "a negative noise",
            good.replace("noise = 0.05", "noise = -1.0"),
            vec!["[data] train", "'noise' is -1"],
        ),
        (
            "generate without format generated",
            good.replace("format = \"generated\"", "format = \"h5\""),
            vec!["[data] train", "no `path`", "format = \"generated\""],
        ),
        (
            "sources of different shapes",
            good.replace(circles, &format!("[{circles}, {cat}]")),
            vec!["[data] train[1]", "[64, 64, 3]", "[2]"],
        ),
        (
            "an empty list",
            good.replace(circles, "[]"),
            vec!["[data] train", "an empty list of sources"],
        ),
    ];
    assert_bad_configs(tmp.path(), cases);
    // The good config trains, with the decision boundary of its 2-D inputs.
    let path = write(tmp.path(), "good.toml", good);
    let run_dir = tmp.path().join("good");
    ok(dlkit()
        .args(["train", "-q", "--seed", "7", "--run-dir"])
        .arg(&run_dir)
        .arg(&path));
    assert_eq!(
        decode_png(&run_dir.join("decision_boundary_train.png")),
        (700, 600)
    );
    let used = std::fs::read_to_string(run_dir.join("config.toml")).unwrap();
    assert!(used.contains("seed = 7"), "{used}");
    let out = run(dlkit()
        .args(["train", "--seed", "1", "--resume", "--run-dir"])
        .arg(&run_dir));
    assert_eq!(out.status.code(), Some(2), "--seed with --resume");
}

#[test]
fn a_killed_run_resumes_to_the_same_weights() {
    const EPOCHS: usize = 40;
    let tmp = tempfile::tempdir().unwrap();
    let config = write(tmp.path(), "small.toml", &small_config(EPOCHS));

    // The uninterrupted run.
    let whole = tmp.path().join("whole");
    ok(dlkit()
        .args(["train", "-q", "--run-dir"])
        .arg(&whole)
        .arg(&config));

    // The same run, killed once a checkpoint of a few epochs exists.
    let killed = tmp.path().join("killed");
    let mut child = dlkit()
        .args(["train", "-q", "--run-dir"])
        .arg(&killed)
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state = killed.join("checkpoint/state.json");
    let started = Instant::now();
    let epochs_done = |p: &Path| -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
        v["epochs_done"].as_u64()
    };
    loop {
        if epochs_done(&state).is_some_and(|e| e >= 3) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was killed");
    assert!(
        !killed.join("model").exists(),
        "killed before the end: no final model yet"
    );
    let at_kill = dlkit_train::checkpoint::find(&killed)
        .and_then(|c| epochs_done(&c.join("state.json")))
        .expect("a complete checkpoint survives the kill");
    assert!(
        at_kill >= 3 && at_kill < EPOCHS as u64,
        "killed after {at_kill} epochs"
    );

    // Resumed with the run folder's own config.
    let stdout = ok(dlkit()
        .args(["train", "--resume", "--run-dir"])
        .arg(&killed));
    assert!(
        stdout.contains("resuming from the checkpoint after epoch"),
        "{stdout}"
    );

    let a = std::fs::read(whole.join("model/model.safetensors")).unwrap();
    let b = std::fs::read(killed.join("model/model.safetensors")).unwrap();
    assert!(
        a == b,
        "the resumed run's weights differ from the uninterrupted run's"
    );
    // And every epoch's cost is the same (the seconds column aside).
    let costs = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("metrics.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(costs(&whole), costs(&killed));
    assert_eq!(costs(&whole).len(), EPOCHS + 1);
}

#[test]
fn gradient_checks_pass_for_small_and_large_models() {
    // Iris with a split, standardisation and L2: every parameter is checked.
    let tmp = tempfile::tempdir().unwrap();
    let iris = repo().join("data/sklearn/iris.csv");
    let config = write(
        tmp.path(),
        "iris.toml",
        &format!(
            r#"
[data]
format = "csv"
train = {{ path = "{}", header = "sklearn" }}
split = {{ train = 0.6, dev = 0.2, test = 0.2, stratify = true }}
seed = 3

[preprocess]
standardize = "per_feature"

[model]
layers = [ {{ type = "dense", units = 8 }}, {{ type = "tanh" }}, {{ type = "dense", units = 3 }}, {{ type = "softmax" }} ]

[train]
epochs = 60
batch_size = 16
l2 = 0.01

[optimizer]
type = "adam"
lr = 0.01

[metrics]
human_level_error = 0.02
satisficing = [{{ metric = "recall", min = 0.5 }}]
"#,
            iris.display()
        ),
    );
    let out = ok(dlkit().arg("gradcheck").arg(&config));
    assert!(out.contains("checking all 67 parameters"), "{out}");
    assert!(out.contains(": PASS"), "{out}");

    // The same config trains with a dev set, a test set and a satisficing check.
    let run_dir = tmp.path().join("iris-run");
    let out = ok(dlkit()
        .args(["train", "-q", "--run-dir"])
        .arg(&run_dir)
        .arg(&config));
    assert!(
        out.contains("Dev accuracy: ") && out.contains("Test accuracy: "),
        "{out}"
    );
    assert!(out.contains("recall >= 0.5: met"), "{out}");
    assert!(
        out.contains("human-level (Bayes proxy)      2.00%"),
        "{out}"
    );

    // The cat network has 245,973 parameters: a random subset is checked.
    let cat = write(tmp.path(), "cat.toml", &default_config(1));
    let out = ok(dlkit().args(["gradcheck", "--examples", "4"]).arg(&cat));
    assert!(
        out.contains("checking a random subset of 2000 parameters"),
        "{out}"
    );
    assert!(out.contains(": PASS"), "{out}");
}

#[test]
fn a_diverging_run_is_a_runtime_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let config = small_config(3)
        .replace("type = \"adam\"", "type = \"gradient_descent\"")
        .replace("lr = 0.001", "lr = 1e30");
    let config = write(tmp.path(), "diverge.toml", &config);
    let out = run(dlkit()
        .args(["train", "-q", "--run-dir"])
        .arg(tmp.path().join("run"))
        .arg(&config));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the cost became") && stderr.contains("learning rate"),
        "{stderr}"
    );
}

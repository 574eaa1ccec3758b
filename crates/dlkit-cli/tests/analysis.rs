//! `dlkit summary` and `dlkit errors` end to end on a small convnet trained on the cat images:
//! the summary of the config and of the run folder agree and count the model's parameters;
//! errors.png is a grid of distinct, non-blank tiles; the printed confusions are the run's
//! confusion matrix; bad paths exit 2 with a message naming them.

mod common;

use common::{bad_input, dlkit, ok, repo};

/// A convnet with batch norm on the cat images, 2 epochs of mini-batches.
fn config() -> String {
    let cat = |f: &str| repo().join("data/catvnoncat").join(f).display().to_string();
    format!(
        r#"
[data]
format = "h5"
train = {{ path = "{}", x = "train_set_x", y = "train_set_y" }}
test = {{ path = "{}", x = "test_set_x", y = "test_set_y" }}

[preprocess]
scale = 255.0

[model]
seed = 3
layers = [
    {{ type = "conv2d", filters = 4, kernel = 3, stride = 2 }}, {{ type = "batch_norm" }},
    {{ type = "relu" }}, {{ type = "max_pool2d", window = 2 }}, {{ type = "flatten" }},
    {{ type = "dense", units = 1 }}, {{ type = "sigmoid" }},
]

[train]
epochs = 2
batch_size = 32

[optimizer]
type = "adam"
lr = 0.01
"#,
        cat("train_catvnoncat.h5"),
        cat("test_catvnoncat.h5")
    )
}

/// The summary's table rows (shape and parameters of each layer) and its totals.
fn table(summary: &str) -> Vec<String> {
    summary
        .lines()
        .skip_while(|l| !l.starts_with("input:"))
        .take_while(|l| !l.starts_with("FLOPs:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn summary_and_errors_on_a_trained_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("conv.toml");
    std::fs::write(&cfg, config()).unwrap();
    let run_dir = tmp.path().join("run");
    ok(dlkit()
        .args(["train", "-q", "--run-dir"])
        .arg(&run_dir)
        .arg(&cfg));

    // The summary of the config and of the run: the same table, the model's parameters.
    let from_config = ok(dlkit().arg("summary").arg(&cfg));
    let from_run = ok(dlkit().arg("summary").arg(&run_dir));
    assert_eq!(
        table(&from_config),
        table(&from_run),
        "{from_config}\n{from_run}"
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("results.json")).unwrap()).unwrap();
    let params = results["parameters"].as_u64().unwrap();
    assert_eq!(params, 3 * 3 * 3 * 4 + 4 + 8 + 15 * 15 * 4 + 1);
    assert!(
        from_run.contains(&format!("total parameters: {params}\n")),
        "{from_run}"
    );
    assert!(
        from_run.contains("trainable parameters: 1021\n"),
        "{from_run}"
    );
    assert!(from_run.contains("buffers (not parameters"), "{from_run}");
    assert!(from_run.contains("[31, 31, 4]") && from_run.contains("2 per multiply-add"));
    let conv_flops = 2 * 3 * 3 * 3 * 4 * 31 * 31 + 4 * 31 * 31;
    assert!(from_run.contains(&format!(" {conv_flops}\n")), "{from_run}");

    // Errors: the test set (no dev set), 6 tiles in a 4 x 2 grid.
    let out = ok(dlkit().arg("errors").arg(&run_dir).args(["--n", "6"]));
    assert!(out.contains("test set: "), "{out}");
    let png = run_dir.join("errors.png");
    let img = image::open(&png).unwrap().to_rgb8();
    let tiles = out.lines().filter(|l| l.starts_with("  example ")).count();
    assert!(tiles > 1 && tiles <= 6, "{out}");
    let (cols, rows) = (tiles.min(4) as u32, tiles.div_ceil(4) as u32);
    let (tw, th) = (img.width() / cols, img.height() / rows);
    assert_eq!(
        (img.width(), img.height()),
        (cols * 300, rows * (192 + 32 + 8))
    );
    assert!(
        out.contains(&format!("{tiles} tiles, {cols} x {rows}")),
        "{out}"
    );
    let tile = |t: u32| {
        let (x0, y0) = ((t % cols) * tw, (t / cols) * th);
        let mut px = Vec::new();
        for y in y0 + 4..y0 + 4 + 192 {
            for x in x0 + 54..x0 + 54 + 192 {
                px.extend(img.get_pixel(x, y).0);
            }
        }
        px
    };
    let drawn: Vec<Vec<u8>> = (0..tiles as u32).map(tile).collect();
    for (i, t) in drawn.iter().enumerate() {
        assert!(t.iter().any(|&v| v < 250), "tile {i} is blank");
        for u in &drawn[..i] {
            assert_ne!(t, u, "two tiles are the same image");
        }
    }
    // Captions as "true X, predicted Y (p = 0.97)" with the class names.
    assert!(out.contains("predicted cat (p = ") || out.contains("predicted non-cat (p = "));

    // The confusions printed are the off-diagonal cells of the run's test confusion matrix.
    assert_eq!(results["report_set"], "test");
    let counts = &results["confusion_matrix"]["counts"];
    let names = ["non-cat", "cat"];
    for (t, p) in [(0, 1), (1, 0)] {
        let n = counts[t][p].as_u64().unwrap();
        let line = format!("  {} -> {}: {n}\n", names[t], names[p]);
        assert_eq!(out.contains(&line), n > 0, "{line:?} in:\n{out}");
    }

    // The report keeps its sections and links the figure, once, also after a second run.
    ok(dlkit().arg("errors").arg(&run_dir).args(["--n", "4"]));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert_eq!(report.matches("## Error analysis").count(), 1);
    assert!(report.contains("![Errors](errors.png)"));
    assert!(report.contains("## Results") && report.contains("## Figures"));
    assert_eq!(image::open(&png).unwrap().width(), 4 * 300);

    // There is no dev set to ask for.
    let stderr = bad_input(dlkit().arg("errors").arg(&run_dir).args(["--set", "dev"]));
    assert_eq!(
        stderr,
        format!(
            "error: {}: the run's data have no dev set (see [data] in its config.toml)\n",
            run_dir.display()
        )
    );
}

#[test]
fn bad_paths_name_what_was_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stderr = bad_input(dlkit().arg("errors").arg(dir));
    assert_eq!(
        stderr,
        format!(
            "error: {}: not a run folder: {} not found (`dlkit train` writes config.toml and \
             model/ there)\n",
            dir.display(),
            dir.join("config.toml").display()
        )
    );
    let csv = dir.join("data.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let stderr = bad_input(dlkit().arg("summary").arg(&csv));
    assert_eq!(
        stderr,
        format!(
            "error: {}: not a config or a saved model: give a TOML config (.toml), a run \
             folder, a model folder or a model.json\n",
            csv.display()
        )
    );
    let stderr = bad_input(dlkit().arg("summary").arg(dir));
    assert_eq!(
        stderr,
        format!(
            "error: {}: a folder with no model/model.json or model.json in it: give a TOML \
             config (.toml), a run folder, a model folder or a model.json\n",
            dir.display()
        )
    );
}

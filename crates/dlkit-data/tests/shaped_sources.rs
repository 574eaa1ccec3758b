//! Flat sources read as images (`shape`), resampled (`resize`), padded (`pad`) and split a few examples per
//! class (`train_per_class`), through a config's `[data]` table: scikit-learn's digits as
//! 28x28 images with 10 labelled examples of each class, as for transfer from MNIST.

use std::path::{Path, PathBuf};

use dlkit_core::Tensor;
use dlkit_data::{
    load_csv_with, pad_images, resize_bilinear, CsvOptions, DataConfig, Preprocessing, Splits,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Config {
    data: DataConfig,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `[data]` table of `toml`, paths resolved from the repository's root, loaded.
fn load(toml: &str) -> dlkit_data::Result<Splits> {
    let mut cfg: Config = toml::from_str(toml).unwrap();
    cfg.data.resolve_paths("digits.toml", &[root()])?;
    cfg.data.load("digits.toml")
}

fn digits(extra: &str) -> String {
    format!(
        "[data]\nformat = \"csv\"\ntrain = {{ path = \"data/sklearn/digits.csv.gz\", header = \
         false, shape = [8, 8, 1], resize = [28, 28] }}\n{extra}"
    )
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-shaped");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn digits_as_28x28_images_with_ten_of_each_class_to_train_on() {
    let split = "split = { train_per_class = 10, test = 1.0 }\nseed = 7\n";
    let s = load(&digits(split)).unwrap();
    assert_eq!(s.train.x.shape(), &[100, 28, 28, 1]);
    assert_eq!(s.train.class_counts(), Some(vec![10; 10]));
    let test = s.test.as_ref().unwrap();
    assert_eq!(test.x.shape(), &[1697, 28, 28, 1]);
    assert_eq!(
        test.class_counts(),
        Some(vec![168, 172, 167, 173, 171, 172, 171, 169, 164, 170])
    );
    assert!(s.dev.is_none() && s.train_dev.is_none());
    assert_eq!(
        s.class_names(),
        (0..10).map(|k| k.to_string()).collect::<Vec<_>>()
    );
    for set in [&s.train, test] {
        let v = set.x.to_vec::<f32>();
        assert!(v.iter().all(|p| (0.0..=16.0).contains(p)));
        assert!(v.iter().any(|&p| p > 15.0));
    }

    // The same seed gives the same sets; another seed other training examples.
    let again = load(&digits(split)).unwrap();
    assert_eq!(again.train.x.to_vec::<f32>(), s.train.x.to_vec::<f32>());
    assert_eq!(again.train.y.class_indices(), s.train.y.class_indices());
    assert_eq!(
        again.test.as_ref().unwrap().x.to_vec::<f32>(),
        test.x.to_vec::<f32>()
    );
    let other = load(&digits(&split.replace("seed = 7", "seed = 8"))).unwrap();
    assert_ne!(other.train.x.to_vec::<f32>(), s.train.x.to_vec::<f32>());

    // `[preprocess] scale = 16.0` maps the pixels to 0..1.
    let pre: Preprocessing = toml::from_str("scale = 16.0").unwrap();
    let x = pre.fit(&s.train.x).unwrap().apply(&s.train.x).unwrap();
    assert!(x.to_vec::<f32>().iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn each_example_is_its_row_as_an_8x8_image_resized() {
    let all = load(&digits("")).unwrap();
    assert_eq!(all.train.x.shape(), &[1797, 28, 28, 1]);
    let opts = CsvOptions {
        header: false,
        ..CsvOptions::default()
    };
    let table = load_csv_with(root().join("data/sklearn/digits.csv.gz"), &opts).unwrap();
    let rows = table.x.reshape(&[1797, 8, 8, 1]);
    let want = resize_bilinear(&rows, [28, 28]).unwrap();
    assert_eq!(all.train.x.to_vec::<f32>(), want.to_vec::<f32>());
    // Without `resize` the examples are the rows as 8x8 images (row 0 starts 0, 0, 5, 13).
    let no_resize = load(&digits("").replace(", resize = [28, 28]", "")).unwrap();
    assert_eq!(no_resize.train.x.shape(), &[1797, 8, 8, 1]);
    assert_eq!(
        no_resize.train.x.to_vec::<f32>()[..8],
        [0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]
    );
}

#[test]
fn digits_framed_as_mnist_frames_its_digits() {
    // 20x20 digits with 4 zero pixels on each side: 28x28 images, MNIST's framing.
    let framed =
        load(&digits("").replace("resize = [28, 28]", "resize = [20, 20], pad = 4")).unwrap();
    assert_eq!(framed.train.x.shape(), &[1797, 28, 28, 1]);
    let rows = load(&digits("").replace(", resize = [28, 28]", ""))
        .unwrap()
        .train
        .x;
    let want = pad_images(&resize_bilinear(&rows, [20, 20]).unwrap(), 4).unwrap();
    assert_eq!(framed.train.x.to_vec::<f32>(), want.to_vec::<f32>());
    let first = &framed.train.x.to_vec::<f32>()[..28 * 28];
    assert!(first[..4 * 28].iter().all(|&p| p == 0.0));
    assert!(first.iter().any(|&p| p > 10.0));

    let e = load(&digits("").replace("shape = [8, 8, 1], resize = [28, 28]", "pad = 2"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("digits.toml: [data] train.pad: ")
            && e.contains("digits.csv.gz")
            && e.contains(
                "`pad` needs examples of shape [height, width, channels], but they \
                           have shape [64]"
            ),
        "{e}"
    );
}

#[test]
fn a_shape_that_does_not_hold_the_features_names_the_file_and_field() {
    let e = load(&digits("").replace("[8, 8, 1]", "[8, 8, 3]"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("digits.toml: [data] train.shape: ")
            && e.contains("digits.csv.gz")
            && e.contains("`shape = [8, 8, 3]` holds 192 values per example")
            && e.contains("have 64 (shape [64])"),
        "{e}"
    );
    let e = load(&digits("").replace("shape = [8, 8, 1], ", ""))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("digits.toml: [data] train.resize: ")
            && e.contains("digits.csv.gz")
            && e.contains("they have shape [64]")
            && e.contains("give `shape = [h, w, c]`"),
        "{e}"
    );
    let e = load(&digits("").replace("[28, 28]", "[0, 28]"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[data] train.resize") && e.contains("to 0x28"),
        "{e}"
    );
}

#[test]
fn shape_on_a_small_table_and_formats_it_does_not_apply_to() {
    // Two examples of a 2x3 image with 2 channels, then the label.
    let mut text = String::from("a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,label\n");
    for row in 0..2 {
        let values: Vec<String> = (0..12).map(|i| (row * 12 + i).to_string()).collect();
        text.push_str(&format!("{},{row}\n", values.join(",")));
    }
    let csv = scratch("images.csv", &text);
    let toml = format!(
        "[data]\nformat = \"csv\"\ntrain = {{ path = {:?}, shape = [2, 3, 2] }}\n",
        csv.display().to_string()
    );
    let s = load(&toml).unwrap();
    assert_eq!(s.train.x.shape(), &[2, 2, 3, 2]);
    let want: Vec<f32> = (0..24).map(|v| v as f32).collect();
    assert_eq!(s.train.x.to_vec::<f32>(), want);
    let x = Tensor::from_vec(want, &[2, 2, 3, 2]);
    let s = load(&toml.replace("[2, 3, 2] }", "[2, 3, 2], resize = [3, 5] }")).unwrap();
    assert_eq!(
        s.train.x.to_vec::<f32>(),
        resize_bilinear(&x, [3, 5]).unwrap().to_vec::<f32>()
    );

    let toml = "[data]\nformat = \"idx\"\ntrain = { path = \
                \"data/mnist/t10k-images-idx3-ubyte.gz\", shape = [28, 28, 1] }\n";
    let e = load(toml).unwrap_err().to_string();
    assert!(
        e.contains(
            "`shape` does not apply to format \"idx\", which takes `path`, `labels`, \
                    `resize`"
        ),
        "{e}"
    );
}

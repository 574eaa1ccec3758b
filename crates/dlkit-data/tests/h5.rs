//! The HDF5 reader on the shipped course files (reference values from h5py) and on broken
//! or unexpected files, whose errors must name the file and the problem.

use std::path::{Path, PathBuf};

use dlkit_data::{
    list_h5_datasets, load_course_h5, read_h5_dataset, ArrayValues, Error, LabeledImages,
};
use hdf5_pure::FileBuilder;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

const TRAIN: &str = "catvnoncat/train_catvnoncat.h5";
const TEST: &str = "catvnoncat/test_catvnoncat.h5";
const SIGNS: &str = "signs/test_signs.h5";

/// A scratch file path under Cargo's per-target temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-h5");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Pixel (n, h, w, :) of an NHWC set, as integers.
fn pixel(set: &LabeledImages, n: usize, h: usize, w: usize) -> [u32; 3] {
    let s = set.x.shape();
    let v = set.x.to_vec::<f32>();
    let i = ((n * s[1] + h) * s[2] + w) * s[3];
    [v[i] as u32, v[i + 1] as u32, v[i + 2] as u32]
}

fn pixel_sum(set: &LabeledImages) -> f64 {
    set.x.to_vec::<f32>().iter().map(|&v| v as f64).sum()
}

#[test]
fn catvnoncat_train_matches_h5py() {
    let set = load_course_h5(data(TRAIN), "train_set_x", "train_set_y").unwrap();
    assert_eq!(set.x.shape(), &[209, 64, 64, 3]);
    assert_eq!(set.len(), 209);
    assert_eq!(set.classes, ["non-cat", "cat"]);
    assert_eq!(set.class_counts(), [137, 72]);
    // h5py: train_set_y[:12], train_set_x[0,0,0], [1,10,20], [-1,63,63], sum of all pixels
    assert_eq!(set.y[..12], [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!(pixel(&set, 0, 0, 0), [17, 31, 56]);
    assert_eq!(pixel(&set, 1, 10, 20), [54, 70, 82]);
    assert_eq!(pixel(&set, 208, 63, 63), [0, 0, 0]);
    assert_eq!(pixel_sum(&set), 264_542_077.0);
}

#[test]
fn catvnoncat_test_matches_h5py() {
    let set = load_course_h5(data(TEST), "test_set_x", "test_set_y").unwrap();
    assert_eq!(set.x.shape(), &[50, 64, 64, 3]);
    assert_eq!(set.classes, ["non-cat", "cat"]);
    assert_eq!(set.class_counts(), [17, 33]);
    assert_eq!(set.y[..12], [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
    assert_eq!(pixel(&set, 0, 0, 0), [158, 104, 83]);
    assert_eq!(pixel(&set, 1, 10, 20), [62, 51, 43]);
    assert_eq!(pixel(&set, 49, 63, 63), [5, 22, 5]);
    assert_eq!(pixel_sum(&set), 65_969_547.0);
}

#[test]
fn signs_test_has_20_per_class_and_integer_classes() {
    let set = load_course_h5(data(SIGNS), "test_set_x", "test_set_y").unwrap();
    assert_eq!(set.x.shape(), &[120, 64, 64, 3]);
    assert_eq!(set.classes, ["0", "1", "2", "3", "4", "5"]);
    assert_eq!(set.class_counts(), [20; 6]);
    assert_eq!(set.y[..12], [0, 0, 0, 5, 1, 0, 3, 1, 5, 1, 5, 1]);
    assert_eq!(pixel(&set, 0, 0, 0), [231, 224, 216]);
    assert_eq!(pixel(&set, 1, 10, 20), [225, 221, 214]);
    assert_eq!(pixel(&set, 119, 63, 63), [204, 191, 175]);
    assert_eq!(pixel_sum(&set), 268_289_681.0);
}

#[test]
fn raw_reads_keep_the_stored_types() {
    let x = read_h5_dataset(data(TRAIN), "train_set_x").unwrap();
    assert_eq!(x.shape, [209, 64, 64, 3]);
    assert_eq!(x.name, "train_set_x");
    match &x.values {
        ArrayValues::U8(v) => assert_eq!(v[..6], [17, 31, 56, 22, 33, 59]),
        other => panic!("expected u8, got {}", other.dtype_name()),
    }
    assert_eq!(x.to_tensor().unwrap().shape(), &[209, 64, 64, 3]);

    let y = read_h5_dataset(data(TRAIN), "train_set_y").unwrap();
    assert_eq!(y.shape, [209]);
    assert_eq!(y.values.dtype_name(), "i64");
    assert_eq!(y.to_labels().unwrap().iter().sum::<usize>(), 72);

    let c = read_h5_dataset(data(TRAIN), "/list_classes").unwrap();
    assert_eq!(c.shape, [2]);
    assert_eq!(
        c.values,
        ArrayValues::Str(vec!["non-cat".into(), "cat".into()])
    );

    let c = read_h5_dataset(data(SIGNS), "list_classes").unwrap();
    assert_eq!(c.values, ArrayValues::I64(vec![0, 1, 2, 3, 4, 5]));

    assert_eq!(
        list_h5_datasets(data(TEST)).unwrap(),
        ["list_classes", "test_set_x", "test_set_y"]
    );
}

// ---- broken files -------------------------------------------------------------------------

#[test]
fn missing_file_is_named() {
    let p = data("catvnoncat/no_such_file.h5");
    let e = load_course_h5(&p, "train_set_x", "train_set_y").unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert_eq!(e.to_string(), format!("{}: file not found", p.display()));
}

#[test]
fn non_hdf5_file_is_named() {
    let p = scratch("not_hdf5.h5");
    std::fs::write(&p, "x,y\n1,2\n3,4\n").unwrap();
    let e = read_h5_dataset(&p, "train_set_x").unwrap_err();
    assert!(matches!(e, Error::WrongFormat { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: not an HDF5 file", p.display())),
        "{msg}"
    );

    let p = scratch("empty.h5");
    std::fs::write(&p, b"").unwrap();
    let msg = read_h5_dataset(&p, "train_set_x").unwrap_err().to_string();
    assert!(msg.contains("not an HDF5 file: the file is empty"), "{msg}");
}

#[test]
fn truncated_copy_is_reported_as_truncated() {
    let bytes = std::fs::read(data(TEST)).unwrap();
    assert_eq!(bytes.len(), 616_958);

    // Cut inside the images: the header is intact, the data is not all there.
    let p = scratch("truncated_half.h5");
    std::fs::write(&p, &bytes[..300_000]).unwrap();
    let e = load_course_h5(&p, "test_set_x", "test_set_y").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Truncated {
                expected: Some(616_958),
                actual: 300_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file is truncated: its header says it is 616958 bytes long but it has \
             300000 bytes; download or copy it again",
            p.display()
        )
    );

    // One byte short: the last bytes are the class names.
    let p = scratch("truncated_by_one.h5");
    std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
    let e = read_h5_dataset(&p, "list_classes").unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e:?}");

    // Cut inside the superblock itself.
    let p = scratch("truncated_header.h5");
    std::fs::write(&p, &bytes[..50]).unwrap();
    let e = read_h5_dataset(&p, "test_set_x").unwrap_err();
    assert!(
        matches!(e, Error::Truncated { expected: None, .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("truncated: it ends after 50 bytes, inside the HDF5 header"),
        "{msg}"
    );

    // Every cut point is an error, never a panic or a silent success.
    for cut in (0..bytes.len()).step_by(4099).chain([2100, 2144, 616_944]) {
        let p = scratch("truncated_sweep.h5");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        assert!(
            load_course_h5(&p, "test_set_x", "test_set_y").is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn missing_dataset_lists_what_the_file_has() {
    let p = data(TRAIN);
    let e = load_course_h5(&p, "train_set_x", "test_set_y").unwrap_err();
    assert!(matches!(e, Error::MissingDataset { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "dataset 'test_set_y' not found in {}; it has: list_classes, train_set_x, train_set_y",
            p.display()
        )
    );
}

#[test]
fn string_labels_are_an_unsupported_dtype() {
    let p = data(TRAIN);
    let e = load_course_h5(&p, "train_set_x", "list_classes").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::UnsupportedDtype { .. }), "{e:?}");
    assert!(
        msg.contains("dataset 'list_classes' has element type string")
            && msg.contains("expected an integer type"),
        "{msg}"
    );
    // x as labels: integers, but [209, 64, 64, 3] is not one label per example
    let e = load_course_h5(&p, "train_set_x", "train_set_x").unwrap_err();
    assert!(matches!(e, Error::BadShape { .. }), "{e}");
}

// ---- synthetic files in the course layout, written with hdf5-pure ------------------------

/// A course-layout file: x u8 `[m, 2, 2, 3]`, y i64 labels, classes as given.
fn course_file(
    name: &str,
    m: usize,
    labels: &[i64],
    classes: Option<&[&str]>,
    edit: impl FnOnce(&mut FileBuilder),
) -> PathBuf {
    let mut b = FileBuilder::new();
    let x: Vec<u8> = (0..m * 12).map(|i| (i % 256) as u8).collect();
    b.create_dataset("train_set_x")
        .with_u8_data(&x)
        .with_shape(&[m as u64, 2, 2, 3]);
    b.create_dataset("train_set_y").with_i64_data(labels);
    if let Some(c) = classes {
        b.create_dataset("list_classes")
            .with_ascii_strings_sized(c, 7)
            .unwrap();
    }
    edit(&mut b);
    let p = scratch(name);
    b.write(&p).unwrap();
    p
}

#[test]
fn counts_that_disagree_name_both_datasets() {
    let p = course_file(
        "count_mismatch.h5",
        3,
        &[0, 1],
        Some(&["no", "yes"]),
        |_| {},
    );
    let e = load_course_h5(&p, "train_set_x", "train_set_y").unwrap_err();
    assert!(matches!(e, Error::CountMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: dataset 'train_set_x' holds 3 examples but 'train_set_y' holds 2 labels; the \
             counts must agree",
            p.display()
        )
    );
}

#[test]
fn labels_must_index_the_classes() {
    let p = course_file("bad_label.h5", 3, &[0, 2, 1], Some(&["no", "yes"]), |_| {});
    let msg = load_course_h5(&p, "train_set_x", "train_set_y")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("dataset 'train_set_y' element 1 is 2; expected a class index below 2"),
        "{msg}"
    );

    let p = course_file(
        "negative_label.h5",
        3,
        &[0, 1, -1],
        Some(&["no", "yes"]),
        |_| {},
    );
    let msg = load_course_h5(&p, "train_set_x", "train_set_y")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("dataset 'train_set_y' element 2 is -1; expected a non-negative class index"),
        "{msg}"
    );

    let p = course_file("no_classes.h5", 2, &[0, 1], None, |_| {});
    let msg = load_course_h5(&p, "train_set_x", "train_set_y")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("dataset 'list_classes' not found in")
            && msg.ends_with("it has: train_set_x, train_set_y"),
        "{msg}"
    );
}

#[test]
fn x_must_be_four_dimensional() {
    let p = course_file("flat_x.h5", 2, &[0, 1], Some(&["no", "yes"]), |b| {
        b.create_dataset("flat_x").with_u8_data(&[1, 2, 3, 4]);
    });
    let msg = load_course_h5(&p, "flat_x", "train_set_y")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("dataset 'flat_x' has shape [4]; expected 4 dimensions"),
        "{msg}"
    );
}

#[test]
fn compressed_nested_and_row_vector_layouts_load() {
    // The same layout written the way h5py does with compression="gzip", labels as (1, m)
    // as the course reshapes them, and the data in a group.
    let mut b = FileBuilder::new();
    let x: Vec<u8> = (0..4 * 12).map(|i| i as u8).collect();
    let mut g = b.create_group("split");
    g.create_dataset("x")
        .with_u8_data(&x)
        .with_shape(&[4, 2, 2, 3])
        .with_chunks(&[2, 2, 2, 3])
        .with_deflate(6);
    g.create_dataset("y")
        .with_i32_data(&[1, 0, 1, 1])
        .with_shape(&[1, 4]);
    b.add_group(g.finish());
    b.create_dataset("list_classes").with_i64_data(&[0, 1]);
    let p = scratch("nested.h5");
    b.write(&p).unwrap();

    let set = load_course_h5(&p, "split/x", "split/y").unwrap();
    assert_eq!(set.x.shape(), &[4, 2, 2, 3]);
    assert_eq!(set.y, [1, 0, 1, 1]);
    assert_eq!(set.classes, ["0", "1"]);
    assert_eq!(set.x.to_vec::<f32>()[47], 47.0);
    assert_eq!(
        list_h5_datasets(&p).unwrap(),
        ["list_classes", "split/x", "split/y"]
    );

    let e = read_h5_dataset(&p, "split/z").unwrap_err().to_string();
    assert!(e.ends_with("it has: list_classes, split/x, split/y"), "{e}");
}

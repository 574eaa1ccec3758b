//! The IDX reader on the shipped MNIST files (reference values from the data README: counts,
//! first labels, class counts, pixel mean) and on broken files, whose errors must name the
//! file and the problem.

use std::io::Write;
use std::path::{Path, PathBuf};

use dlkit_data::{
    load_idx_images, load_idx_labels, load_idx_pair, load_mnist, read_idx, ArrayValues, Error,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-idx");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX file: magic, big-endian dims, then the payload as given.
fn idx_bytes(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(payload);
    b
}

#[test]
fn mnist_matches_the_reference_values() {
    let m = load_mnist(data("mnist")).unwrap();
    assert_eq!(m.train.x.shape(), &[60000, 28, 28, 1]);
    assert_eq!(m.test.x.shape(), &[10000, 28, 28, 1]);
    assert_eq!(m.train.len(), 60000);
    assert_eq!(m.test.len(), 10000);
    assert_eq!(m.train.y[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(m.test.y[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(
        m.train.classes,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(
        m.train.class_counts(),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );

    // Pixel mean and std in [0, 1]: train 0.1307 / 0.3081, test 0.1325 / 0.3105.
    for (set, mean, std) in [(&m.train, 0.1307, 0.3081), (&m.test, 0.1325, 0.3105)] {
        let (n, s, s2) = set.x.with_data(|v: &[f32]| {
            v.iter().fold((0usize, 0f64, 0f64), |(n, s, s2), &p| {
                let p = f64::from(p) / 255.0;
                (n + 1, s + p, s2 + p * p)
            })
        });
        let m = s / n as f64;
        let sd = (s2 / n as f64 - m * m).sqrt();
        assert!((m - mean).abs() < 5e-5, "mean {m}");
        assert!((sd - std).abs() < 5e-5, "std {sd}");
        // Values are the raw bytes 0..255.
        let max = set
            .x
            .with_data(|v: &[f32]| v.iter().cloned().fold(0f32, f32::max));
        assert_eq!(max, 255.0);
    }
    // The first training image (a 5): row 14 of 28, as the raw bytes.
    let row: Vec<u8> = m
        .train
        .x
        .with_data(|v: &[f32]| v[14 * 28..15 * 28].iter().map(|&p| p as u8).collect());
    let raw = read_idx(data("mnist/train-images-idx3-ubyte.gz")).unwrap();
    match &raw.values {
        ArrayValues::U8(v) => assert_eq!(row, v[14 * 28..15 * 28]),
        other => panic!("expected u8, got {}", other.dtype_name()),
    }
    assert_eq!(raw.shape, [60000, 28, 28]);
    assert_eq!(raw.name, "train-images-idx3-ubyte.gz");
}

#[test]
fn uncompressed_and_other_types_read_the_same() {
    // The test labels decompressed by hand read the same as the .gz.
    let gz = std::fs::read(data("mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
    let p = scratch("t10k-labels-idx1-ubyte");
    std::fs::write(&p, &plain).unwrap();
    assert_eq!(
        load_idx_labels(&p).unwrap(),
        load_idx_labels(data("mnist/t10k-labels-idx1-ubyte.gz")).unwrap()
    );

    // Other IDX types: big-endian i16 and f64, 2-D.
    let payload: Vec<u8> = [-2i16, 300, 7, -32768, 1, 0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let p = scratch("i16.idx");
    std::fs::write(&p, idx_bytes(0x0B02, &[2, 3], &payload)).unwrap();
    let a = read_idx(&p).unwrap();
    assert_eq!(a.shape, [2, 3]);
    assert_eq!(a.values, ArrayValues::I16(vec![-2, 300, 7, -32768, 1, 0]));

    let payload: Vec<u8> = [0.5f64, -1e300]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let p = scratch("f64.idx.gz");
    std::fs::write(&p, gzip(&idx_bytes(0x0E01, &[2], &payload))).unwrap();
    assert_eq!(
        read_idx(&p).unwrap().values,
        ArrayValues::F64(vec![0.5, -1e300])
    );
}

// ---- broken files -------------------------------------------------------------------------

#[test]
fn labels_given_as_images_name_both_magic_numbers() {
    let p = data("mnist/t10k-labels-idx1-ubyte.gz");
    let e = load_idx_images(&p).unwrap_err();
    assert!(matches!(e, Error::BadMagic { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not an IDX image file: expected the magic number 0x00000803 (IDX images: u8, 3 \
             dimensions), found 0x00000801 (IDX labels: u8, 1 dimension)",
            p.display()
        )
    );
    let p = data("mnist/t10k-images-idx3-ubyte.gz");
    let msg = load_idx_labels(&p).unwrap_err().to_string();
    assert!(
        msg.contains("not an IDX label file: expected the magic number 0x00000801")
            && msg.contains("found 0x00000803"),
        "{msg}"
    );
}

#[test]
fn a_file_of_another_kind_is_not_idx() {
    let p = scratch("png.idx");
    std::fs::write(&p, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let e = load_idx_images(&p).unwrap_err();
    assert!(matches!(e, Error::BadMagic { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("found 0x89504e47 (\".PNG\")"), "{msg}");

    let msg = read_idx(&p).unwrap_err().to_string();
    assert!(
        msg.contains("not an IDX file: expected the magic number 0x0000TTDD"),
        "{msg}"
    );

    let p = scratch("empty.idx");
    std::fs::write(&p, b"").unwrap();
    let msg = load_idx_labels(&p).unwrap_err().to_string();
    assert!(msg.ends_with("found an empty file"), "{msg}");

    let p = data("mnist/no-such-file.gz");
    let e = read_idx(&p).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: file not found", p.display()));
}

#[test]
fn truncated_files_say_how_many_bytes_are_missing() {
    // Uncompressed: 3 images of 2x2 need 16 + 12 bytes.
    let full = idx_bytes(0x0803, &[3, 2, 2], &[7; 12]);
    let p = scratch("short.idx");
    std::fs::write(&p, &full[..25]).unwrap();
    let e = load_idx_images(&p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TruncatedData {
                expected: 28,
                actual: 25,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file is truncated: its header's shape [3, 2, 2] of u8 values needs 28 \
             bytes but only 25 are there; download or copy it again",
            p.display()
        )
    );
    // Cut inside the dimensions.
    std::fs::write(&p, &full[..10]).unwrap();
    let msg = load_idx_images(&p).unwrap_err().to_string();
    assert!(
        msg.contains("the header (magic number and 3 dimensions) needs 16 bytes but only 10"),
        "{msg}"
    );

    // A gzipped file whose decompressed content is short: counted in decompressed bytes.
    let p = scratch("short.idx.gz");
    std::fs::write(&p, gzip(&full[..20])).unwrap();
    let msg = load_idx_images(&p).unwrap_err().to_string();
    assert!(
        msg.contains(
            "its header's shape [3, 2, 2] of u8 values (decompressed) needs 28 bytes but only 20"
        ),
        "{msg}"
    );

    // The real MNIST test images cut in half: the gzip stream itself ends early.
    let gz = std::fs::read(data("mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    let p = scratch("t10k-images-half.gz");
    std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
    let e = load_idx_images(&p).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::TruncatedData {
                expected: 7_840_016,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.starts_with(&format!(
            "{}: the file is truncated: its header's shape [10000, 28, 28] of u8 values \
             (decompressed) needs 7840016 bytes but only",
            p.display()
        )),
        "{msg}"
    );

    // Every cut of a small gzipped file is an error, never a panic or a silent success.
    let small = gzip(&full);
    for cut in 0..small.len() {
        std::fs::write(&p, &small[..cut]).unwrap();
        assert!(load_idx_images(&p).is_err(), "cut at {cut}");
    }
}

#[test]
fn extra_bytes_and_damaged_gzip_are_corrupt() {
    let p = scratch("long.idx");
    std::fs::write(&p, idx_bytes(0x0801, &[3], &[1, 2, 3, 4, 5])).unwrap();
    let e = load_idx_labels(&p).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("accounts for 11 bytes but 2 more bytes follow them"),
        "{msg}"
    );

    // Flip a byte in the middle of the compressed test labels: the CRC (or the deflate
    // stream) catches it.
    let mut gz = std::fs::read(data("mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let mid = gz.len() / 2;
    gz[mid] ^= 0x55;
    let p = scratch("damaged.gz");
    std::fs::write(&p, &gz).unwrap();
    let e = load_idx_labels(&p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Corrupt { format: "gzip", .. } | Error::TruncatedData { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn image_and_label_counts_must_agree() {
    let images = scratch("three-images.idx");
    std::fs::write(&images, idx_bytes(0x0803, &[3, 2, 2], &[0; 12])).unwrap();
    let labels = scratch("two-labels.idx");
    std::fs::write(&labels, idx_bytes(0x0801, &[2], &[1, 0])).unwrap();
    let e = load_idx_pair(&images, &labels).unwrap_err();
    assert!(matches!(e, Error::FileCountMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} holds 3 examples but {} holds 2 labels; the counts must agree",
            images.display(),
            labels.display()
        )
    );

    std::fs::write(&labels, idx_bytes(0x0801, &[3], &[1, 0, 2])).unwrap();
    let set = load_idx_pair(&images, &labels).unwrap();
    assert_eq!(set.x.shape(), &[3, 2, 2, 1]);
    assert_eq!(set.classes, ["0", "1", "2"]);
}

#[test]
fn mnist_folder_errors_name_the_missing_file_and_bad_labels() {
    let dir = scratch("mnist-incomplete");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let e = load_mnist(&dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: file not found",
            dir.join("train-labels-idx1-ubyte.gz").display()
        )
    );

    // Uncompressed files are found too; a label of 12 is not a digit.
    std::fs::write(
        dir.join("train-images-idx3-ubyte"),
        idx_bytes(0x0803, &[2, 1, 1], &[0, 255]),
    )
    .unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        idx_bytes(0x0801, &[2], &[3, 12]),
    )
    .unwrap();
    let e = load_mnist(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.ends_with(
            "train-labels-idx1-ubyte: dataset 'labels' element 1 is 12; expected a digit 0-9"
        ),
        "{msg}"
    );
}

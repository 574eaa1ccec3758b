//! The NPY/NPZ reader on files written by NumPy itself (`scripts/make_npy_fixtures.py`; each
//! array is a simple function of its index, stated here) and on broken files.

use std::path::{Path, PathBuf};

use dlkit_data::{list_npz, read_npy, read_npz, read_npz_all, ArrayValues, Error};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-npy");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn f32_2x3() -> Vec<f32> {
    (0..6).map(|i| i as f32 / 4.0).collect()
}

#[test]
fn c_order_arrays_of_each_type() {
    let a = read_npy(fixture("f32_2x3.npy")).unwrap();
    assert_eq!(a.shape, [2, 3]);
    assert_eq!(a.name, "f32_2x3.npy");
    assert_eq!(a.values, ArrayValues::F32(f32_2x3()));
    let t = a.to_tensor().unwrap();
    assert_eq!(t.shape(), &[2, 3]);
    assert_eq!(t.to_vec::<f32>(), f32_2x3());

    let a = read_npy(fixture("i64_be.npy")).unwrap();
    assert_eq!(a.shape, [5]);
    assert_eq!(
        a.values,
        ArrayValues::I64((0..5).map(|i| (i - 2) * 1_000_000_000_000).collect())
    );

    let a = read_npy(fixture("u8_4x2x2.npy")).unwrap();
    assert_eq!(a.shape, [4, 2, 2]);
    assert_eq!(a.values, ArrayValues::U8((0..16).map(|i| i * 16).collect()));
    assert_eq!(a.to_labels().unwrap()[15], 240);

    let a = read_npy(fixture("bool_3.npy")).unwrap();
    assert_eq!(a.values, ArrayValues::U8(vec![1, 0, 1]));

    let a = read_npy(fixture("scalar.npy")).unwrap();
    assert_eq!(a.shape, Vec::<usize>::new());
    assert_eq!(a.values, ArrayValues::F64(vec![2.5]));
}

#[test]
fn fortran_order_is_reordered_to_row_major() {
    let a = read_npy(fixture("f64_fortran.npy")).unwrap();
    assert_eq!(a.shape, [3, 4]);
    let want: Vec<f64> = (0..3)
        .flat_map(|r| (0..4).map(move |c| (10 * r + c) as f64))
        .collect();
    assert_eq!(a.values, ArrayValues::F64(want));

    let a = read_npy(fixture("i16_f3d.npy")).unwrap();
    assert_eq!(a.shape, [2, 3, 2]);
    let want: Vec<i16> = (0..2)
        .flat_map(|x| (0..3).flat_map(move |y| (0..2).map(move |z| 100 * x + 10 * y + z)))
        .collect();
    assert_eq!(a.values, ArrayValues::I16(want));
}

#[test]
fn npz_archives_plain_and_compressed() {
    for name in ["arrays.npz", "arrays_compressed.npz"] {
        let p = fixture(name);
        assert_eq!(list_npz(&p).unwrap(), ["x", "labels"]);
        let x = read_npz(&p, "x").unwrap();
        assert_eq!(x.shape, [2, 3]);
        assert_eq!(x.name, "x");
        assert_eq!(x.values, ArrayValues::F32(f32_2x3()));
        let y = read_npz(&p, "labels.npy").unwrap();
        assert_eq!(y.to_labels().unwrap(), [0, 1, 1]);
        let all = read_npz_all(&p).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].values, ArrayValues::I64(vec![0, 1, 1]));
    }
}

// ---- unsupported and broken files ---------------------------------------------------------

#[test]
fn unsupported_types_are_named() {
    for (file, found) in [
        ("f16.npy", "'<f2'"),
        ("complex.npy", "'<c8'"),
        ("record.npy", "a structured dtype"),
        ("object.npy", "'|O'"),
    ] {
        let p = fixture(file);
        let e = read_npy(&p).unwrap_err();
        assert!(matches!(e, Error::UnsupportedDtype { .. }), "{file}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "{}: dataset '{file}' has element type {found}",
                p.display()
            )) && msg.contains("expected bool, an integer type, f32 or f64"),
            "{msg}"
        );
    }
}

#[test]
fn missing_array_lists_the_archive() {
    let p = fixture("arrays.npz");
    let e = read_npz(&p, "w").unwrap_err();
    assert!(matches!(e, Error::MissingDataset { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "dataset 'w' not found in {}; it has: x, labels",
            p.display()
        )
    );
}

#[test]
fn wrong_magic_is_named() {
    let p = scratch("not.npy", b"x,y\n1,2\n");
    let e = read_npy(&p).unwrap_err();
    assert!(matches!(e, Error::BadMagic { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not an NPY file: expected the magic number 0x934e554d5059 (\"\\x93NUMPY\"), \
             found 0x782c790a312c (\"x,y.1,\")",
            p.display()
        )
    );
    // An .npy is not an .npz.
    let msg = read_npz(fixture("f32_2x3.npy"), "x")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("not an NPZ (zip) file: expected the magic number 0x504b0304"),
        "{msg}"
    );
}

#[test]
fn truncated_files_say_how_many_bytes_are_missing() {
    let bytes = std::fs::read(fixture("f32_2x3.npy")).unwrap();
    assert_eq!(bytes.len(), 152); // 128-byte header + 6 x 4 bytes
    let p = scratch("short.npy", &bytes[..140]);
    let e = read_npy(&p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TruncatedData {
                expected: 152,
                actual: 140,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file is truncated: its header's shape [2, 3] of '<f4' values needs 152 \
             bytes but only 140 are there; download or copy it again",
            p.display()
        )
    );
    let p = scratch("short_header.npy", &bytes[..60]);
    let msg = read_npy(&p).unwrap_err().to_string();
    assert!(
        msg.contains("the NPY header needs 128 bytes but only 60"),
        "{msg}"
    );

    // Extra bytes after the data.
    let mut long = bytes.clone();
    long.extend([0; 4]);
    let p = scratch("long.npy", &long);
    let msg = read_npy(&p).unwrap_err().to_string();
    assert!(
        msg.contains("accounts for 152 bytes but the file has 156"),
        "{msg}"
    );

    // Every cut is an error, never a panic.
    for cut in (0..bytes.len()).step_by(3) {
        let p = scratch("cut.npy", &bytes[..cut]);
        assert!(read_npy(&p).is_err(), "cut at {cut}");
    }

    // A truncated archive has lost its directory.
    let z = std::fs::read(fixture("arrays_compressed.npz")).unwrap();
    let p = scratch("short.npz", &z[..z.len() - 30]);
    let e = read_npz(&p, "x").unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("download or copy it again"), "{e}");
    for cut in (0..z.len()).step_by(7) {
        let p = scratch("cut.npz", &z[..cut]);
        assert!(read_npz_all(&p).is_err(), "cut at {cut}");
    }
}

#[test]
fn a_damaged_compressed_entry_is_corrupt() {
    let mut z = std::fs::read(fixture("arrays_compressed.npz")).unwrap();
    // The first entry's compressed data starts after its 30-byte local header and name.
    let name_len = u16::from_le_bytes([z[26], z[27]]) as usize;
    let extra_len = u16::from_le_bytes([z[28], z[29]]) as usize;
    let at = 30 + name_len + extra_len + 20;
    z[at] ^= 0xff;
    let p = scratch("damaged.npz", &z);
    let e = read_npz(&p, "x").unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("array 'x'"), "{e}");
}

//! The MAT-file reader on the course's football data.mat (reference values from
//! scipy.io.loadmat), on files written by scipy.io.savemat (`scripts/make_npy_fixtures.py`),
//! and on broken or unsupported files.

use std::io::Write;
use std::path::{Path, PathBuf};

use dlkit_data::{
    list_mat_variables, load_football, load_mat_xy, read_mat, read_mat_variable, ArrayValues, Error,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-mat");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const FOOTBALL: &str = "football/data.mat";

#[test]
fn football_matches_scipy() {
    let f = load_football(data(FOOTBALL)).unwrap();
    assert_eq!(f.train.x.shape(), &[211, 2]);
    assert_eq!(f.test.x.shape(), &[200, 2]);
    assert_eq!(f.train.class_counts(), [105, 106]);
    assert_eq!(f.test.class_counts(), [113, 87]);
    assert_eq!(f.train.classes, ["0", "1"]);
    assert_eq!(f.train.y[..4], [1, 1, 1, 1]);
    assert_eq!(f.test.y[..4], [0, 1, 0, 0]);

    // Full precision through the raw f64 variables.
    let x = read_mat_variable(data(FOOTBALL), "X").unwrap();
    assert_eq!(x.shape, [211, 2]);
    let ArrayValues::F64(v) = &x.values else {
        panic!("X is {}", x.values.dtype_name())
    };
    // scipy: X[0] = [-0.158986, 0.423977], X[1] = [-0.347926, 0.47076], X[-1] = [-0.153111,
    // 0.184503], X.sum() = -40.087648097999995
    assert_eq!(v[..4], [-0.158986, 0.423977, -0.347926, 0.47076]);
    assert_eq!(v[420..], [-0.153111, 0.184503]);
    assert!((v.iter().sum::<f64>() + 40.087_648_098).abs() < 1e-9);
    let xval = read_mat_variable(data(FOOTBALL), "Xval").unwrap();
    let ArrayValues::F64(v) = &xval.values else {
        panic!()
    };
    assert_eq!(v[..2], [-0.3530623458334412, -0.6739018129665528]);
    assert!((v.iter().sum::<f64>() + 37.941_976_031_298_29).abs() < 1e-9);

    // y's MATLAB class is double, its values stored as uint8 (scipy's loadmat reports the
    // stored uint8 unless mat_dtype=True, which gives float64): read as the class.
    let y = read_mat_variable(data(FOOTBALL), "y").unwrap();
    assert_eq!(y.shape, [211, 1]);
    assert_eq!(y.values.dtype_name(), "f64");
    assert_eq!(y.to_f32().unwrap().iter().sum::<f32>(), 106.0);
    assert_eq!(
        list_mat_variables(data(FOOTBALL)).unwrap(),
        ["X", "y", "yval", "Xval"]
    );
}

#[test]
fn savemat_files_plain_and_compressed() {
    for name in ["savemat_v5.mat", "savemat_compressed.mat"] {
        let p = fixture(name);
        assert_eq!(
            list_mat_variables(&p).unwrap(),
            ["A", "B", "L", "S", "C"],
            "{name}"
        );
        let a = read_mat_variable(&p, "A").unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(
            a.values,
            ArrayValues::F64(vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
        );
        let b = read_mat_variable(&p, "B").unwrap();
        assert_eq!(
            (b.shape.as_slice(), &b.values),
            (&[1, 4][..], &ArrayValues::U8(vec![1, 2, 3, 250]))
        );
        let l = read_mat_variable(&p, "L").unwrap();
        assert_eq!(
            (l.shape.as_slice(), &l.values),
            (&[2, 1][..], &ArrayValues::U8(vec![1, 0]))
        );
        let s = read_mat_variable(&p, "S").unwrap();
        assert_eq!(s.values, ArrayValues::I16(vec![-3, 4, 5, -6]));

        // The char array is listed but refused when read, by name.
        let e = read_mat_variable(&p, "C").unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: unsupported MAT-file content: variable 'C' is a char array; only numeric \
                 arrays (double, single, integer, logical) are supported",
                p.display()
            )
        );
        assert!(read_mat(&p).is_err());
    }
}

// ---- broken files -------------------------------------------------------------------------

#[test]
fn missing_variable_lists_the_file() {
    let p = data(FOOTBALL);
    let e = load_mat_xy(&p, "X", "Y").unwrap_err();
    assert!(matches!(e, Error::MissingDataset { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "dataset 'Y' not found in {}; it has: X, y, yval, Xval",
            p.display()
        )
    );
}

#[test]
fn counts_that_disagree_name_both_variables() {
    let p = data(FOOTBALL);
    let e = load_mat_xy(&p, "X", "yval").unwrap_err();
    assert!(matches!(e, Error::CountMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: dataset 'X' holds 211 examples but 'yval' holds 200 labels; the counts must \
             agree",
            p.display()
        )
    );
    // Float features as labels: not whole numbers.
    let msg = load_mat_xy(&p, "X", "X").unwrap_err().to_string();
    assert!(
        msg.contains("dataset 'X' has shape [211, 2]; expected one label per example"),
        "{msg}"
    );
}

#[test]
fn not_a_mat_file() {
    let p = scratch("not.mat", &[b'x'; 200]);
    let e = read_mat(&p).unwrap_err();
    assert!(matches!(e, Error::BadMagic { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: not a MATLAB 5 MAT file: expected the magic number a 128-byte header starting \
             \"MATLAB 5.0 MAT-file\"",
            p.display()
        )),
        "{msg}"
    );
    // A v7.3 file (HDF5) is named as such.
    let mut v73 = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".to_vec();
    v73.resize(600, b' ');
    let p = scratch("v73.mat", &v73);
    let msg = read_mat(&p).unwrap_err().to_string();
    assert!(
        msg.contains("MATLAB 7.3 MAT-file, which is an HDF5 file"),
        "{msg}"
    );
}

#[test]
fn truncated_and_damaged_files_are_reported() {
    let bytes = std::fs::read(data(FOOTBALL)).unwrap();
    assert_eq!(bytes.len(), 6038);
    let p = scratch("short.mat", &bytes[..4000]);
    let e = read_mat(&p).unwrap_err();
    assert!(
        matches!(e, Error::TruncatedData { actual: 4000, .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: the file is truncated: the ", p.display()))
            && msg.contains("-byte element at byte "),
        "{msg}"
    );
    let p = scratch("header_only.mat", &bytes[..100]);
    let msg = read_mat(&p).unwrap_err().to_string();
    assert!(
        msg.contains("the MAT-file header needs 128 bytes but only 100"),
        "{msg}"
    );

    // Every cut is an error, never a panic; so is every damaged byte after the header, or a
    // successful read (a flipped bit in a value can go unnoticed by the format).
    // (Steps keep the number of file writes, a few milliseconds each here, small.)
    for cut in (0..bytes.len())
        .step_by(31)
        .chain([127, 128, 135, 136, 6037])
    {
        let p = scratch("cut.mat", &bytes[..cut]);
        assert!(load_football(&p).is_err(), "cut at {cut}");
    }
    for at in (128..bytes.len()).step_by(23) {
        let mut b = bytes.clone();
        b[at] ^= 0xa5;
        let p = scratch("flip.mat", &b);
        let _ = load_football(&p);
    }

    // A byte flipped inside the first compressed variable: the zlib stream fails.
    let mut b = bytes.clone();
    b[128 + 8 + 40] ^= 0xff;
    let p = scratch("damaged.mat", &b);
    let e = read_mat(&p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Corrupt {
                format: "MAT-file",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("the variable at byte 128: "), "{e}");
}

/// A little MAT-file written by hand: one uncompressed variable of class `class` holding
/// `data` stored as `data_type`, dims as given.
fn hand_mat(
    class: u8,
    flags_extra: u32,
    dims: &[i32],
    name: &str,
    data_type: u32,
    data: &[u8],
) -> Vec<u8> {
    fn element(out: &mut Vec<u8>, ty: u32, bytes: &[u8]) {
        out.extend(ty.to_le_bytes());
        out.extend((bytes.len() as u32).to_le_bytes());
        out.extend(bytes);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
    }
    let mut m = Vec::new();
    let mut flags = (u32::from(class) | flags_extra).to_le_bytes().to_vec();
    flags.extend([0; 4]);
    element(&mut m, 6, &flags);
    let d: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
    element(&mut m, 5, &d);
    element(&mut m, 1, name.as_bytes());
    element(&mut m, data_type, data);
    let mut f = b"MATLAB 5.0 MAT-file, written by hand".to_vec();
    f.resize(116, b' ');
    f.extend([0; 8]);
    f.extend(0x0100u16.to_le_bytes());
    f.extend(b"IM");
    element(&mut f, 14, &m);
    f
}

#[test]
fn hand_written_files_convert_stored_types() {
    // MATLAB stores a double array of small whole numbers as uint8: read back as f64.
    let p = scratch(
        "double_as_u8.mat",
        &hand_mat(6, 0, &[2, 2], "D", 2, &[1, 2, 3, 4]),
    );
    let d = read_mat_variable(&p, "D").unwrap();
    assert_eq!(d.values, ArrayValues::F64(vec![1.0, 3.0, 2.0, 4.0]));

    // An int8 class stored as int16 out of its range is corrupt, by name and index.
    let v: Vec<u8> = [5i16, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = scratch("int8_range.mat", &hand_mat(8, 0, &[1, 2], "K", 3, &v));
    let msg = read_mat_variable(&p, "K").unwrap_err().to_string();
    assert!(
        msg.contains("variable 'K': value 1 (300) does not fit the class int8"),
        "{msg}"
    );

    // Complex arrays and cells are refused by name.
    let p = scratch("complex.mat", &hand_mat(6, 0x800, &[1, 1], "Z", 9, &[0; 8]));
    let msg = read_mat_variable(&p, "Z").unwrap_err().to_string();
    assert!(
        msg.contains("variable 'Z' is a complex double array"),
        "{msg}"
    );
    let p = scratch("cell.mat", &hand_mat(1, 0, &[1, 1], "c", 14, &[]));
    let msg = read_mat_variable(&p, "c").unwrap_err().to_string();
    assert!(msg.contains("variable 'c' is a cell array"), "{msg}");

    // Fewer values than the dimensions need.
    let p = scratch(
        "short_values.mat",
        &hand_mat(6, 0, &[2, 2], "D", 9, &[0; 24]),
    );
    let msg = read_mat_variable(&p, "D").unwrap_err().to_string();
    assert!(
        msg.contains(
            "variable 'D': dimensions [2, 2] need 4 values of 8 bytes but 24 bytes are stored"
        ),
        "{msg}"
    );

    // The same variable compressed, as MATLAB 7 writes it, reads the same.
    let plain = hand_mat(6, 0, &[2, 2], "D", 2, &[1, 2, 3, 4]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&plain[128..]).unwrap();
    let z = z.finish().unwrap();
    let mut f = plain[..128].to_vec();
    f.extend(15u32.to_le_bytes());
    f.extend((z.len() as u32).to_le_bytes());
    f.extend(&z);
    let p = scratch("compressed.mat", &f);
    assert_eq!(
        read_mat_variable(&p, "D").unwrap().values,
        ArrayValues::F64(vec![1.0, 3.0, 2.0, 4.0])
    );
}

//! The CSV readers on the shipped scikit-learn files (reference values from NumPy:
//! `np.loadtxt`) and on broken tables, whose errors must name the file, the line, the column
//! and the value.

use std::io::Write;
use std::path::{Path, PathBuf};

use dlkit_data::{load_csv, load_csv_with, load_sklearn_csv, Column, CsvOptions, Error};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-csv");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn row(t: &dlkit_data::Table, i: usize) -> Vec<f32> {
    let f = t.x.shape()[1];
    t.x.with_data(|v: &[f32]| v[i * f..(i + 1) * f].to_vec())
}

#[test]
fn breast_cancer_matches_numpy() {
    let t = load_sklearn_csv(data("sklearn/breast_cancer.csv")).unwrap();
    assert_eq!(t.x.shape(), &[569, 30]);
    assert_eq!(t.classes, ["malignant", "benign"]);
    assert_eq!(t.class_counts(), [212, 357]);
    assert_eq!(t.features.len(), 30);
    assert_eq!(t.features[0], "0");
    assert_eq!(
        row(&t, 0)[..6],
        [17.99, 10.38, 122.8, 1001.0, 0.1184, 0.2776]
    );
    assert_eq!(row(&t, 0)[29], 0.1189);
    assert_eq!(t.y[0], 0);
    // np.loadtxt(...)[:, :30].sum() = 1056474.4596356002; the f32 values sum within 1e-6.
    let sum: f64 =
        t.x.with_data(|v: &[f32]| v.iter().map(|&x| f64::from(x)).sum());
    assert!((sum - 1_056_474.459_635_6).abs() < 1.0, "{sum}");
}

#[test]
fn wine_matches_numpy() {
    let t = load_sklearn_csv(data("sklearn/wine_data.csv")).unwrap();
    assert_eq!(t.x.shape(), &[178, 13]);
    assert_eq!(t.classes, ["class_0", "class_1", "class_2"]);
    assert_eq!(t.class_counts(), [59, 71, 48]);
    assert_eq!(row(&t, 0)[..5], [14.23, 1.71, 2.43, 15.6, 127.0]);
}

#[test]
fn digits_are_gzipped_and_headerless() {
    let opts = CsvOptions {
        header: false,
        ..CsvOptions::default()
    };
    let t = load_csv_with(data("sklearn/digits.csv.gz"), &opts).unwrap();
    assert_eq!(t.x.shape(), &[1797, 64]);
    assert_eq!(t.classes.len(), 10);
    assert_eq!(
        t.class_counts(),
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
    assert_eq!(row(&t, 0)[..8], [0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    let sum: f64 =
        t.x.with_data(|v: &[f32]| v.iter().map(|&x| f64::from(x)).sum());
    // np.loadtxt(...).sum() = 569788, of which the labels are sum(k * count_k).
    let label_sum: usize = t.y.iter().sum();
    assert_eq!(sum + label_sum as f64, 569_788.0);
}

#[test]
fn header_tables_with_named_labels() {
    let p = scratch(
        "iris_like.csv",
        "sepal length, species ,petal width\n5.1,setosa,0.2\n  6.3 ,virginica,1.8\n5.9,\"versicolor\",1.5\n\n4.9,setosa,0.1\n",
    );
    let t = load_csv(&p, "species").unwrap();
    assert_eq!(t.x.shape(), &[4, 2]);
    assert_eq!(t.features, ["sepal length", "petal width"]);
    // Without a mapping: the names, sorted.
    assert_eq!(t.classes, ["setosa", "versicolor", "virginica"]);
    assert_eq!(t.y, [0, 2, 1, 0]);
    assert_eq!(row(&t, 1), [6.3, 1.8]);

    // With a mapping: its order.
    let opts = CsvOptions {
        classes: Some(vec![
            "virginica".into(),
            "versicolor".into(),
            "setosa".into(),
        ]),
        ..CsvOptions::label("species")
    };
    let t = load_csv_with(&p, &opts).unwrap();
    assert_eq!(t.y, [2, 0, 1, 2]);

    // By position, integer labels, another delimiter.
    let p = scratch("semicolon.csv", "a;b;y\n1;2;1\n3;4;0\n5;6;3\n");
    let opts = CsvOptions {
        label: Column::Index(2),
        delimiter: b';',
        ..CsvOptions::default()
    };
    let t = load_csv_with(&p, &opts).unwrap();
    assert_eq!(t.y, [1, 0, 3]);
    assert_eq!(t.classes, ["0", "1", "2", "3"]);
    assert_eq!(t.class_counts(), [1, 1, 0, 1]);
}

// ---- broken tables ------------------------------------------------------------------------

#[test]
fn a_missing_column_lists_the_header() {
    let p = scratch("cols.csv", "a,b,label\n1,2,0\n");
    let e = load_csv(&p, "target").unwrap_err();
    assert!(matches!(e, Error::MissingColumn { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: no column 'target'; the header has: a, b, label",
            p.display()
        )
    );
    let opts = CsvOptions::label(Column::Index(3));
    let msg = load_csv_with(&p, &opts).unwrap_err().to_string();
    assert!(msg.contains("no column '#3 (counting from 0)'"), "{msg}");
}

#[test]
fn a_bad_number_names_line_column_and_value() {
    let p = scratch("bad.csv", "a,b,label\n1,2,0\n3,4,1\n5,abc,1\n");
    let e = load_csv(&p, "label").unwrap_err();
    assert!(
        matches!(&e, Error::BadField { line: 4, row: 2, column, value, .. } if column == "b" && value == "abc"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: line 4 (example 2), column 'b': 'abc' is not a finite number",
            p.display()
        )
    );

    let p = scratch("empty_field.csv", "a,b,label\n1,,0\n");
    let msg = load_csv(&p, "label").unwrap_err().to_string();
    assert!(
        msg.ends_with(
            "line 2 (example 0), column 'b': '' is not a finite number (the field is empty)"
        ),
        "{msg}"
    );
    let p = scratch("nan.csv", "a,b,label\n1,NaN,0\n");
    let msg = load_csv(&p, "label").unwrap_err().to_string();
    assert!(
        msg.ends_with("column 'b': 'NaN' is not a finite number"),
        "{msg}"
    );

    // The real breast cancer file with one value damaged.
    let text = std::fs::read_to_string(data("sklearn/breast_cancer.csv")).unwrap();
    let p = scratch(
        "breast_cancer_bad.csv",
        &text.replacen("122.8", "122..8", 1),
    );
    let msg = load_sklearn_csv(&p).unwrap_err().to_string();
    assert!(
        msg.ends_with("line 2 (example 0), column '2': '122..8' is not a finite number"),
        "{msg}"
    );
}

#[test]
fn ragged_rows_and_bad_labels_are_named() {
    let p = scratch("ragged.csv", "a,b,label\n1,2,0\n3,1\n");
    let e = load_csv(&p, "label").unwrap_err();
    assert!(matches!(e, Error::BadRow { line: 3, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: line 3: 2 fields; expected 3, as the header has",
            p.display()
        )
    );

    let p = scratch("unknown_class.csv", "x,y\n1,cat\n2,dog\n3,bird\n");
    let opts = CsvOptions {
        classes: Some(vec!["cat".into(), "dog".into()]),
        ..CsvOptions::label("y")
    };
    let msg = load_csv_with(&p, &opts).unwrap_err().to_string();
    assert!(
        msg.ends_with(
            "line 4 (example 2), column 'y': 'bird' is not one of the class names cat, dog or an \
             index below 2"
        ),
        "{msg}"
    );

    let p = scratch("empty.csv", "");
    let msg = load_csv(&p, "y").unwrap_err().to_string();
    assert!(
        msg.contains("line 1: the file is empty; expected a header row"),
        "{msg}"
    );

    let mut bytes = b"a,label\n1,0\n".to_vec();
    bytes.extend(b"\xff\xfe,1\n");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dlkit-data-csv");
    let p = dir.join("latin1.csv");
    std::fs::File::create(&p)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let msg = load_csv(&p, "label").unwrap_err().to_string();
    assert!(msg.contains("line 3: field 1 is not valid UTF-8"), "{msg}");
}

#[test]
fn sklearn_headers_are_checked() {
    let p = scratch("not_sklearn.csv", "a,b,label\n1,2,0\n");
    let e = load_sklearn_csv(&p).unwrap_err();
    assert!(matches!(e, Error::BadRow { line: 1, .. }), "{e:?}");
    assert!(
        e.to_string().contains(
            "line 1: n_samples is 'a', not a count; expected scikit-learn's header \
             'n_samples,n_features,class names...'"
        ),
        "{e}"
    );

    // The header promises 3 rows, the file has 2.
    let p = scratch("short_sklearn.csv", "3,2,no,yes\n1,2,0\n3,4,1\n");
    let msg = load_sklearn_csv(&p).unwrap_err().to_string();
    assert!(
        msg.ends_with("line 1: the header says 3 examples but the file has 2 data rows"),
        "{msg}"
    );
    // A label beyond the class names.
    let p = scratch("label_sklearn.csv", "2,2,no,yes\n1,2,0\n3,4,2\n");
    let msg = load_sklearn_csv(&p).unwrap_err().to_string();
    assert!(
        msg.ends_with(
            "line 3 (example 1), column 'label': '2' is not a class index below 2 (the header \
             names 2 classes)"
        ),
        "{msg}"
    );
    // A row with a feature missing.
    let p = scratch("narrow_sklearn.csv", "2,2,no,yes\n1,2,0\n3,1\n");
    let msg = load_sklearn_csv(&p).unwrap_err().to_string();
    assert!(
        msg.ends_with("line 3: 2 fields; expected 3 (2 features, as the header says, and a label)"),
        "{msg}"
    );
    // Truncated copy of the real file: the row count no longer matches.
    let text = std::fs::read_to_string(data("sklearn/breast_cancer.csv")).unwrap();
    let cut: String = text.lines().take(300).collect::<Vec<_>>().join("\n");
    let p = scratch("breast_cancer_cut.csv", &cut);
    let msg = load_sklearn_csv(&p).unwrap_err().to_string();
    assert!(
        msg.contains("the header says 569 examples but the file has 299"),
        "{msg}"
    );
}

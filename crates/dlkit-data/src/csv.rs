//! CSV tables of numeric features and a class label, on the `csv` crate.
//!
//! Two layouts:
//! - [`load_csv`] / [`load_csv_with`]: a header row naming the columns (or none, with
//!   [`CsvOptions::header`] off), the label column chosen by name or position, every other
//!   column a number. Labels are integers (`0`, `1`, ...) or names (`setosa`, `M`/`B`), mapped
//!   to indices through [`CsvOptions::classes`] or, without it, in sorted order.
//! - [`load_sklearn_csv`]: scikit-learn's bundled files (`breast_cancer.csv`, `iris.csv`,
//!   `wine_data.csv`), whose first line is `n_samples,n_features,class names...` and whose
//!   rows are the features and then an integer label.
//!
//! Files starting with the gzip signature are decompressed first (`digits.csv.gz`). Every
//! error names the file and the line; a bad field also names the column and the value.

use std::path::Path;

use dlkit_core::Tensor;

use crate::error::{Error, Result};
use crate::util::{gunzip, is_gzip, read_file, MAX_CLASSES};

/// A column of a table, by header name or by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column whose header is this name (needs a header row).
    Name(String),
    /// The column at this position, counting from 0.
    Index(usize),
    /// The last column.
    Last,
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl From<usize> for Column {
    fn from(i: usize) -> Self {
        Column::Index(i)
    }
}

/// How [`load_csv_with`] reads a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column (default: the last one). Every other column is a feature.
    pub label: Column,
    /// Whether the first line names the columns (default: true). Without a header the
    /// features are named by their position: `"0"`, `"1"`, ...
    pub header: bool,
    /// The field separator (default: `b','`).
    pub delimiter: u8,
    /// Class names, indexed by label. A label field equal to one of them gets its index; one
    /// that is none of them but an integer below their count is taken as that index. `None`
    /// (the default): integer labels are used as they are (classes `"0"` up to the largest),
    /// and otherwise the distinct label strings, sorted, are the classes.
    pub classes: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            label: Column::Last,
            header: true,
            delimiter: b',',
            classes: None,
        }
    }
}

impl CsvOptions {
    /// Options with this label column and the other defaults.
    pub fn label(label: impl Into<Column>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }
}

/// A table of numeric features with a class label per row.
#[derive(Debug, Clone)]
pub struct Table {
    /// The features, `[examples, features]` f32, in file order.
    pub x: Tensor,
    /// One class index per example, each below `classes.len()`.
    pub y: Vec<usize>,
    /// The feature columns' names, in the order of `x`'s columns.
    pub features: Vec<String>,
    /// The class names, indexed by label.
    pub classes: Vec<String>,
}

impl Table {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// How many examples each class has, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        crate::dataset::count_classes(&self.y, self.classes.len())
    }
}

/// Reads a comma-separated table with a header row whose column `label` holds the class
/// labels; every other column must be numeric. See [`CsvOptions`] for the label rules.
pub fn load_csv(path: impl AsRef<Path>, label: &str) -> Result<Table> {
    load_csv_with(path, &CsvOptions::label(label))
}

/// Reads a table as `opts` says.
pub fn load_csv_with(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Table> {
    let path = path.as_ref();
    let rows = Rows::read(path, opts.delimiter)?;
    let mut records = rows.records.iter();

    let (names, first_data_line) = if opts.header {
        let Some(h) = records.next() else {
            return Err(Error::BadRow {
                file: path.to_path_buf(),
                line: 1,
                detail: "the file is empty; expected a header row naming the columns".into(),
            });
        };
        (h.fields.clone(), h.line + 1)
    } else {
        let width = rows.records.first().map_or(0, |r| r.fields.len());
        ((0..width).map(|i| i.to_string()).collect::<Vec<_>>(), 1)
    };
    let width = names.len();
    let label_col = match &opts.label {
        Column::Name(n) => {
            names
                .iter()
                .position(|c| c == n)
                .ok_or_else(|| Error::MissingColumn {
                    file: path.to_path_buf(),
                    column: n.clone(),
                    available: names.clone(),
                })?
        }
        Column::Index(i) if *i < width => *i,
        Column::Index(i) => {
            return Err(Error::MissingColumn {
                file: path.to_path_buf(),
                column: format!("#{i} (counting from 0)"),
                available: names.clone(),
            })
        }
        Column::Last if width > 0 => width - 1,
        Column::Last => {
            return Err(Error::BadRow {
                file: path.to_path_buf(),
                line: first_data_line,
                detail: "the file has no columns".into(),
            })
        }
    };

    let n = records.len();
    let mut x = Vec::with_capacity(n * (width - 1));
    let mut raw_labels = Vec::with_capacity(n);
    for (row, rec) in records.enumerate() {
        rec.check_width(path, width, opts.header)?;
        for (c, field) in rec.fields.iter().enumerate() {
            if c == label_col {
                raw_labels.push((rec.line, field.as_str()));
            } else {
                x.push(number(path, rec.line, row, &names[c], field)?);
            }
        }
    }
    let (y, classes) = labels(
        path,
        &names[label_col],
        &raw_labels,
        opts.classes.as_deref(),
    )?;
    let mut features = names;
    features.remove(label_col);
    Ok(Table {
        x: tensor(path, x, &[n, width - 1])?,
        y,
        features,
        classes,
    })
}

/// Reads one of scikit-learn's bundled CSV files: a first line
/// `n_samples,n_features,class names...` (`569,30,malignant,benign`), then `n_samples` rows
/// of `n_features` numbers and an integer label below the number of class names.
///
/// The features are named `"0"`, `"1"`, ... (the files do not name them). Errors name the
/// line: a first line that is not such a header, a row of the wrong width, a bad number, a
/// label out of range, or a row count that differs from the header's.
pub fn load_sklearn_csv(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let rows = Rows::read(path, b',')?;
    let header_err = |line: u64, what: String| Error::BadRow {
        file: path.to_path_buf(),
        line,
        detail: format!(
            "{what}; expected scikit-learn's header 'n_samples,n_features,class names...' \
             (as in '569,30,malignant,benign')"
        ),
    };
    let Some(head) = rows.records.first() else {
        return Err(header_err(1, "the file is empty".into()));
    };
    let count = |i: usize, what: &str| -> Result<usize> {
        let f = head.fields.get(i).map_or("", String::as_str);
        f.parse::<usize>()
            .map_err(|_| header_err(head.line, format!("{what} is '{f}', not a count")))
    };
    let n = count(0, "n_samples")?;
    let n_features = count(1, "n_features")?;
    let classes: Vec<String> = head.fields[2..].to_vec();

    let data = &rows.records[1..];
    let names: Vec<String> = (0..n_features)
        .map(|i| i.to_string())
        .chain(["label".to_string()])
        .collect();
    let mut x = Vec::with_capacity(data.len() * n_features);
    let mut y = Vec::with_capacity(data.len());
    for (row, rec) in data.iter().enumerate() {
        if rec.fields.len() != n_features + 1 {
            return Err(Error::BadRow {
                file: path.to_path_buf(),
                line: rec.line,
                detail: format!(
                    "{} fields; expected {} ({n_features} features, as the header says, and a \
                     label)",
                    rec.fields.len(),
                    n_features + 1
                ),
            });
        }
        for (c, field) in rec.fields[..n_features].iter().enumerate() {
            x.push(number(path, rec.line, row, &names[c], field)?);
        }
        let field = &rec.fields[n_features];
        let limit = if classes.is_empty() {
            MAX_CLASSES
        } else {
            classes.len()
        };
        let label = field.parse::<usize>().ok().filter(|&l| l < limit);
        let Some(label) = label else {
            return Err(Error::BadField {
                file: path.to_path_buf(),
                line: rec.line,
                row,
                column: "label".into(),
                value: field.clone(),
                expected: if classes.is_empty() {
                    too_many_classes()
                } else {
                    format!(
                        "a class index below {} (the header names {} classes)",
                        classes.len(),
                        classes.len()
                    )
                },
            });
        };
        y.push(label);
    }
    if data.len() != n {
        return Err(Error::BadRow {
            file: path.to_path_buf(),
            line: head.line,
            detail: format!(
                "the header says {n} examples but the file has {} data rows",
                data.len()
            ),
        });
    }
    let classes = if classes.is_empty() {
        integer_classes(&y)
    } else {
        classes
    };
    Ok(Table {
        x: tensor(path, x, &[n, n_features])?,
        y,
        features: names[..n_features].to_vec(),
        classes,
    })
}

/// One record: the line it starts on and its fields, trimmed.
struct Record {
    line: u64,
    fields: Vec<String>,
}

impl Record {
    fn check_width(&self, path: &Path, width: usize, header: bool) -> Result<()> {
        if self.fields.len() == width {
            return Ok(());
        }
        Err(Error::BadRow {
            file: path.to_path_buf(),
            line: self.line,
            detail: format!(
                "{} fields; expected {width}, as {}",
                self.fields.len(),
                if header {
                    "the header has"
                } else {
                    "the first line has"
                }
            ),
        })
    }
}

/// Every record of a file (gzipped or not), with line numbers.
struct Rows {
    records: Vec<Record>,
}

impl Rows {
    fn read(path: &Path, delimiter: u8) -> Result<Rows> {
        let mut bytes = read_file(path)?;
        if is_gzip(&bytes) {
            bytes = gunzip(path, &bytes, "the CSV text")?;
        }
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .trim(::csv::Trim::All)
            .from_reader(&bytes[..]);
        let mut records = Vec::new();
        let mut rec = ::csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => records.push(Record {
                    line: rec.position().map_or(0, |p| p.line()),
                    fields: rec.iter().map(str::to_string).collect(),
                }),
                Err(e) => return Err(csv_error(path, e)),
            }
        }
        Ok(Rows { records })
    }
}

fn csv_error(path: &Path, e: ::csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        ::csv::ErrorKind::Io(source) => Error::Io {
            file: path.to_path_buf(),
            source,
        },
        ::csv::ErrorKind::Utf8 { err, .. } => Error::BadRow {
            file: path.to_path_buf(),
            line,
            detail: format!(
                "field {} is not valid UTF-8 text (byte {} of the field)",
                err.field() + 1,
                err.valid_up_to()
            ),
        },
        other => Error::BadRow {
            file: path.to_path_buf(),
            line,
            detail: format!("{other:?}"),
        },
    }
}

/// Parses one feature field.
fn number(path: &Path, line: u64, row: usize, column: &str, field: &str) -> Result<f32> {
    match field.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::BadField {
            file: path.to_path_buf(),
            line,
            row,
            column: column.to_string(),
            value: field.chars().take(60).collect(),
            expected: if field.is_empty() {
                "a finite number (the field is empty)".into()
            } else {
                "a finite number".into()
            },
        }),
    }
}

/// The label of each row (line, field) as a class index, and the class names.
fn labels(
    path: &Path,
    column: &str,
    raw: &[(u64, &str)],
    names: Option<&[String]>,
) -> Result<(Vec<usize>, Vec<String>)> {
    let bad = |row: usize, expected: String| Error::BadField {
        file: path.to_path_buf(),
        line: raw[row].0,
        row,
        column: column.to_string(),
        value: raw[row].1.chars().take(60).collect(),
        expected,
    };
    if let Some(i) = raw.iter().position(|(_, f)| f.is_empty()) {
        return Err(bad(i, "a class label (the field is empty)".into()));
    }
    if let Some(names) = names {
        let mut y = Vec::with_capacity(raw.len());
        for (row, (_, f)) in raw.iter().enumerate() {
            let idx = names
                .iter()
                .position(|n| n == f)
                .or_else(|| f.parse::<usize>().ok().filter(|&i| i < names.len()));
            match idx {
                Some(i) => y.push(i),
                None => {
                    return Err(bad(
                        row,
                        format!(
                            "one of the class names {} or an index below {}",
                            names.join(", "),
                            names.len()
                        ),
                    ))
                }
            }
        }
        return Ok((y, names.to_vec()));
    }
    let ints: Option<Vec<usize>> = raw.iter().map(|(_, f)| f.parse::<usize>().ok()).collect();
    if let Some(y) = ints {
        if let Some(i) = y.iter().position(|&l| l >= MAX_CLASSES) {
            return Err(bad(i, too_many_classes()));
        }
        let classes = integer_classes(&y);
        return Ok((y, classes));
    }
    let mut classes: Vec<String> = raw.iter().map(|(_, f)| f.to_string()).collect();
    classes.sort();
    classes.dedup();
    let y = raw
        .iter()
        .map(|(_, f)| classes.binary_search_by(|c| c.as_str().cmp(f)).unwrap_or(0))
        .collect();
    Ok((y, classes))
}

fn too_many_classes() -> String {
    format!(
        "a class index below {MAX_CLASSES} (integer labels index the classes; is this the \
         label column?)"
    )
}

/// Classes `"0"` up to the largest label.
fn integer_classes(y: &[usize]) -> Vec<String> {
    let n = y.iter().max().map_or(0, |&m| m + 1);
    (0..n).map(|c| c.to_string()).collect()
}

fn tensor(path: &Path, x: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
    Tensor::try_from_vec(x, shape).map_err(|e| Error::Tensor {
        file: path.to_path_buf(),
        dataset: "features".to_string(),
        source: Box::new(e),
    })
}

//! HDF5 reader for the course's files, on the pure-Rust `hdf5-pure` crate (no libhdf5).
//!
//! [`read_h5_dataset`] reads any numeric or string dataset with its shape;
//! [`load_course_h5`] reads the course layout (`train_set_x`, `train_set_y`, `list_classes`
//! and the `test_set_*` pair) into an NHWC image tensor, labels and class names.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dlkit_core::Tensor;
use hdf5_pure::{DType as H5Type, FormatError};

use crate::error::{Error, Result};

/// The name of the class-names dataset in the course's files.
pub const CLASSES_NAME: &str = "list_classes";

/// The values of a dataset, in the element type it is stored with (row-major order).
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayValues {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// Fixed- or variable-length strings, with the padding (NULs or spaces) removed.
    Str(Vec<String>),
}

macro_rules! each_numeric {
    ($v:expr, $x:ident => $body:expr, $s:ident => $str_body:expr) => {
        match $v {
            ArrayValues::U8($x) => $body,
            ArrayValues::U16($x) => $body,
            ArrayValues::U32($x) => $body,
            ArrayValues::U64($x) => $body,
            ArrayValues::I8($x) => $body,
            ArrayValues::I16($x) => $body,
            ArrayValues::I32($x) => $body,
            ArrayValues::I64($x) => $body,
            ArrayValues::F32($x) => $body,
            ArrayValues::F64($x) => $body,
            ArrayValues::Str($s) => $str_body,
        }
    };
}

impl ArrayValues {
    /// The element type's name: `u8`, `i64`, `f32`, `string`, ...
    pub fn dtype_name(&self) -> &'static str {
        match self {
            ArrayValues::U8(_) => "u8",
            ArrayValues::U16(_) => "u16",
            ArrayValues::U32(_) => "u32",
            ArrayValues::U64(_) => "u64",
            ArrayValues::I8(_) => "i8",
            ArrayValues::I16(_) => "i16",
            ArrayValues::I32(_) => "i32",
            ArrayValues::I64(_) => "i64",
            ArrayValues::F32(_) => "f32",
            ArrayValues::F64(_) => "f64",
            ArrayValues::Str(_) => "string",
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        each_numeric!(self, v => v.len(), s => s.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values converted to f32 (`as` casts: integers above 2^24 and f64 round to the
    /// nearest f32); `None` for strings.
    #[allow(clippy::unnecessary_cast)] // the macro casts every variant, f32 included
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        each_numeric!(self, v => Some(v.iter().map(|&e| e as f32).collect()), _s => None)
    }

    /// Integer values widened to i64; `None` for floats, strings, and u64 values above
    /// `i64::MAX`.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        fn widen<T: Copy + TryInto<i64>>(v: &[T]) -> Option<Vec<i64>> {
            v.iter().map(|&e| e.try_into().ok()).collect()
        }
        match self {
            ArrayValues::U8(v) => widen(v),
            ArrayValues::U16(v) => widen(v),
            ArrayValues::U32(v) => widen(v),
            ArrayValues::U64(v) => widen(v),
            ArrayValues::I8(v) => widen(v),
            ArrayValues::I16(v) => widen(v),
            ArrayValues::I32(v) => widen(v),
            ArrayValues::I64(v) => Some(v.clone()),
            ArrayValues::F32(_) | ArrayValues::F64(_) | ArrayValues::Str(_) => None,
        }
    }

    fn is_integer(&self) -> bool {
        !matches!(
            self,
            ArrayValues::F32(_) | ArrayValues::F64(_) | ArrayValues::Str(_)
        )
    }

    /// Element `i` as text, for error messages.
    fn show(&self, i: usize) -> String {
        each_numeric!(self, v => v.get(i).map(|e| e.to_string()), s => s.get(i).map(|e| format!("{e:?}")))
            .unwrap_or_default()
    }
}

/// One dataset read from a file: where it came from, its shape and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayData {
    /// The file it was read from (for error messages).
    pub file: PathBuf,
    /// The dataset's path inside the file.
    pub name: String,
    /// The dimensions, outermost first (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// The values in row-major order, `shape.iter().product()` of them.
    pub values: ArrayValues,
}

impl ArrayData {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values as f32; an error naming the file and dataset for strings.
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        self.values
            .to_f32()
            .ok_or_else(|| self.unsupported("a numeric type"))
    }

    /// The values as an f32 tensor of the dataset's shape (values unscaled: u8 pixels stay
    /// 0..255).
    pub fn to_tensor(&self) -> Result<Tensor> {
        let data = self.to_f32()?;
        Tensor::try_from_vec(data, &self.shape).map_err(|e| Error::Tensor {
            file: self.file.clone(),
            dataset: self.name.clone(),
            source: Box::new(e),
        })
    }

    /// Integer class labels as `usize`; an error naming the element for a negative value,
    /// and naming the dtype for floats or strings.
    pub fn to_labels(&self) -> Result<Vec<usize>> {
        if !self.values.is_integer() {
            return Err(self.unsupported("an integer type (class labels)"));
        }
        fn labels<T: Copy + TryInto<usize>>(v: &[T]) -> std::result::Result<Vec<usize>, usize> {
            v.iter()
                .enumerate()
                .map(|(i, &e)| e.try_into().map_err(|_| i))
                .collect()
        }
        let labels = match &self.values {
            ArrayValues::U8(v) => labels(v),
            ArrayValues::U16(v) => labels(v),
            ArrayValues::U32(v) => labels(v),
            ArrayValues::U64(v) => labels(v),
            ArrayValues::I8(v) => labels(v),
            ArrayValues::I16(v) => labels(v),
            ArrayValues::I32(v) => labels(v),
            ArrayValues::I64(v) => labels(v),
            ArrayValues::F32(_) | ArrayValues::F64(_) | ArrayValues::Str(_) => Err(0),
        };
        labels.map_err(|i| self.bad_value(i, "a non-negative class index"))
    }

    /// Class names: strings as they are, integers as their decimal text (SIGNS stores its
    /// classes as the integers 0..5).
    pub fn to_class_names(&self) -> Result<Vec<String>> {
        match &self.values {
            ArrayValues::Str(s) => Ok(s.clone()),
            v if v.is_integer() => Ok((0..v.len()).map(|i| v.show(i)).collect()),
            _ => Err(self.unsupported("strings or integers (class names)")),
        }
    }

    fn unsupported(&self, expected: &str) -> Error {
        Error::UnsupportedDtype {
            file: self.file.clone(),
            dataset: self.name.clone(),
            found: self.values.dtype_name().to_string(),
            expected: expected.to_string(),
        }
    }

    fn bad_value(&self, index: usize, expected: impl Into<String>) -> Error {
        Error::BadValue {
            file: self.file.clone(),
            dataset: self.name.clone(),
            index,
            value: self.values.show(index),
            expected: expected.into(),
        }
    }
}

/// A labelled image set: the course's `*_set_x`, `*_set_y` and `list_classes`.
#[derive(Debug, Clone)]
pub struct LabeledImages {
    /// The images, NHWC `[m, height, width, channels]` f32, raw values (0..255 for the
    /// course's u8 pixels: divide by 255 to normalise as the course does).
    pub x: Tensor,
    /// One class index per image, each below `classes.len()`.
    pub y: Vec<usize>,
    /// The class names, indexed by label (`["non-cat", "cat"]`, or `["0", ..., "5"]` for
    /// SIGNS).
    pub classes: Vec<String>,
}

impl LabeledImages {
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

/// Reads one dataset (`name` is its path inside the file: `train_set_x`, `group/data`) with
/// its shape, in the element type it is stored with.
///
/// Supported: 8- to 64-bit integers, f32, f64 (either byte order), fixed- and
/// variable-length strings; contiguous, compact or chunked storage, deflate-compressed or not.
/// The whole file is read into memory (the course's files are 0.6 to 2.6 MB).
pub fn read_h5_dataset(path: impl AsRef<Path>, name: &str) -> Result<ArrayData> {
    H5File::open(path.as_ref())?.read(name)
}

/// The paths of every dataset in the file (groups walked depth first), in the file's order.
pub fn list_h5_datasets(path: impl AsRef<Path>) -> Result<Vec<String>> {
    H5File::open(path.as_ref())?.dataset_names()
}

/// Loads a labelled image set in the course's layout: `x_name` (`[m, h, w, c]`, any numeric
/// type, u8 in the course's files), `y_name` (`[m]`, or `[1, m]` / `[m, 1]`, integers) and
/// `list_classes` (strings or integers), for example
/// `load_course_h5("data/catvnoncat/train_catvnoncat.h5", "train_set_x", "train_set_y")`.
///
/// Checks that x is 4-dimensional, that x and y hold the same number of examples, and that
/// every label indexes `list_classes`; each error names the file and the dataset.
pub fn load_course_h5(path: impl AsRef<Path>, x_name: &str, y_name: &str) -> Result<LabeledImages> {
    let file = H5File::open(path.as_ref())?;

    let x = file.read(x_name)?;
    if x.shape.len() != 4 {
        return Err(Error::BadShape {
            file: x.file.clone(),
            dataset: x.name.clone(),
            shape: x.shape.clone(),
            expected: "4 dimensions [examples, height, width, channels]".to_string(),
        });
    }

    let y = file.read(y_name)?;
    let y_ok = match y.shape.as_slice() {
        [_] => true,
        [a, b] => *a == 1 || *b == 1,
        _ => false,
    };
    if !y_ok {
        return Err(Error::BadShape {
            file: y.file.clone(),
            dataset: y.name.clone(),
            shape: y.shape.clone(),
            expected: "one label per example: [m], [1, m] or [m, 1]".to_string(),
        });
    }
    let labels = y.to_labels()?;
    if labels.len() != x.shape[0] {
        return Err(Error::CountMismatch {
            file: x.file.clone(),
            x_name: x.name.clone(),
            x_count: x.shape[0],
            y_name: y.name.clone(),
            y_count: labels.len(),
        });
    }

    let classes = file.read(CLASSES_NAME)?.to_class_names()?;
    if let Some(i) = labels.iter().position(|&l| l >= classes.len()) {
        return Err(y.bad_value(
            i,
            format!(
                "a class index below {} ('{CLASSES_NAME}' has {} names)",
                classes.len(),
                classes.len()
            ),
        ));
    }

    let x = x.to_tensor()?;
    Ok(LabeledImages {
        x,
        y: labels,
        classes,
    })
}

/// The most groups [`list_h5_datasets`] walks into.
const MAX_GROUPS: usize = 10_000;

/// An open HDF5 file with its path, for error messages.
struct H5File {
    path: PathBuf,
    file: hdf5_pure::File,
}

impl H5File {
    fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound {
                    file: path.to_path_buf(),
                }
            } else {
                Error::Io {
                    file: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let not_hdf5 = |detail: String| Error::WrongFormat {
            file: path.to_path_buf(),
            format: "an HDF5",
            detail,
        };
        if !hdf5_pure::is_hdf5_bytes(&bytes) {
            return Err(not_hdf5(if bytes.is_empty() {
                "the file is empty".to_string()
            } else {
                format!(
                    "no HDF5 signature (\\x89HDF\\r\\n\\x1a\\n) at offset 0, 512, 1024, ... of its \
                     {} bytes",
                    bytes.len()
                )
            }));
        }
        let actual = bytes.len() as u64;
        let file =
            guard(path, None, || hdf5_pure::File::from_bytes(bytes))?.map_err(|e| match e {
                hdf5_pure::Error::Format(FormatError::SignatureNotFound) => {
                    not_hdf5("no HDF5 signature".to_string())
                }
                hdf5_pure::Error::Format(FormatError::UnexpectedEof { .. }) => Error::Truncated {
                    file: path.to_path_buf(),
                    expected: None,
                    actual,
                },
                e => malformed(path, None, e),
            })?;
        let sb = file.superblock();
        let expected = sb.base_address.get().saturating_add(sb.eof_address);
        if expected > actual {
            return Err(Error::Truncated {
                file: path.to_path_buf(),
                expected: Some(expected),
                actual,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    fn dataset_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut budget = MAX_GROUPS;
        self.walk(&self.file.root(), "", 0, &mut budget, &mut names)?;
        Ok(names)
    }

    fn walk(
        &self,
        group: &hdf5_pure::Group,
        prefix: &str,
        depth: usize,
        budget: &mut usize,
        names: &mut Vec<String>,
    ) -> Result<()> {
        // HDF5 groups can link back to their ancestors: the depth and group-count bounds keep
        // the walk finite on such (or malicious) files.
        const MAX_DEPTH: usize = 16;
        let ds = self.check(None, || group.datasets())?;
        names.extend(ds.into_iter().map(|n| format!("{prefix}{n}")));
        if depth < MAX_DEPTH {
            for g in self.check(None, || group.groups())? {
                if *budget == 0 {
                    break;
                }
                *budget -= 1;
                let child = self.check(None, || group.group(&g))?;
                self.walk(&child, &format!("{prefix}{g}/"), depth + 1, budget, names)?;
            }
        }
        Ok(())
    }

    /// Runs an hdf5-pure call, turning its errors (and, defensively, any panic on a
    /// malformed file) into [`Error::Malformed`].
    fn check<T>(
        &self,
        dataset: Option<&str>,
        f: impl FnOnce() -> std::result::Result<T, hdf5_pure::Error>,
    ) -> Result<T> {
        guard(&self.path, dataset, f)?.map_err(|e| malformed(&self.path, dataset, e))
    }

    fn read(&self, name: &str) -> Result<ArrayData> {
        let trimmed = name.trim_start_matches('/');
        let ds = match guard(&self.path, Some(name), || self.file.dataset(trimmed))? {
            Ok(ds) => ds,
            Err(e) => {
                // Not found, or found but undecodable: the listing tells which. A file whose
                // groups cannot even be listed is malformed, not missing the dataset.
                let available = match self.dataset_names() {
                    Ok(a) if !a.iter().any(|a| a == trimmed) => a,
                    _ => return Err(malformed(&self.path, Some(name), e)),
                };
                return Err(Error::MissingDataset {
                    file: self.path.clone(),
                    dataset: name.to_string(),
                    available,
                });
            }
        };
        let n = Some(name);
        let shape = self.check(n, || ds.shape())?;
        let shape: Vec<usize> = shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::BadShape {
                file: self.path.clone(),
                dataset: name.to_string(),
                shape: vec![],
                expected: format!("dimensions that fit in memory, not {shape:?}"),
            })?;
        let dtype = self.check(n, || ds.dtype())?;
        let values = match dtype {
            H5Type::U8 => ArrayValues::U8(self.check(n, || ds.read_u8())?),
            H5Type::U16 => ArrayValues::U16(self.check(n, || ds.read_u16())?),
            H5Type::U32 => ArrayValues::U32(self.check(n, || ds.read_u32())?),
            H5Type::U64 => ArrayValues::U64(self.check(n, || ds.read_u64())?),
            H5Type::I8 => ArrayValues::I8(self.check(n, || ds.read_i8())?),
            H5Type::I16 => ArrayValues::I16(self.check(n, || ds.read_i16())?),
            H5Type::I32 => ArrayValues::I32(self.check(n, || ds.read_i32())?),
            H5Type::I64 => ArrayValues::I64(self.check(n, || ds.read_i64())?),
            H5Type::F32 => ArrayValues::F32(self.check(n, || ds.read_f32())?),
            H5Type::F64 => ArrayValues::F64(self.check(n, || ds.read_f64())?),
            H5Type::String | H5Type::VariableLengthString => ArrayValues::Str(
                self.check(n, || ds.read_string())?
                    .into_iter()
                    .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
                    .collect(),
            ),
            other => {
                return Err(Error::UnsupportedDtype {
                    file: self.path.clone(),
                    dataset: name.to_string(),
                    found: other.to_string(),
                    expected: "an integer, float or string type".to_string(),
                })
            }
        };
        let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if numel != Some(values.len()) {
            return Err(Error::Malformed {
                file: self.path.clone(),
                dataset: Some(name.to_string()),
                detail: format!("shape {shape:?} but {} values were read", values.len()),
            });
        }
        Ok(ArrayData {
            file: self.path.clone(),
            name: name.to_string(),
            shape,
            values,
        })
    }
}

fn malformed(path: &Path, dataset: Option<&str>, e: hdf5_pure::Error) -> Error {
    Error::Malformed {
        file: path.to_path_buf(),
        dataset: dataset.map(str::to_string),
        detail: e.to_string(),
    }
}

/// Runs `f`, answering a panic inside hdf5-pure (a bug there on a malformed file) with an
/// error instead of taking the caller down.
fn guard<T>(path: &Path, dataset: Option<&str>, f: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the HDF5 decoder failed".to_string());
        Error::Malformed {
            file: path.to_path_buf(),
            dataset: dataset.map(str::to_string),
            detail: msg,
        }
    })
}

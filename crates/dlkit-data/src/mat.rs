//! MATLAB level-5 MAT-files (`save` in MATLAB 5 to 7.2, `-v6`/`-v7`, and
//! `scipy.io.savemat`), such as the course's football `data.mat`.
//!
//! A small reader of the format's numeric subset: each variable is a matrix element
//! (miMATRIX), either as it is or zlib-compressed (miCOMPRESSED, as MATLAB 7 writes them), in
//! either byte order. Numeric arrays of every class (double, single, 8- to 64-bit integers,
//! logical) are read, whatever smaller type MATLAB stored their values in, and returned
//! with MATLAB's dimensions in row-major order (`X` of 211 rows and 2 columns is
//! `shape [211, 2]`, `values` row by row). Cell arrays, structs, objects, character
//! arrays, sparse and complex arrays are [`Error::Unsupported`] naming the variable, but only
//! when that variable is read. MATLAB 7.3 files are HDF5 files: read them with
//! [`crate::read_h5_dataset`].
//!
//! (The `matfile` crate was considered: its errors do not say what is wrong or where, it
//! prints to stderr, and it can panic on some malformed files.)

use std::io::Read;
use std::path::Path;

use crate::csv::Table;
use crate::error::{Error, Result};
use crate::h5::{ArrayData, ArrayValues};
use crate::util::{checked_numel, fortran_to_c, read_file, show_bytes, MAX_CLASSES};

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;

/// The football data set of the course (Course 2 week 1): 2-D points and 0/1 labels.
#[derive(Debug, Clone)]
pub struct Football {
    /// `X` `[211, 2]` and `y` (106 ones): the training points.
    pub train: Table,
    /// `Xval` `[200, 2]` and `yval` (87 ones): the points the course tests on.
    pub test: Table,
}

/// The names of the variables in a MAT-file, in file order.
pub fn list_mat_variables(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    Ok(MatFile::parse(path, &bytes)?
        .vars
        .into_iter()
        .map(|v| v.name)
        .collect())
}

/// Reads one variable of a MAT-file. An unknown name is [`Error::MissingDataset`] listing
/// the variables the file has.
pub fn read_mat_variable(path: impl AsRef<Path>, name: &str) -> Result<ArrayData> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = MatFile::parse(path, &bytes)?;
    match file.vars.iter().find(|v| v.name == name) {
        Some(v) => v.decode(path),
        None => Err(Error::MissingDataset {
            file: path.to_path_buf(),
            dataset: name.to_string(),
            available: file.vars.iter().map(|v| v.name.clone()).collect(),
        }),
    }
}

/// Reads every variable of a MAT-file, in file order (an unsupported one is an error).
pub fn read_mat(path: impl AsRef<Path>) -> Result<Vec<ArrayData>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    MatFile::parse(path, &bytes)?
        .vars
        .iter()
        .map(|v| v.decode(path))
        .collect()
}

/// Reads a features matrix `x_name` (`[m, n]`, one example per row) and its labels `y_name`
/// (`[m, 1]`, `[1, m]` or `[m]`; integers, or floats that are whole numbers) from a
/// MAT-file as a [`Table`]: features named `"0"`, `"1"`, ..., classes `"0"` up to the
/// largest label.
pub fn load_mat_xy(path: impl AsRef<Path>, x_name: &str, y_name: &str) -> Result<Table> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = MatFile::parse(path, &bytes)?;
    let get = |name: &str| match file.vars.iter().find(|v| v.name == name) {
        Some(v) => v.decode(path),
        None => Err(Error::MissingDataset {
            file: path.to_path_buf(),
            dataset: name.to_string(),
            available: file.vars.iter().map(|v| v.name.clone()).collect(),
        }),
    };
    let x = get(x_name)?;
    if x.shape.len() != 2 {
        return Err(Error::BadShape {
            file: path.to_path_buf(),
            dataset: x_name.to_string(),
            shape: x.shape.clone(),
            expected: "2 dimensions [examples, features]".to_string(),
        });
    }
    let y = get(y_name)?;
    let one_per_example = match y.shape.as_slice() {
        [_] => true,
        [a, b] => *a == 1 || *b == 1,
        _ => false,
    };
    if !one_per_example {
        return Err(Error::BadShape {
            file: path.to_path_buf(),
            dataset: y_name.to_string(),
            shape: y.shape.clone(),
            expected: "one label per example: [m, 1], [1, m] or [m]".to_string(),
        });
    }
    let labels = match &y.values {
        ArrayValues::F32(_) | ArrayValues::F64(_) => {
            let v = y.values.to_f32().unwrap_or_default();
            match v
                .iter()
                .position(|&l| !(l >= 0.0 && l.fract() == 0.0 && l < 1e9))
            {
                Some(i) => {
                    return Err(Error::BadValue {
                        file: path.to_path_buf(),
                        dataset: y_name.to_string(),
                        index: i,
                        value: v[i].to_string(),
                        expected: "a non-negative whole number (a class index)".to_string(),
                    })
                }
                None => v.iter().map(|&l| l as usize).collect(),
            }
        }
        _ => y.to_labels()?,
    };
    if let Some(i) = labels.iter().position(|&l| l >= MAX_CLASSES) {
        return Err(Error::BadValue {
            file: path.to_path_buf(),
            dataset: y_name.to_string(),
            index: i,
            value: labels[i].to_string(),
            expected: format!("a class index below {MAX_CLASSES}"),
        });
    }
    if labels.len() != x.shape[0] {
        return Err(Error::CountMismatch {
            file: path.to_path_buf(),
            x_name: x_name.to_string(),
            x_count: x.shape[0],
            y_name: y_name.to_string(),
            y_count: labels.len(),
        });
    }
    let n_classes = labels.iter().max().map_or(0, |&m| m + 1);
    Ok(Table {
        x: x.to_tensor()?,
        y: labels,
        features: (0..x.shape[1]).map(|i| i.to_string()).collect(),
        classes: (0..n_classes).map(|c| c.to_string()).collect(),
    })
}

/// Loads the course's football `data.mat`: `X`/`y` for training and `Xval`/`yval` for
/// testing, one point per row (the course transposes them to `(2, m)`).
pub fn load_football(path: impl AsRef<Path>) -> Result<Football> {
    let path = path.as_ref();
    Ok(Football {
        train: load_mat_xy(path, "X", "y")?,
        test: load_mat_xy(path, "Xval", "yval")?,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
}

/// The parsed file: its variables' headers, their values still raw.
struct MatFile {
    vars: Vec<Var>,
}

/// One variable: class, dimensions, name, and its real part as stored.
struct Var {
    name: String,
    class: u8,
    complex: bool,
    dims: Vec<usize>,
    data_type: u32,
    data: Vec<u8>,
    endian: Endian,
}

/// A cursor over the sub-elements of a matrix element, for error messages and bounds.
struct Reader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
    endian: Endian,
    /// Where these bytes are, for messages: "variable at byte 128".
    ctx: String,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, detail: String) -> Error {
        Error::Corrupt {
            file: self.path.to_path_buf(),
            format: "MAT-file",
            detail: format!("{}: {detail}", self.ctx),
        }
    }

    /// The next data element: its type and its bytes (small elements packed in their tag
    /// included), moving past the padding to 8 bytes.
    fn element(&mut self, what: &str) -> Result<(u32, &'a [u8])> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < 8 {
            return Err(self.corrupt(format!(
                "the matrix ends before its {what} (at byte {} of {})",
                self.pos,
                self.bytes.len()
            )));
        }
        let first = self.endian.u32(&rest[..4]);
        if first >> 16 != 0 {
            // Small data element format: type in the low half, size in the high half, the
            // data in the tag's second 4 bytes.
            let (ty, n) = (first & 0xffff, (first >> 16) as usize);
            if n > 4 {
                return Err(self.corrupt(format!(
                    "the {what} is a small element of {n} bytes; at most 4 fit"
                )));
            }
            self.pos += 8;
            return Ok((ty, &rest[4..4 + n]));
        }
        let n = self.endian.u32(&rest[4..8]) as usize;
        if rest.len() - 8 < n {
            return Err(self.corrupt(format!(
                "the {what} needs {n} bytes but only {} are left in the matrix",
                rest.len() - 8
            )));
        }
        self.pos += 8 + n.div_ceil(8) * 8;
        self.pos = self.pos.min(self.bytes.len());
        Ok((first, &rest[8..8 + n]))
    }
}

impl MatFile {
    fn parse(path: &Path, bytes: &[u8]) -> Result<MatFile> {
        let bad_magic = |found: String| Error::BadMagic {
            file: path.to_path_buf(),
            format: "a MATLAB 5 MAT",
            expected: "a 128-byte header starting \"MATLAB 5.0 MAT-file\" and ending \"IM\" or \
                       \"MI\""
                .to_string(),
            found,
        };
        if bytes.len() < 128 {
            if bytes.starts_with(b"MATLAB") {
                return Err(Error::TruncatedData {
                    file: path.to_path_buf(),
                    what: "the MAT-file header".to_string(),
                    expected: 128,
                    actual: bytes.len() as u64,
                });
            }
            return Err(bad_magic(show_bytes(&bytes[..bytes.len().min(20)])));
        }
        if bytes.starts_with(b"MATLAB 7.3") || bytes.get(512..520) == Some(b"\x89HDF\r\n\x1a\n") {
            return Err(Error::Unsupported {
                file: path.to_path_buf(),
                format: "MAT-file",
                detail: "this is a MATLAB 7.3 MAT-file, which is an HDF5 file: read its \
                         variables with read_h5_dataset"
                    .to_string(),
            });
        }
        let endian = match &bytes[126..128] {
            b"IM" => Endian::Little,
            b"MI" => Endian::Big,
            _ => {
                return Err(bad_magic(format!(
                    "{} at byte 0 and {} at byte 126",
                    show_bytes(&bytes[..20]),
                    show_bytes(&bytes[126..128])
                )))
            }
        };
        let version = match endian {
            Endian::Little => u16::from_le_bytes([bytes[124], bytes[125]]),
            Endian::Big => u16::from_be_bytes([bytes[124], bytes[125]]),
        };
        if version != 0x0100 {
            return Err(Error::Unsupported {
                file: path.to_path_buf(),
                format: "MAT-file",
                detail: format!("header version 0x{version:04x}; expected 0x0100 (level 5)"),
            });
        }
        // The subsystem data (class definitions of objects), which holds no variable.
        let subsys = u64::from_le_bytes(bytes[116..124].try_into().unwrap_or_default());
        let subsys = (subsys != 0 && subsys != 0x2020_2020_2020_2020)
            .then(|| match endian {
                Endian::Little => subsys,
                Endian::Big => subsys.swap_bytes(),
            })
            .and_then(|s| usize::try_from(s).ok());

        let mut vars = Vec::new();
        let mut pos = 128;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            if rest.len() < 8 {
                return Err(Error::TruncatedData {
                    file: path.to_path_buf(),
                    what: format!("the tag of the element at byte {pos}"),
                    expected: pos as u64 + 8,
                    actual: bytes.len() as u64,
                });
            }
            let ty = endian.u32(&rest[..4]);
            let n = endian.u32(&rest[4..8]) as usize;
            if ty >> 16 != 0 {
                return Err(Error::Corrupt {
                    file: path.to_path_buf(),
                    format: "MAT-file",
                    detail: format!(
                        "the element at byte {pos} has the tag 0x{ty:08x}; expected a matrix \
                         (14) or compressed (15) element"
                    ),
                });
            }
            let end = pos + 8 + n;
            if end > bytes.len() {
                return Err(Error::TruncatedData {
                    file: path.to_path_buf(),
                    what: format!("the {n}-byte element at byte {pos}"),
                    expected: end as u64,
                    actual: bytes.len() as u64,
                });
            }
            let body = &rest[8..8 + n];
            let ctx = format!("the variable at byte {pos}");
            if Some(pos) != subsys {
                match ty {
                    MI_COMPRESSED => {
                        let inflated = inflate(path, body, endian, &ctx)?;
                        let mut r = Reader {
                            path,
                            bytes: &inflated,
                            pos: 0,
                            endian,
                            ctx: ctx.clone(),
                        };
                        let (inner, content) = r.element("matrix")?;
                        if inner != MI_MATRIX {
                            return Err(r.corrupt(format!(
                                "the compressed element holds an element of type {inner}; \
                                 expected a matrix (14)"
                            )));
                        }
                        vars.extend(Var::parse(path, content, endian, &ctx)?);
                    }
                    MI_MATRIX => vars.extend(Var::parse(path, body, endian, &ctx)?),
                    other => {
                        return Err(Error::Corrupt {
                            file: path.to_path_buf(),
                            format: "MAT-file",
                            detail: format!(
                                "the element at byte {pos} has type {other}; expected a matrix \
                                 (14) or compressed (15) element"
                            ),
                        })
                    }
                }
            }
            // Compressed elements are not padded; the others end on 8-byte boundaries.
            pos = if ty == MI_COMPRESSED {
                end
            } else {
                (128 + (end - 128).div_ceil(8) * 8).min(bytes.len())
            };
        }
        Ok(MatFile { vars })
    }
}

/// Decompresses a miCOMPRESSED element's zlib stream: the inner tag first, then exactly the
/// bytes it announces (so the allocation follows the data, not a size read from the file).
fn inflate(path: &Path, body: &[u8], endian: Endian, ctx: &str) -> Result<Vec<u8>> {
    let corrupt = |detail: String| Error::Corrupt {
        file: path.to_path_buf(),
        format: "MAT-file",
        detail: format!("{ctx}: {detail}"),
    };
    let mut z = flate2::read::ZlibDecoder::new(body);
    let mut out = Vec::new();
    (&mut z)
        .take(8)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("the zlib stream cannot be decompressed: {e}")))?;
    if out.len() < 8 {
        return Err(corrupt(format!(
            "the zlib stream holds {} bytes; expected at least an 8-byte tag",
            out.len()
        )));
    }
    let n = u64::from(endian.u32(&out[4..8]));
    (&mut z)
        .take(n)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("the zlib stream cannot be decompressed: {e}")))?;
    if (out.len() as u64) < 8 + n {
        return Err(corrupt(format!(
            "the zlib stream ends after {} bytes but its matrix needs {}",
            out.len(),
            8 + n
        )));
    }
    Ok(out)
}

fn class_name(class: u8) -> &'static str {
    match class {
        1 => "cell",
        2 => "struct",
        3 => "object",
        4 => "char",
        5 => "sparse",
        6 => "double",
        7 => "single",
        8 => "int8",
        9 => "uint8",
        10 => "int16",
        11 => "uint16",
        12 => "int32",
        13 => "uint32",
        14 => "int64",
        15 => "uint64",
        16 => "function handle",
        17 => "opaque",
        _ => "unknown",
    }
}

impl Var {
    /// Parses a matrix element's header and keeps its real part raw. An empty matrix
    /// element (no sub-elements) holds no variable.
    fn parse(path: &Path, content: &[u8], endian: Endian, ctx: &str) -> Result<Option<Var>> {
        if content.is_empty() {
            return Ok(None);
        }
        let mut r = Reader {
            path,
            bytes: content,
            pos: 0,
            endian,
            ctx: ctx.to_string(),
        };
        let (ty, flags) = r.element("array flags")?;
        if ty != MI_UINT32 || flags.len() != 8 {
            return Err(r.corrupt(format!(
                "the array flags are of type {ty} and {} bytes; expected type 6 (uint32) and 8 \
                 bytes",
                flags.len()
            )));
        }
        let word = endian.u32(flags);
        let class = (word & 0xff) as u8;
        let complex = word & 0x800 != 0;
        let (ty, dims_raw) = r.element("dimensions")?;
        if ty != MI_INT32 || dims_raw.len() % 4 != 0 || dims_raw.len() < 8 {
            return Err(r.corrupt(format!(
                "the dimensions are of type {ty} and {} bytes; expected type 5 (int32) and at \
                 least 2 of them",
                dims_raw.len()
            )));
        }
        let dims: Vec<i32> = dims_raw
            .chunks_exact(4)
            .map(|c| endian.u32(c) as i32)
            .collect();
        let Some(dims) = dims
            .iter()
            .map(|&d| usize::try_from(d).ok())
            .collect::<Option<Vec<usize>>>()
        else {
            return Err(r.corrupt(format!("negative dimensions {dims:?}")));
        };
        let (ty, name) = r.element("name")?;
        if ty != MI_INT8 && ty != MI_UINT8 && ty != MI_UTF8 {
            return Err(r.corrupt(format!("the name is of type {ty}; expected type 1 (int8)")));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        r.ctx = format!("variable '{name}'");
        let (data_type, data) = if (6..=15).contains(&class) && !complex {
            let (ty, data) = r.element("values")?;
            (ty, data.to_vec())
        } else {
            (0, Vec::new())
        };
        Ok(Some(Var {
            name,
            class,
            complex,
            dims,
            data_type,
            data,
            endian,
        }))
    }

    /// The values in the variable's class, row-major for its dimensions.
    fn decode(&self, path: &Path) -> Result<ArrayData> {
        let unsupported = |detail: String| Error::Unsupported {
            file: path.to_path_buf(),
            format: "MAT-file",
            detail: format!("variable '{}' {detail}", self.name),
        };
        let corrupt = |detail: String| Error::Corrupt {
            file: path.to_path_buf(),
            format: "MAT-file",
            detail: format!("variable '{}': {detail}", self.name),
        };
        if !(6..=15).contains(&self.class) {
            return Err(unsupported(format!(
                "is a {} array; only numeric arrays (double, single, integer, logical) are \
                 supported",
                class_name(self.class)
            )));
        }
        if self.complex {
            return Err(unsupported(format!(
                "is a complex {} array; only real arrays are supported",
                class_name(self.class)
            )));
        }
        let n = checked_numel(&self.dims)
            .ok_or_else(|| corrupt(format!("the dimensions {:?} overflow", self.dims)))?;
        let size = match self.data_type {
            MI_INT8 | MI_UINT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
            t => {
                return Err(corrupt(format!(
                    "values of data type {t}; expected a numeric type"
                )))
            }
        };
        if n.checked_mul(size) != Some(self.data.len()) {
            return Err(corrupt(format!(
                "dimensions {:?} need {n} values of {size} bytes but {} bytes are stored",
                self.dims,
                self.data.len()
            )));
        }
        let stored = self.stored();
        let out_of_range = |i: usize| {
            corrupt(format!(
                "value {i} ({}) does not fit the class {}",
                stored.show(i),
                class_name(self.class)
            ))
        };
        let values = match self.class {
            6 => ArrayValues::F64(stored.to_f64()),
            7 => ArrayValues::F32(stored.to_f64().into_iter().map(|v| v as f32).collect()),
            8 => ArrayValues::I8(stored.to_int().map_err(out_of_range)?),
            9 => ArrayValues::U8(stored.to_int().map_err(out_of_range)?),
            10 => ArrayValues::I16(stored.to_int().map_err(out_of_range)?),
            11 => ArrayValues::U16(stored.to_int().map_err(out_of_range)?),
            12 => ArrayValues::I32(stored.to_int().map_err(out_of_range)?),
            13 => ArrayValues::U32(stored.to_int().map_err(out_of_range)?),
            14 => ArrayValues::I64(stored.to_int().map_err(out_of_range)?),
            _ => ArrayValues::U64(stored.to_int().map_err(out_of_range)?),
        };
        let values = match values {
            ArrayValues::F64(v) => ArrayValues::F64(fortran_to_c(&v, &self.dims)),
            ArrayValues::F32(v) => ArrayValues::F32(fortran_to_c(&v, &self.dims)),
            ArrayValues::I8(v) => ArrayValues::I8(fortran_to_c(&v, &self.dims)),
            ArrayValues::U8(v) => ArrayValues::U8(fortran_to_c(&v, &self.dims)),
            ArrayValues::I16(v) => ArrayValues::I16(fortran_to_c(&v, &self.dims)),
            ArrayValues::U16(v) => ArrayValues::U16(fortran_to_c(&v, &self.dims)),
            ArrayValues::I32(v) => ArrayValues::I32(fortran_to_c(&v, &self.dims)),
            ArrayValues::U32(v) => ArrayValues::U32(fortran_to_c(&v, &self.dims)),
            ArrayValues::I64(v) => ArrayValues::I64(fortran_to_c(&v, &self.dims)),
            ArrayValues::U64(v) => ArrayValues::U64(fortran_to_c(&v, &self.dims)),
            ArrayValues::Str(v) => ArrayValues::Str(v),
        };
        Ok(ArrayData {
            file: path.to_path_buf(),
            name: self.name.clone(),
            shape: self.dims.clone(),
            values,
        })
    }

    /// The stored values, widened: integers to i128, floats to f64.
    fn stored(&self) -> Stored {
        let b = &self.data;
        let e = self.endian;
        macro_rules! ints {
            ($t:ty, $n:expr) => {
                Stored::Int(
                    b.chunks_exact($n)
                        .map(|c| {
                            let a: [u8; $n] = c.try_into().unwrap_or([0; $n]);
                            i128::from(match e {
                                Endian::Little => <$t>::from_le_bytes(a),
                                Endian::Big => <$t>::from_be_bytes(a),
                            })
                        })
                        .collect(),
                )
            };
        }
        macro_rules! floats {
            ($t:ty, $n:expr) => {
                Stored::Float(
                    b.chunks_exact($n)
                        .map(|c| {
                            let a: [u8; $n] = c.try_into().unwrap_or([0; $n]);
                            f64::from(match e {
                                Endian::Little => <$t>::from_le_bytes(a),
                                Endian::Big => <$t>::from_be_bytes(a),
                            })
                        })
                        .collect(),
                )
            };
        }
        match self.data_type {
            MI_INT8 => ints!(i8, 1),
            MI_UINT8 => ints!(u8, 1),
            MI_INT16 => ints!(i16, 2),
            MI_UINT16 => ints!(u16, 2),
            MI_INT32 => ints!(i32, 4),
            MI_UINT32 => ints!(u32, 4),
            MI_INT64 => ints!(i64, 8),
            MI_UINT64 => ints!(u64, 8),
            MI_SINGLE => floats!(f32, 4),
            _ => floats!(f64, 8),
        }
    }
}

/// Values as stored, before conversion to the variable's class.
enum Stored {
    Int(Vec<i128>),
    Float(Vec<f64>),
}

impl Stored {
    fn to_f64(&self) -> Vec<f64> {
        match self {
            Stored::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Stored::Float(v) => v.clone(),
        }
    }

    /// The values in an integer class; `Err(i)` for the first that does not fit.
    fn to_int<T: TryFrom<i128>>(&self) -> std::result::Result<Vec<T>, usize> {
        match self {
            Stored::Int(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| T::try_from(x).map_err(|_| i))
                .collect(),
            Stored::Float(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    if x.fract() == 0.0 && x.abs() < 1.7e38 {
                        T::try_from(x as i128).map_err(|_| i)
                    } else {
                        Err(i)
                    }
                })
                .collect(),
        }
    }

    fn show(&self, i: usize) -> String {
        match self {
            Stored::Int(v) => v.get(i).map(|x| x.to_string()),
            Stored::Float(v) => v.get(i).map(|x| x.to_string()),
        }
        .unwrap_or_default()
    }
}

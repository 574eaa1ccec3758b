//! NumPy's `.npy` files and `.npz` archives (`numpy.save`, `numpy.savez`,
//! `numpy.savez_compressed`), on the `npyz` crate for the header and values and the `zip`
//! crate for the archives.
//!
//! Supported element types: bool (read as u8 0/1), signed and unsigned integers of 1 to 8
//! bytes, f32 and f64, in either byte order. Arrays saved in Fortran order are reordered to
//! row-major (C) order, so `values` is always row-major for `shape`. Other types (float16,
//! complex, strings, structured and object arrays) are [`Error::UnsupportedDtype`] naming the
//! array and its NumPy type.

use std::io::Read;
use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use crate::error::{Error, Result};
use crate::h5::{ArrayData, ArrayValues};
use crate::util::{checked_numel, fortran_to_c, read_file, show_bytes};

/// The six bytes every `.npy` file starts with.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";
/// The four bytes a zip archive (and so an `.npz`) starts with.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Reads a `.npy` file: its shape and its values in row-major order, in the stored type.
/// `name` is the file name.
///
/// Errors: [`Error::BadMagic`] for a file that is not NPY, [`Error::TruncatedData`] for one
/// shorter than its header says, [`Error::Corrupt`] for an unreadable header or extra bytes
/// after the data, [`Error::UnsupportedDtype`] for types other than bool, integers, f32, f64.
pub fn read_npy(path: impl AsRef<Path>) -> Result<ArrayData> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    parse_npy(path, &name, None, &bytes)
}

/// The names of the arrays in a `.npz` archive, in archive order (`savez(f, x=..., y=...)`
/// gives `["x", "y"]`; positional arrays are `arr_0`, `arr_1`, ...).
pub fn list_npz(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let archive = open_npz(path)?;
    Ok(array_names(&archive))
}

/// Reads the array `name` from a `.npz` archive (compressed or not); `name` is the keyword
/// it was saved under, with or without `.npy`. An unknown name is
/// [`Error::MissingDataset`] listing the arrays the archive has.
pub fn read_npz(path: impl AsRef<Path>, name: &str) -> Result<ArrayData> {
    let path = path.as_ref();
    let mut archive = open_npz(path)?;
    let name = name.strip_suffix(".npy").unwrap_or(name);
    let Some(index) = archive.index_for_name(&format!("{name}.npy")) else {
        return Err(Error::MissingDataset {
            file: path.to_path_buf(),
            dataset: name.to_string(),
            available: array_names(&archive),
        });
    };
    read_entry(path, &mut archive, index, name)
}

/// Reads every array of a `.npz` archive, in archive order.
pub fn read_npz_all(path: impl AsRef<Path>) -> Result<Vec<ArrayData>> {
    let path = path.as_ref();
    let mut archive = open_npz(path)?;
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let Some(name) = archive
            .name_for_index(index)
            .and_then(|n| n.ok())
            .and_then(|n| n.strip_suffix(".npy").map(str::to_string))
        else {
            continue;
        };
        out.push(read_entry(path, &mut archive, index, &name)?);
    }
    Ok(out)
}

type Archive = zip::ZipArchive<std::io::Cursor<Vec<u8>>>;

fn open_npz(path: &Path) -> Result<Archive> {
    let bytes = read_file(path)?;
    // An empty archive (savez with no arrays) starts with the end-of-directory record.
    if !bytes.starts_with(ZIP_MAGIC) && !bytes.starts_with(b"PK\x05\x06") {
        return Err(Error::BadMagic {
            file: path.to_path_buf(),
            format: "an NPZ (zip)",
            expected: "0x504b0304 (\"PK..\", a zip archive as numpy.savez writes)".to_string(),
            found: show_bytes(&bytes[..bytes.len().min(4)]),
        });
    }
    let len = bytes.len();
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| Error::Corrupt {
        file: path.to_path_buf(),
        format: "NPZ (zip)",
        detail: format!(
            "{e}; a zip archive ends with its directory, so a truncated copy ({len} bytes here) \
             fails this way: download or copy it again"
        ),
    })
}

fn array_names(archive: &Archive) -> Vec<String> {
    archive
        .file_names()
        .filter_map(|n| n.ok()?.strip_suffix(".npy").map(str::to_string))
        .collect()
}

fn read_entry(path: &Path, archive: &mut Archive, index: usize, name: &str) -> Result<ArrayData> {
    let corrupt = |e: &dyn std::fmt::Display| Error::Corrupt {
        file: path.to_path_buf(),
        format: "NPZ (zip)",
        detail: format!("array '{name}': {e}"),
    };
    let mut entry = archive.by_index(index).map_err(|e| corrupt(&e))?;
    // Read at most what the directory announces (plus one byte, to notice a lie), so that a
    // damaged entry cannot make us allocate without bound.
    let declared = entry.size();
    let mut bytes = Vec::new();
    (&mut entry)
        .take(declared.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| corrupt(&e))?;
    if bytes.len() as u64 != declared {
        return Err(corrupt(&format!(
            "the archive's directory says {declared} bytes but the entry holds {}",
            bytes.len()
        )));
    }
    drop(entry);
    parse_npy(path, name, Some(name), &bytes)
}

/// Parses the bytes of one `.npy` file; `array` names the array inside an archive, for
/// error messages.
fn parse_npy(path: &Path, name: &str, array: Option<&str>, bytes: &[u8]) -> Result<ArrayData> {
    let ctx = array.map_or_else(String::new, |a| format!("array '{a}': "));
    let format = if array.is_some() {
        "an NPY array"
    } else {
        "an NPY"
    };
    let truncated = |what: &str, expected: u64| Error::TruncatedData {
        file: path.to_path_buf(),
        what: format!("{ctx}{what}"),
        expected,
        actual: bytes.len() as u64,
    };
    if !bytes.starts_with(NPY_MAGIC) {
        if bytes.len() < NPY_MAGIC.len() && NPY_MAGIC.starts_with(bytes) && !bytes.is_empty() {
            return Err(truncated("the NPY magic number", NPY_MAGIC.len() as u64));
        }
        return Err(Error::BadMagic {
            file: path.to_path_buf(),
            format,
            expected: "0x934e554d5059 (\"\\x93NUMPY\")".to_string(),
            found: show_bytes(&bytes[..bytes.len().min(6)]),
        });
    }
    // The preamble: version (2 bytes), then the header length (u16 in version 1, u32 after).
    let header_end = match bytes.get(6) {
        Some(1) if bytes.len() >= 10 => 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as u64,
        Some(2 | 3) if bytes.len() >= 12 => {
            12 + u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as u64
        }
        Some(1) => return Err(truncated("the NPY preamble", 10)),
        Some(2 | 3) | None => return Err(truncated("the NPY preamble", 12)),
        Some(v) => {
            return Err(Error::Unsupported {
                file: path.to_path_buf(),
                format: "NPY",
                detail: format!("{ctx}format version {v}; versions 1, 2 and 3 are supported"),
            })
        }
    };
    if (bytes.len() as u64) < header_end {
        return Err(truncated("the NPY header", header_end));
    }

    let mut rest = bytes;
    let header = npyz::NpyHeader::from_reader(&mut rest).map_err(|e| Error::Corrupt {
        file: path.to_path_buf(),
        format: "NPY",
        detail: format!("{ctx}the header cannot be parsed: {e}"),
    })?;
    let header_len = (bytes.len() - rest.len()) as u64;

    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<_>>()
        .unwrap_or_default();
    let unsupported = |found: String| Error::UnsupportedDtype {
        file: path.to_path_buf(),
        dataset: name.to_string(),
        found,
        expected: "bool, an integer type, f32 or f64 (convert with arr.astype(np.float32))"
            .to_string(),
    };
    let dtype = header.dtype();
    let ts = match &dtype {
        DType::Plain(ts) => ts.clone(),
        DType::Record(_) => {
            return Err(unsupported(format!("a structured dtype {}", dtype.descr())))
        }
        DType::Array(..) => {
            return Err(unsupported(format!("a sub-array dtype {}", dtype.descr())))
        }
    };
    let kind = (ts.type_char(), ts.size_field());
    let item = match kind {
        (TypeChar::Bool, 1) | (TypeChar::Int | TypeChar::Uint, 1) => 1usize,
        (TypeChar::Int | TypeChar::Uint, 2) => 2,
        (TypeChar::Int | TypeChar::Uint, 4) | (TypeChar::Float, 4) => 4,
        (TypeChar::Int | TypeChar::Uint, 8) | (TypeChar::Float, 8) => 8,
        _ => return Err(unsupported(format!("'{ts}'"))),
    };
    let need = checked_numel(&shape)
        .filter(|_| shape.len() == header.shape().len())
        .and_then(|n| n.checked_mul(item))
        .ok_or_else(|| Error::Corrupt {
            file: path.to_path_buf(),
            format: "NPY",
            detail: format!(
                "{ctx}the shape {:?} is too large to hold in memory",
                header.shape()
            ),
        })? as u64;
    let total = header_len + need;
    let have = bytes.len() as u64;
    if have < total {
        return Err(truncated(
            &format!("its header's shape {shape:?} of '{ts}' values"),
            total,
        ));
    }
    if have > total {
        return Err(Error::Corrupt {
            file: path.to_path_buf(),
            format: "NPY",
            detail: format!(
                "{ctx}its header's shape {shape:?} of '{ts}' values accounts for {total} bytes \
                 but the file has {have}"
            ),
        });
    }

    let order = header.order();
    let file = NpyFile::with_header(header, rest);
    let bad_data = |e: std::io::Error| Error::Corrupt {
        file: path.to_path_buf(),
        format: "NPY",
        detail: format!("{ctx}{e}"),
    };
    let values = match kind {
        (TypeChar::Bool, _) => ArrayValues::U8(
            file.into_vec::<bool>()
                .map_err(bad_data)?
                .into_iter()
                .map(u8::from)
                .collect(),
        ),
        (TypeChar::Uint, 1) => ArrayValues::U8(file.into_vec().map_err(bad_data)?),
        (TypeChar::Uint, 2) => ArrayValues::U16(file.into_vec().map_err(bad_data)?),
        (TypeChar::Uint, 4) => ArrayValues::U32(file.into_vec().map_err(bad_data)?),
        (TypeChar::Uint, _) => ArrayValues::U64(file.into_vec().map_err(bad_data)?),
        (TypeChar::Int, 1) => ArrayValues::I8(file.into_vec().map_err(bad_data)?),
        (TypeChar::Int, 2) => ArrayValues::I16(file.into_vec().map_err(bad_data)?),
        (TypeChar::Int, 4) => ArrayValues::I32(file.into_vec().map_err(bad_data)?),
        (TypeChar::Int, _) => ArrayValues::I64(file.into_vec().map_err(bad_data)?),
        (_, 4) => ArrayValues::F32(file.into_vec().map_err(bad_data)?),
        _ => ArrayValues::F64(file.into_vec().map_err(bad_data)?),
    };
    let values = if order == Order::Fortran {
        reorder(&values, &shape)
    } else {
        values
    };
    Ok(ArrayData {
        file: path.to_path_buf(),
        name: name.to_string(),
        shape,
        values,
    })
}

/// Fortran-ordered values in row-major order.
fn reorder(v: &ArrayValues, shape: &[usize]) -> ArrayValues {
    match v {
        ArrayValues::U8(v) => ArrayValues::U8(fortran_to_c(v, shape)),
        ArrayValues::U16(v) => ArrayValues::U16(fortran_to_c(v, shape)),
        ArrayValues::U32(v) => ArrayValues::U32(fortran_to_c(v, shape)),
        ArrayValues::U64(v) => ArrayValues::U64(fortran_to_c(v, shape)),
        ArrayValues::I8(v) => ArrayValues::I8(fortran_to_c(v, shape)),
        ArrayValues::I16(v) => ArrayValues::I16(fortran_to_c(v, shape)),
        ArrayValues::I32(v) => ArrayValues::I32(fortran_to_c(v, shape)),
        ArrayValues::I64(v) => ArrayValues::I64(fortran_to_c(v, shape)),
        ArrayValues::F32(v) => ArrayValues::F32(fortran_to_c(v, shape)),
        ArrayValues::F64(v) => ArrayValues::F64(fortran_to_c(v, shape)),
        ArrayValues::Str(v) => ArrayValues::Str(fortran_to_c(v, shape)),
    }
}

//! Helpers shared by the readers: reading a file with errors that name it, gzip detection and
//! decompression, column-major to row-major reordering.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest number of classes that integer labels may imply (`"0"` up to the largest
/// label): a larger label is taken for a mistake (an id column, a regression target) rather
/// than allocating that many class names.
pub(crate) const MAX_CLASSES: usize = 1 << 16;

/// The two bytes every gzip stream starts with.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Maps an I/O error on `path` to [`Error::NotFound`] or [`Error::Io`].
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
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
}

/// Reads the whole file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(path, e))
}

/// Whether the bytes start like a gzip stream.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decompresses a whole gzip file (every member, as `gzip -d` does), checking its CRC.
/// A stream that stops early is [`Error::TruncatedData`] (`what` says what the stream holds);
/// any other decoding failure is [`Error::Corrupt`].
pub(crate) fn gunzip(path: &Path, bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(bytes);
    match dec.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => Err(gzip_error(path, e, what, out.len() as u64)),
    }
}

/// The error for a failed read from a gzip or zlib stream after `got` decompressed bytes.
pub(crate) fn gzip_error(path: &Path, e: std::io::Error, what: &str, got: u64) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::Corrupt {
            file: path.to_path_buf(),
            format: "gzip",
            detail: format!(
                "the compressed stream of {what} ends early, after {got} decompressed bytes; \
                 the file is truncated: download or copy it again"
            ),
        }
    } else {
        Error::Corrupt {
            file: path.to_path_buf(),
            format: "gzip",
            detail: format!("{e} (after {got} decompressed bytes of {what})"),
        }
    }
}

/// Reorders `data`, stored column-major (Fortran order: the first index varies fastest) with
/// dimensions `shape`, into row-major (C) order with the same `shape`.
pub(crate) fn fortran_to_c<T: Clone>(data: &[T], shape: &[usize]) -> Vec<T> {
    let n = data.len();
    if shape.len() < 2 || n == 0 {
        return data.to_vec();
    }
    // Column-major strides of each dimension.
    let mut f_strides = vec![1usize; shape.len()];
    for d in 1..shape.len() {
        f_strides[d] = f_strides[d - 1] * shape[d - 1];
    }
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    let mut src = 0usize;
    for _ in 0..n {
        out.push(data[src].clone());
        // Advance the row-major multi-index (last dimension fastest), tracking `src`.
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            src += f_strides[d];
            if idx[d] < shape[d] {
                break;
            }
            src -= f_strides[d] * shape[d];
            idx[d] = 0;
        }
    }
    out
}

/// The product of the dimensions, `None` on overflow.
pub(crate) fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// The first bytes of a file as text for an error message: hex, with printable ASCII shown.
pub(crate) fn show_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".to_string();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("0x{hex} (\"{ascii}\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_to_c_matches_a_transpose() {
        // A 2x3 matrix [[1, 2, 3], [4, 5, 6]] stored column-major.
        assert_eq!(
            fortran_to_c(&[1, 4, 2, 5, 3, 6], &[2, 3]),
            [1, 2, 3, 4, 5, 6]
        );
        // 2x3x2: element (i, j, k) = 100 i + 10 j + k, stored with i fastest.
        let shape = [2, 3, 2];
        let mut f = Vec::new();
        for k in 0..2 {
            for j in 0..3 {
                for i in 0..2 {
                    f.push(100 * i + 10 * j + k);
                }
            }
        }
        let mut c = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    c.push(100 * i + 10 * j + k);
                }
            }
        }
        assert_eq!(fortran_to_c(&f, &shape), c);
        assert_eq!(fortran_to_c(&[7, 8], &[2]), [7, 8]);
        assert_eq!(fortran_to_c::<u8>(&[], &[0, 3]), Vec::<u8>::new());
    }
}

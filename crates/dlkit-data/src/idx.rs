//! IDX files, the format of MNIST (and Fashion-MNIST, EMNIST, ...), gzipped or not.
//!
//! An IDX file is a big-endian header, two zero bytes, a type code (0x08 u8, 0x09 i8, 0x0B
//! i16, 0x0C i32, 0x0D f32, 0x0E f64), the number of dimensions, one u32 per dimension, then
//! the values in row-major order. MNIST's image files have the magic number 0x00000803 (u8,
//! 3 dimensions `[n, rows, cols]`) and its label files 0x00000801 (u8, 1 dimension `[n]`).
//! A file that starts with the gzip signature (`1f 8b`) is decompressed first, whatever its
//! name, and its CRC is checked.
//!
//! [`read_idx`] reads any IDX file with its shape and type; [`load_idx_images`] and
//! [`load_idx_labels`] read MNIST's two kinds; [`load_idx_pair`] and [`load_mnist`] pair them.

use std::io::Read;
use std::path::{Path, PathBuf};

use dlkit_core::Tensor;

use crate::error::{Error, Result};
use crate::h5::{ArrayData, ArrayValues, LabeledImages};
use crate::util::{checked_numel, gzip_error, io_error, is_gzip, show_bytes};

/// The magic number of an IDX image file: u8 values, 3 dimensions `[n, rows, cols]`.
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX label file: u8 values, 1 dimension `[n]`.
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// The four standard MNIST file names (each also found without its `.gz`).
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// MNIST's training and test sets.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// 60000 images `[60000, 28, 28, 1]` with their labels; classes `"0"` to `"9"`.
    pub train: LabeledImages,
    /// 10000 images `[10000, 28, 28, 1]` with their labels; classes `"0"` to `"9"`.
    pub test: LabeledImages,
}

/// Reads any IDX file (gzipped or not) with its shape, in its stored type: the values as
/// [`ArrayValues`] in row-major order, `name` the file name.
///
/// Errors: [`Error::BadMagic`] for a file that is not IDX, [`Error::TruncatedData`] for one
/// shorter than its header says (for a gzipped file, counting decompressed bytes),
/// [`Error::Corrupt`] for extra bytes after the data or a damaged gzip stream.
pub fn read_idx(path: impl AsRef<Path>) -> Result<ArrayData> {
    read(path.as_ref(), None)
}

/// Reads an IDX image file (magic 0x00000803: u8, `[n, rows, cols]`) as an f32 tensor
/// `[n, rows, cols, 1]` (NHWC with one channel), values unscaled 0..255: divide by 255 for
/// the usual [0, 1] inputs.
pub fn load_idx_images(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let a = read(path, Some(Expect::IMAGES))?;
    let ArrayValues::U8(v) = a.values else {
        unreachable!("the magic number was checked")
    };
    let shape = [a.shape[0], a.shape[1], a.shape[2], 1];
    let data: Vec<f32> = v.iter().map(|&p| f32::from(p)).collect();
    Tensor::try_from_vec(data, &shape).map_err(|e| Error::Tensor {
        file: path.to_path_buf(),
        dataset: "images".to_string(),
        source: Box::new(e),
    })
}

/// Reads an IDX label file (magic 0x00000801: u8, `[n]`) as class indices.
pub fn load_idx_labels(path: impl AsRef<Path>) -> Result<Vec<usize>> {
    let a = read(path.as_ref(), Some(Expect::LABELS))?;
    let ArrayValues::U8(v) = a.values else {
        unreachable!("the magic number was checked")
    };
    Ok(v.into_iter().map(usize::from).collect())
}

/// Reads an image file and its label file and checks that they hold the same number of
/// examples ([`Error::FileCountMismatch`] names both files otherwise). The classes are
/// `"0"` up to the largest label.
pub fn load_idx_pair(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<LabeledImages> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let x = load_idx_images(images)?;
    let y = load_idx_labels(labels)?;
    if x.shape()[0] != y.len() {
        return Err(Error::FileCountMismatch {
            x_file: images.to_path_buf(),
            x_count: x.shape()[0],
            y_file: labels.to_path_buf(),
            y_count: y.len(),
        });
    }
    let n_classes = y.iter().max().map_or(0, |&m| m + 1);
    Ok(LabeledImages {
        x,
        y,
        classes: (0..n_classes).map(|c| c.to_string()).collect(),
    })
}

/// Loads MNIST from `dir`, which holds the four standard files ([`MNIST_FILES`]), gzipped
/// or not: `train-images-idx3-ubyte.gz` or `train-images-idx3-ubyte`, and so on.
///
/// Images are `[n, 28, 28, 1]` f32 with values 0..255; labels are digits 0-9 (a larger one is
/// an [`Error::BadValue`] naming the file and the element) and the classes `"0"` to `"9"`.
pub fn load_mnist(dir: impl AsRef<Path>) -> Result<Mnist> {
    let dir = dir.as_ref();
    let find = |name: &str| -> Result<PathBuf> {
        let gz = dir.join(name);
        if gz.is_file() {
            return Ok(gz);
        }
        let plain = dir.join(name.trim_end_matches(".gz"));
        if plain.is_file() {
            return Ok(plain);
        }
        Err(Error::NotFound { file: gz })
    };
    let split = |images: &str, labels: &str| -> Result<LabeledImages> {
        let labels_path = find(labels)?;
        let mut set = load_idx_pair(find(images)?, &labels_path)?;
        if let Some(i) = set.y.iter().position(|&l| l > 9) {
            return Err(Error::BadValue {
                file: labels_path,
                dataset: "labels".to_string(),
                index: i,
                value: set.y[i].to_string(),
                expected: "a digit 0-9".to_string(),
            });
        }
        set.classes = (0..10).map(|c| c.to_string()).collect();
        Ok(set)
    };
    Ok(Mnist {
        train: split(MNIST_FILES[0], MNIST_FILES[1])?,
        test: split(MNIST_FILES[2], MNIST_FILES[3])?,
    })
}

/// The magic number a caller requires, with the words for error messages.
#[derive(Clone, Copy)]
struct Expect {
    magic: u32,
    format: &'static str,
}

impl Expect {
    const IMAGES: Expect = Expect {
        magic: IDX_IMAGES_MAGIC,
        format: "an IDX image",
    };
    const LABELS: Expect = Expect {
        magic: IDX_LABELS_MAGIC,
        format: "an IDX label",
    };
}

/// The element type of an IDX type code: its name and size in bytes.
fn idx_type(code: u8) -> Option<(&'static str, usize)> {
    Some(match code {
        0x08 => ("u8", 1),
        0x09 => ("i8", 1),
        0x0B => ("i16", 2),
        0x0C => ("i32", 4),
        0x0D => ("f32", 4),
        0x0E => ("f64", 8),
        _ => return None,
    })
}

/// A magic number in words: `0x00000801 (IDX labels: u8, 1 dimension)`.
fn describe_magic(m: u32) -> String {
    let [z0, z1, code, ndim] = m.to_be_bytes();
    match (z0, z1, idx_type(code)) {
        _ if m == IDX_IMAGES_MAGIC => format!("0x{m:08x} (IDX images: u8, 3 dimensions)"),
        _ if m == IDX_LABELS_MAGIC => format!("0x{m:08x} (IDX labels: u8, 1 dimension)"),
        (0, 0, Some((t, _))) if ndim > 0 => {
            let s = if ndim == 1 { "" } else { "s" };
            format!("0x{m:08x} (IDX: {t}, {ndim} dimension{s})")
        }
        _ => format!("0x{m:08x}"),
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the stream.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read(path: &Path, expect: Option<Expect>) -> Result<ArrayData> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let gz = is_gzip(&bytes);
    let mut reader: Box<dyn Read + '_> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    let suffix = if gz { " (decompressed)" } else { "" };
    let format = expect.map_or("an IDX", |e| e.format);
    let stream_err = |e: std::io::Error, got: u64| gzip_error(path, e, "the IDX data", got);
    let truncated = |what: String, expected: u64, actual: u64| Error::TruncatedData {
        file: path.to_path_buf(),
        what: format!("{what}{suffix}"),
        expected,
        actual,
    };

    // Magic number.
    let mut head = [0u8; 4];
    let got = read_full(&mut reader, &mut head).map_err(|e| stream_err(e, 0))?;
    if got == 0 {
        return Err(Error::BadMagic {
            file: path.to_path_buf(),
            format,
            expected: expect.map_or("0x0000TTDD (type TT, DD dimensions)".to_string(), |e| {
                describe_magic(e.magic)
            }),
            found: format!("an empty {}", if gz { "gzip stream" } else { "file" }),
        });
    }
    if got < 4 {
        return Err(truncated("the magic number".into(), 4, got as u64));
    }
    let magic = u32::from_be_bytes(head);
    let [z0, z1, code, ndim] = head;
    let valid = z0 == 0 && z1 == 0 && ndim > 0 && idx_type(code).is_some();
    match expect {
        Some(e) if magic != e.magic => {
            return Err(Error::BadMagic {
                file: path.to_path_buf(),
                format,
                expected: describe_magic(e.magic),
                found: if valid {
                    describe_magic(magic)
                } else {
                    show_bytes(&head)
                },
            })
        }
        None if !valid => {
            return Err(Error::BadMagic {
                file: path.to_path_buf(),
                format,
                expected: "0x0000TTDD (two zero bytes, a type code TT from 0x08 to 0x0e, the \
                           number of dimensions DD)"
                    .to_string(),
                found: show_bytes(&head),
            })
        }
        _ => {}
    }
    let (type_name, size) = idx_type(code).expect("checked above");

    // Dimensions.
    let ndim = usize::from(ndim);
    let header_len = 4 + 4 * ndim;
    let mut dims_raw = vec![0u8; 4 * ndim];
    let got = read_full(&mut reader, &mut dims_raw).map_err(|e| stream_err(e, 4))?;
    if got < dims_raw.len() {
        return Err(truncated(
            format!("the header (magic number and {ndim} dimensions)"),
            header_len as u64,
            (4 + got) as u64,
        ));
    }
    let shape: Vec<usize> = dims_raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let described = format!("its header's shape {shape:?} of {type_name} values");
    let need = checked_numel(&shape)
        .and_then(|n| n.checked_mul(size))
        .ok_or_else(|| Error::Corrupt {
            file: path.to_path_buf(),
            format: "IDX",
            detail: format!("the header's shape {shape:?} is too large to hold in memory"),
        })?;
    let total = need as u64 + header_len as u64;
    if !gz && (bytes.len() as u64) < total {
        return Err(truncated(described, total, bytes.len() as u64));
    }

    // Values: read through `take` so that a bogus header on a small gzip file allocates only
    // what the stream really holds.
    let mut raw = Vec::new();
    let res = (&mut reader).take(need as u64).read_to_end(&mut raw);
    let got = raw.len() as u64 + header_len as u64;
    match res {
        Ok(_) if raw.len() == need => {}
        Ok(_) => return Err(truncated(described, total, got)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(truncated(described, total, got))
        }
        Err(e) => return Err(stream_err(e, got)),
    }
    // Nothing may follow (reading to the end also checks the gzip CRC).
    let extra = std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| stream_err(e, got))?;
    if extra > 0 {
        return Err(Error::Corrupt {
            file: path.to_path_buf(),
            format: "IDX",
            detail: format!(
                "{described} accounts for {total} bytes but {} follow them{suffix}",
                if extra == 1 {
                    "1 more byte".to_string()
                } else {
                    format!("{extra} more bytes")
                }
            ),
        });
    }

    let values = match code {
        0x08 => ArrayValues::U8(raw),
        0x09 => ArrayValues::I8(raw.into_iter().map(|b| b as i8).collect()),
        0x0B => ArrayValues::I16(
            raw.chunks_exact(2)
                .map(|c| i16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ),
        0x0C => ArrayValues::I32(
            raw.chunks_exact(4)
                .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        0x0D => ArrayValues::F32(
            raw.chunks_exact(4)
                .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        _ => ArrayValues::F64(
            raw.chunks_exact(8)
                .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(ArrayData {
        file: path.to_path_buf(),
        name,
        shape,
        values,
    })
}

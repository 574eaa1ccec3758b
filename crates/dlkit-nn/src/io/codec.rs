//! The safetensors codec: tensors to the bytes of one file and back, f32 and f64, little
//! endian, row-major; every way a file can be broken answered in plain words.

use crate::error::{Error, Result};
use dlkit_core::{DType, Tensor};
use safetensors::tensor::{SafeTensorError, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// The whole safetensors file for `(name, tensor)` pairs (f32 or f64), with optional string
/// metadata in its header.
pub fn encode_tensors<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a Tensor)>,
    metadata: Option<HashMap<String, String>>,
) -> std::result::Result<Vec<u8>, String> {
    let encoded: Vec<(&str, Encoded)> = tensors
        .into_iter()
        .map(|(n, t)| (n, Encoded::of(t)))
        .collect();
    safetensors::serialize(encoded.iter().map(|(n, e)| (*n, e)), metadata)
        .map_err(|e| e.to_string())
}

/// Every tensor of the safetensors file `path` as `(name, tensor)` pairs, in the file's order;
/// an error for a broken file or a dtype other than F32 and F64.
pub fn decode_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bytes = super::paths::read_file(path)?;
    let file = parse_safetensors(&bytes, path)?;
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let raw = view.data();
            let t = match view.dtype() {
                safetensors::Dtype::F32 => Tensor::try_from_vec(
                    raw.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                    view.shape(),
                ),
                safetensors::Dtype::F64 => Tensor::try_from_vec(
                    raw.chunks_exact(8)
                        .map(|b| {
                            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                        })
                        .collect(),
                    view.shape(),
                ),
                other => {
                    return Err(Error::file(
                        path,
                        format!("tensor `{name}` has dtype {other:?}; expected F32 or F64"),
                    ))
                }
            }
            .map_err(|e| Error::file(path, format!("tensor `{name}`: {e}")))?;
            Ok((name, t))
        })
        .collect()
}

/// A tensor's bytes, little endian, row-major.
struct Encoded {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Encoded {
    fn of(t: &Tensor) -> Encoded {
        let (dtype, bytes) = match t.dtype() {
            DType::F32 => (
                safetensors::Dtype::F32,
                t.with_data(|d: &[f32]| d.iter().flat_map(|v| v.to_le_bytes()).collect()),
            ),
            DType::F64 => (
                safetensors::Dtype::F64,
                t.with_data(|d: &[f64]| d.iter().flat_map(|v| v.to_le_bytes()).collect()),
            ),
        };
        Encoded {
            dtype,
            shape: t.shape().to_vec(),
            bytes,
        }
    }
}

impl View for &Encoded {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Parses a safetensors file, answering each way it can be broken in plain words.
pub(crate) fn parse_safetensors<'a>(bytes: &'a [u8], path: &Path) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| {
        let len = bytes.len();
        let header_len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
        let msg = match (&e, header_len) {
            (SafeTensorError::HeaderTooSmall, _) => format!(
                "not a safetensors file: {len} bytes is too short to hold the 8-byte header \
                 length (truncated?)"
            ),
            (SafeTensorError::HeaderTooLarge, Some(n)) => format!(
                "corrupt safetensors file: the header length field says {n} bytes, more than \
                 the 100 MB limit (not a safetensors file, or its first bytes are damaged)"
            ),
            (SafeTensorError::InvalidHeaderLength, Some(n)) => format!(
                "corrupt safetensors file: the header length field says {n} bytes, beyond the \
                 end of the file ({len} bytes): truncated, or its first bytes are damaged"
            ),
            (SafeTensorError::InvalidHeader(u), _) => {
                format!("corrupt safetensors file: the header is not UTF-8 text ({u})")
            }
            (SafeTensorError::InvalidHeaderDeserialization(j), _) => {
                format!("corrupt safetensors file: the header is not valid JSON ({j})")
            }
            (SafeTensorError::MetadataIncompleteBuffer, _) => format!(
                "corrupt safetensors file: the tensors the header lists do not fill the \
                 {len}-byte file exactly: truncated, or the header is damaged"
            ),
            (SafeTensorError::InvalidOffset(name), _) => format!(
                "corrupt safetensors file: tensor `{name}` has invalid data offsets (they must \
                 follow one another without gaps)"
            ),
            (SafeTensorError::TensorInvalidInfo, _) => "corrupt safetensors file: a tensor's \
                 shape and dtype do not match the size of its data"
                .to_string(),
            (SafeTensorError::ValidationOverflow, _) => {
                "corrupt safetensors file: a tensor's shape is too large to exist".to_string()
            }
            (other, _) => format!("corrupt safetensors file: {other}"),
        };
        Error::file(path, msg)
    })
}

//! Named tensors in one safetensors file (optimiser state, best-weights snapshots), written
//! atomically and read back with every name checked.

use crate::atomic::write_atomic;
use crate::error::{TrainError, TrainResult};
use dlkit_core::{DType, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::path::Path;

fn fail(path: &Path, msg: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.display().to_string(),
        msg: msg.to_string(),
    }
}

/// Writes `(name, tensor)` pairs (f32 or f64) to `path`.
pub fn write(path: &Path, tensors: &[(String, Tensor)]) -> TrainResult<()> {
    let bytes: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = tensors
        .iter()
        .map(|(n, t)| {
            let (raw, dtype) = match t.dtype() {
                DType::F32 => (
                    t.to_vec::<f32>()
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect(),
                    Dtype::F32,
                ),
                DType::F64 => (
                    t.to_vec::<f64>()
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect(),
                    Dtype::F64,
                ),
            };
            (n.clone(), raw, dtype, t.shape().to_vec())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, raw, dtype, shape)| {
            Ok((
                n.as_str(),
                TensorView::new(*dtype, shape.clone(), raw).map_err(|e| fail(path, e))?,
            ))
        })
        .collect::<TrainResult<Vec<_>>>()?;
    let data = safetensors::serialize(views, None).map_err(|e| fail(path, e))?;
    write_atomic(path, &data).map_err(|e| fail(path, e))
}

/// Reads every tensor of `path` as `(name, tensor)` pairs, in the file's order.
pub fn read(path: &Path) -> TrainResult<Vec<(String, Tensor)>> {
    let data = std::fs::read(path).map_err(|e| fail(path, e))?;
    let st = SafeTensors::deserialize(&data)
        .map_err(|e| fail(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = Vec::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let t = match view.dtype() {
            Dtype::F32 => Tensor::try_from_vec(
                raw.chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                view.shape(),
            ),
            Dtype::F64 => Tensor::try_from_vec(
                raw.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                view.shape(),
            ),
            other => {
                return Err(fail(
                    path,
                    format!("tensor `{name}` has dtype {other:?}; expected F32 or F64"),
                ))
            }
        }
        .map_err(|e| fail(path, e))?;
        out.push((name, t));
    }
    Ok(out)
}

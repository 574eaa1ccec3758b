//! The weights of a module: its named tensors, checked by name, dtype and shape against a
//! safetensors file before any value is copied in; subsets and renamed prefixes
//! ([`WeightsFilter`]) for transfer learning.

use super::codec::{encode_tensors, parse_safetensors};
use super::paths::{read_file, ModelPaths};
use super::FORMAT_VERSION;
use crate::error::{Error, Result};
use crate::module::Module;
use dlkit_core::{DType, Tensor};
use safetensors::tensor::{SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Writes the parameters and buffers of any module to one safetensors file (atomically), for
/// checkpoints and [`load_weights_into`].
pub fn save_weights(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tensors = named_tensors(model);
    let bytes = encode_weights(&tensors)
        .map_err(|e| Error::file(path, format!("cannot encode the weights: {e}")))?;
    super::atomic::write_atomic(path, &bytes).map_err(|e| Error::file(path, e))
}

/// The safetensors file of a module's tensors, its header recording the format version.
pub(crate) fn encode_weights(tensors: &[Named]) -> std::result::Result<Vec<u8>, String> {
    let meta = HashMap::from([(
        "dlkit_format_version".to_string(),
        FORMAT_VERSION.to_string(),
    )]);
    encode_tensors(
        tensors.iter().map(|t| (t.name.as_str(), &t.tensor)),
        Some(meta),
    )
}

/// Which tensors [`load_weights_with`] loads, for transfer learning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeightsFilter {
    /// Loads only the model's tensors under one of these name prefixes (all when empty). A
    /// prefix matches whole name parts: `"1"` selects `"1.weight"`, not `"10.weight"`.
    /// Tensors of the file outside the selection are ignored; those inside must match.
    pub only: Vec<String>,
    /// `(in_file, in_model)`: the model's tensor `in_model + rest` is read from the file's
    /// tensor `in_file + rest`. With `("", "0.")` a network saved on its own loads into the
    /// first layer of a model that wraps it in a nested `Sequential`.
    pub rename: Option<(String, String)>,
}

/// Loads every parameter and buffer of `model` from a weights file (a `.safetensors` file, or
/// a saved model's folder or stem), with the checks of [`load`]: each tensor of the model must
/// be in the file with its dtype and shape, and the file must hold no other tensor.
pub fn load_weights_into(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    load_weights_with(model, path, &WeightsFilter::default()).map(|_| ())
}

/// [`load_weights_into`] restricted by `filter` (a subset of tensors, renamed prefixes).
/// Returns the names of the model's tensors that were loaded. Nothing is copied unless
/// every selected tensor checks out.
pub fn load_weights_with(
    model: &dyn Module,
    path: impl AsRef<Path>,
    filter: &WeightsFilter,
) -> Result<Vec<String>> {
    let path = ModelPaths::weights_of(path.as_ref());
    let bytes = read_file(&path)?;
    let file = parse_safetensors(&bytes, &path)?;
    load_checked(model, &file, &path, filter)
}

/// A named tensor of a module: a parameter or a buffer.
pub(crate) struct Named {
    pub(crate) name: String,
    pub(crate) tensor: Tensor,
}

pub(crate) fn named_tensors(model: &dyn Module) -> Vec<Named> {
    let params = model.parameters().into_iter().map(|p| Named {
        name: p.name,
        tensor: p.tensor,
    });
    let buffers = model
        .buffers()
        .into_iter()
        .map(|(name, tensor)| Named { name, tensor });
    params.chain(buffers).collect()
}

/// What a tensor must be: dtype name and shape.
type Expect = (String, Vec<usize>);

pub(crate) fn expected_specs(tensors: &[Named]) -> BTreeMap<String, Expect> {
    tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                (
                    t.tensor.dtype().name().to_string(),
                    t.tensor.shape().to_vec(),
                ),
            )
        })
        .collect()
}

/// Every difference between the tensors a model expects and those a file holds.
fn compare_tensors(
    expected: &BTreeMap<String, Expect>,
    found: &BTreeMap<String, Expect>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, (dtype, shape)) in expected {
        match found.get(name) {
            None => problems.push(format!(
                "missing tensor `{name}` (expected {dtype} {shape:?})"
            )),
            Some((fd, fs)) => {
                if fd != dtype {
                    problems.push(format!(
                        "tensor `{name}`: expected dtype {dtype} but the file has {fd}"
                    ));
                }
                if fs != shape {
                    problems.push(format!(
                        "tensor `{name}`: expected shape {shape:?} but the file has {fs:?}"
                    ));
                }
            }
        }
    }
    for (name, (dtype, shape)) in found {
        if !expected.contains_key(name) {
            problems.push(format!(
                "unexpected tensor `{name}` ({dtype} {shape:?}) that the model does not have"
            ));
        }
    }
    problems
}

/// Whether `name` lies under `prefix`, by whole name parts.
fn under(name: &str, prefix: &str) -> bool {
    if prefix.is_empty() || prefix.ends_with('.') {
        return name.starts_with(prefix);
    }
    name == prefix || (name.starts_with(prefix) && name.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// Checks the selected tensors of `model` against `file`, then copies them in.
pub(crate) fn load_checked(
    model: &dyn Module,
    file: &SafeTensors<'_>,
    path: &Path,
    filter: &WeightsFilter,
) -> Result<Vec<String>> {
    let selected =
        |name: &str| filter.only.is_empty() || filter.only.iter().any(|p| under(name, p));
    let targets: Vec<Named> = named_tensors(model)
        .into_iter()
        .filter(|t| selected(&t.name))
        .collect();
    if targets.is_empty() && !filter.only.is_empty() {
        return Err(Error::file(
            path,
            format!(
                "the model has no tensor under the prefixes {:?} to load",
                filter.only
            ),
        ));
    }
    // Names in the model's terms.
    let to_model = |file_name: &str| -> Option<String> {
        match &filter.rename {
            Some((in_file, in_model)) => file_name
                .strip_prefix(in_file.as_str())
                .map(|rest| format!("{in_model}{rest}")),
            None => Some(file_name.to_string()),
        }
    };
    let to_file = |model_name: &str| -> String {
        match &filter.rename {
            Some((in_file, in_model)) => match model_name.strip_prefix(in_model.as_str()) {
                Some(rest) => format!("{in_file}{rest}"),
                None => model_name.to_string(),
            },
            None => model_name.to_string(),
        }
    };

    let expected = expected_specs(&targets);
    let mut found = BTreeMap::new();
    let mut views: HashMap<String, TensorView<'_>> = HashMap::new();
    for (fname, view) in file.tensors() {
        let Some(mname) = to_model(&fname).filter(|m| selected(m)) else {
            continue;
        };
        let dtype = match view.dtype() {
            safetensors::Dtype::F32 => "f32".to_string(),
            safetensors::Dtype::F64 => "f64".to_string(),
            other => format!("{other:?} (which dlkit cannot load)"),
        };
        found.insert(mname.clone(), (dtype, view.shape().to_vec()));
        views.insert(mname, view);
    }
    let mut problems = compare_tensors(&expected, &found);
    if filter.rename.is_some() {
        // Name the tensors as the file does, where that differs.
        for p in &mut problems {
            for name in expected.keys().chain(found.keys()) {
                let fname = to_file(name);
                if fname != *name {
                    let quoted = format!("`{name}`");
                    if p.contains(&quoted) {
                        *p = p.replace(&quoted, &format!("`{name}` (`{fname}` in the file)"));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        let shown: Vec<String> = problems.into_iter().take(20).collect();
        let more = if n > shown.len() {
            format!("; and {} more", n - shown.len())
        } else {
            String::new()
        };
        return Err(Error::file(
            path,
            format!(
                "the weights do not fit the model ({n} problem{}): {}{more}",
                if n == 1 { "" } else { "s" },
                shown.join("; ")
            ),
        ));
    }

    // Every check has passed: from here on nothing fails, so no weight changes unless all do.
    for t in &targets {
        let data = views[&t.name].data();
        let size = t.tensor.dtype().size();
        if data.len() != t.tensor.numel() * size {
            // Unreachable after safetensors' own validation; kept so a bad file never panics.
            return Err(Error::file(
                path,
                format!(
                    "tensor `{}`: {} bytes of data for {} elements",
                    to_file(&t.name),
                    data.len(),
                    t.tensor.numel()
                ),
            ));
        }
    }
    for t in &targets {
        let data = views[&t.name].data();
        match t.tensor.dtype() {
            DType::F32 => t.tensor.update::<f32>(|dst| {
                for (d, b) in dst.iter_mut().zip(data.chunks_exact(4)) {
                    *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }),
            DType::F64 => t.tensor.update::<f64>(|dst| {
                for (d, b) in dst.iter_mut().zip(data.chunks_exact(8)) {
                    *d = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                }
            }),
        }
    }
    Ok(targets.into_iter().map(|t| t.name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_name_parts() {
        assert!(under("1.weight", "1"));
        assert!(under("1.weight", "1."));
        assert!(!under("10.weight", "1"));
        assert!(under("10.weight", ""));
        assert!(under("2.0.bias", "2.0"));
        assert!(!under("2.01.bias", "2.0"));
    }
}

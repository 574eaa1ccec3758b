//! Saving a model: its description and weights, checked to rebuild the very model, then
//! written atomically.

use super::atomic::{persist, write_temp};
use super::description::{validate_metadata, ModelInfo, ModelMetadata, WeightsInfo};
use super::load::build_model;
use super::paths::ModelPaths;
use super::weights::{encode_weights, expected_specs, named_tensors};
use super::{FORMAT, FORMAT_VERSION};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::module::Module;
use crate::spec::{BuildContext, LayerSpec};
use dlkit_core::DType;
use std::collections::HashMap;
use std::path::Path;

/// Saves `model`, whose inputs are examples of shape `input_shape` (batch axis excluded), to
/// the folder or file stem `path` (see [`ModelPaths::resolve`]; a missing folder is created).
/// Returns the description written.
///
/// Before anything is written the description is rebuilt and compared with the model, tensor
/// by tensor, so a model that would not load again (a wrong `input_shape`) is an error here
/// and not at load time.
pub fn save(
    model: &dyn Module,
    input_shape: &[usize],
    path: impl AsRef<Path>,
) -> Result<ModelInfo> {
    save_with(model, input_shape, &ModelMetadata::default(), path)
}

/// [`save`] with metadata for the trainer (class names, normalisation statistics, free JSON).
///
/// Any module with a spec saves: a `Sequential` as its list of layers, any other module (a
/// graph, a registered custom layer) as the one layer it is (`single_layer`), loaded again by
/// [`load_module`](super::load_module).
pub fn save_with(
    model: &dyn Module,
    input_shape: &[usize],
    metadata: &ModelMetadata,
    path: impl AsRef<Path>,
) -> Result<ModelInfo> {
    let paths = ModelPaths::resolve(path.as_ref());
    let tensors = named_tensors(model);
    let dtype = tensors.first().map_or(DType::F32, |t| t.tensor.dtype());
    let (layers, single_layer) = match model.spec() {
        Some(LayerSpec::Sequential { layers, .. }) => (layers, false),
        Some(other) => (vec![other], true),
        None => {
            return Err(Error::file(
                &paths.description,
                "cannot save: a layer of the model has no spec (it was built in code only); \
                 save its weights with save_weights instead",
            ))
        }
    };

    // The description must rebuild this very model, or the save could not be loaded.
    let mut ctx = BuildContext::new(dtype, 0, Init::Zeros);
    let (rebuilt, output_shape) = build_model(&layers, single_layer, &mut ctx, input_shape)
        .map_err(|e| {
            Error::file(
                &paths.description,
                format!(
                    "cannot save: the model's layers do not build for input shape {input_shape:?} \
                 (one example, batch axis excluded): {e}"
                ),
            )
        })?;
    let mut problems = Vec::new();
    let mut seen = HashMap::new();
    for t in &tensors {
        if seen.insert(t.name.as_str(), ()).is_some() {
            problems.push(format!("two tensors are named `{}`", t.name));
        }
    }
    let ours = expected_specs(&tensors);
    let again = expected_specs(&named_tensors(&*rebuilt));
    for (name, (dtype, shape)) in &ours {
        match again.get(name) {
            None => problems.push(format!(
                "the model's tensor `{name}` ({dtype} {shape:?}) is not among the rebuilt ones"
            )),
            Some(other) if other != &(dtype.clone(), shape.clone()) => problems.push(format!(
                "tensor `{name}` is {dtype} {shape:?} in the model but {} {:?} rebuilt",
                other.0, other.1
            )),
            Some(_) => {}
        }
    }
    for (name, (dtype, shape)) in &again {
        if !ours.contains_key(name) {
            problems.push(format!(
                "the rebuilt layers have a tensor `{name}` ({dtype} {shape:?}) that the model lacks"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::file(
            &paths.description,
            format!(
                "cannot save: the layers, built again for input shape {input_shape:?} (one \
                 example, batch axis excluded), do not give the model's tensors: {}. Check the \
                 input shape; if it is right, a layer's spec() does not describe it fully",
                problems.join("; ")
            ),
        ));
    }
    validate_metadata(metadata, &output_shape).map_err(|(f, m)| {
        Error::file(
            &paths.description,
            format!("cannot save: metadata.{f}: {m}"),
        )
    })?;

    let weights = encode_weights(&tensors)
        .map_err(|e| Error::file(&paths.weights, format!("cannot encode the weights: {e}")))?;
    let info = ModelInfo {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        dtype,
        input_shape: input_shape.to_vec(),
        output_shape,
        layers,
        single_layer,
        weights: Some(WeightsInfo {
            tensors: tensors.len(),
            parameters: model.parameters().iter().map(|p| p.tensor.numel()).sum(),
            bytes: weights.len() as u64,
            checksum: checksum(&weights),
        }),
        metadata: metadata.clone(),
    };
    let mut json = serde_json::to_string_pretty(&info).map_err(|e| {
        Error::file(
            &paths.description,
            format!("cannot encode the description: {e}"),
        )
    })?;
    json.push('\n');

    for p in [&paths.description, &paths.weights] {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::file(dir, format!("cannot create the folder: {e}")))?;
        }
    }
    // Both files are written in full before either replaces anything.
    let (w, d) = (&paths.weights, &paths.description);
    let weights_tmp = write_temp(w, &weights).map_err(|e| Error::file(w, e))?;
    let json_tmp = write_temp(d, json.as_bytes()).map_err(|e| Error::file(d, e))?;
    persist(weights_tmp, w).map_err(|e| Error::file(w, e))?;
    persist(json_tmp, d).map_err(|e| Error::file(d, e))?;
    Ok(info)
}

/// FNV-1a, 64 bit, as `fnv1a64:` and 16 hex digits.
pub(crate) fn checksum(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(checksum(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(checksum(b"a"), "fnv1a64:af63dc4c8601ec8c");
        assert_eq!(checksum(b"foobar"), "fnv1a64:85944171f73967e8");
    }
}

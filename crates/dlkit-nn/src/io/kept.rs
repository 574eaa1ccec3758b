//! Loading the kept layers of a saved model into a new one, for transfer learning
//! ([`Transfer`](crate::Transfer)): each kept layer's parameters and buffers (batch norm's
//! running statistics) are read from the saved weights under its index there and written
//! under its index in the new model.

use super::codec::parse_safetensors;
use super::description::ModelInfo;
use super::paths::{read_file, ModelPaths};
use super::weights::{load_checked, named_tensors, WeightsFilter};
use crate::error::Result;
use crate::module::Module;
use std::path::Path;

/// Copies the weights of the saved model at `path` (a model folder, stem or `model.json`,
/// described by `info`) into the first layers of the `Sequential` `model`: its layer `j`
/// gets the saved layer `kept[j]`'s tensors (`"{kept[j]}.weight"` into `"{j}.weight"`; a
/// model saved as a single layer has its tensors unprefixed). Every tensor of a kept layer
/// is checked by name, dtype and shape as [`load_weights_with`](super::load_weights_with)
/// does; layers without tensors are skipped. Returns the names of the tensors loaded.
pub fn load_kept_layers(
    model: &dyn Module,
    path: impl AsRef<Path>,
    info: &ModelInfo,
    kept: &[usize],
) -> Result<Vec<String>> {
    let path = ModelPaths::resolve(path.as_ref()).weights;
    let bytes = read_file(&path)?;
    let file = parse_safetensors(&bytes, &path)?;
    let names: Vec<String> = named_tensors(model).into_iter().map(|t| t.name).collect();
    let mut loaded = Vec::new();
    for (j, &i) in kept.iter().enumerate() {
        let in_model = format!("{j}.");
        if !names.iter().any(|n| n.starts_with(&in_model)) {
            continue;
        }
        let in_file = if info.single_layer {
            String::new()
        } else {
            format!("{i}.")
        };
        let filter = WeightsFilter {
            only: vec![j.to_string()],
            rename: Some((in_file, in_model)),
        };
        loaded.extend(load_checked(model, &file, &path, &filter)?);
    }
    Ok(loaded)
}

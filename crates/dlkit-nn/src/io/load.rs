//! Loading a model: rebuilt from its description alone, then its weights checked and
//! copied in.

use super::codec::parse_safetensors;
use super::description::{parse_info, ModelInfo};
use super::paths::{file_name, read_file, ModelPaths};
use super::save::checksum;
use super::weights::{load_checked, WeightsFilter};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::layers::sequential::Sequential;
use crate::module::Module;
use crate::spec::BuildContext;
use std::path::Path;

/// Loads a model saved by [`save`] from a folder or file stem (see [`ModelPaths::resolve`]):
/// rebuilds it from the description alone, checks every tensor of the weights file by name,
/// dtype and shape, then copies the values in.
///
/// The model comes back in evaluation mode (dropout off, batch norm on its running
/// statistics), so its predictions are those of the saved model; call `set_training(true)` to
/// train it further. Dropout layers without an explicit `seed` get fresh generators: masks
/// drawn after a load differ from those the saved model would have drawn.
///
/// A model without parameters or buffers (activations only) is described as `f32`.
pub fn load(path: impl AsRef<Path>) -> Result<(Sequential, ModelInfo)> {
    let paths = ModelPaths::resolve(path.as_ref());
    let info = read_info(&paths.description)?;
    let mut ctx = BuildContext::new(info.dtype, 0, Init::Zeros);
    let (mut model, output_shape) = Sequential::build(&info.layers, &mut ctx, &info.input_shape)
        .map_err(|e| {
            Error::file(
                &paths.description,
                format!(
                    "the layers do not build for input_shape {:?}: {e}",
                    info.input_shape
                ),
            )
        })?;
    if output_shape != info.output_shape {
        return Err(Error::file(
            &paths.description,
            format!(
                "output_shape is {:?} but the layers give {output_shape:?}",
                info.output_shape
            ),
        ));
    }
    let bytes = read_file(&paths.weights)?;
    let description = file_name(&paths.description);
    let size_differs = info
        .weights
        .as_ref()
        .filter(|w| w.bytes != bytes.len() as u64)
        .map(|w| {
            format!(
                "the file has {} bytes but {description} recorded {} when the model was saved: \
                 the file is truncated, or was replaced after the save",
                bytes.len(),
                w.bytes
            )
        });
    let file = parse_safetensors(&bytes, &paths.weights).map_err(|e| match (e, &size_differs) {
        (Error::File { path, msg }, Some(note)) => Error::File {
            path,
            msg: format!("{msg} ({note})"),
        },
        (e, _) => e,
    })?;
    // Names, dtypes and shapes first, as their messages say the most; then the size and the
    // checksum, which catch damaged data and a weights file from another save.
    load_checked(&model, &file, &paths.weights, &WeightsFilter::default())?;
    model.set_training(false);
    if let Some(note) = size_differs {
        return Err(Error::file(&paths.weights, note));
    }
    if let Some(w) = &info.weights {
        let found = checksum(&bytes);
        if found != w.checksum {
            return Err(Error::file(
                &paths.weights,
                format!(
                    "checksum {found} differs from {} recorded in {description}: the weights are \
                     corrupt, or the two files come from different saves (remove the \"weights\" \
                     section of the description to load replaced weights on purpose)",
                    w.checksum,
                ),
            ));
        }
    }
    Ok((model, info))
}

/// Reads and checks a model description (`model.json`, a folder holding one, or a stem)
/// without building the model or reading the weights.
pub fn read_info(path: impl AsRef<Path>) -> Result<ModelInfo> {
    let path = path.as_ref();
    let path = if path.extension().is_some_and(|e| e == "json") {
        path.to_path_buf()
    } else {
        ModelPaths::resolve(path).description
    };
    let bytes = read_file(&path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Error::file(
            &path,
            format!("not a model description: not UTF-8 text ({e})"),
        )
    })?;
    parse_info(text).map_err(|m| Error::file(&path, m))
}

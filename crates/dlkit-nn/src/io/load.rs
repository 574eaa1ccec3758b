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
use crate::spec::{BuildContext, Built, LayerSpec};
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
///
/// `load` gives a `Sequential`; a model saved as a single layer (a graph, a custom layer) is
/// loaded by [`load_module`].
pub fn load(path: impl AsRef<Path>) -> Result<(Sequential, ModelInfo)> {
    let paths = ModelPaths::resolve(path.as_ref());
    let info = read_info(&paths.description)?;
    if info.single_layer {
        return Err(Error::file(
            &paths.description,
            format!(
                "the model is a single {} layer, not a Sequential: load it with load_module",
                info.layers[0].kind()
            ),
        ));
    }
    let mut ctx = BuildContext::new(info.dtype, 0, Init::Zeros);
    let built = Sequential::build(&info.layers, &mut ctx, &info.input_shape);
    let mut model = checked_build(built, &paths, &info)?;
    load_weights(&mut model, &paths, &info)?;
    Ok((model, info))
}

/// [`load`] of any module saved by [`save_with`](super::save_with): a `Sequential`, or the
/// single layer (a graph, a registered custom layer) the model was.
pub fn load_module(path: impl AsRef<Path>) -> Result<(Box<dyn Module>, ModelInfo)> {
    let paths = ModelPaths::resolve(path.as_ref());
    let info = read_info(&paths.description)?;
    let mut ctx = BuildContext::new(info.dtype, 0, Init::Zeros);
    let built = build_model(&info.layers, info.single_layer, &mut ctx, &info.input_shape);
    let mut model = checked_build(built, &paths, &info)?;
    load_weights(&mut *model, &paths, &info)?;
    Ok((model, info))
}

/// The model a description names: `layers[0]` itself when `single_layer`, else a
/// `Sequential` of `layers`; and its output shape.
pub(crate) fn build_model(
    layers: &[LayerSpec],
    single_layer: bool,
    ctx: &mut BuildContext,
    input: &[usize],
) -> Result<Built> {
    match layers {
        [layer] if single_layer => layer.build(ctx, input),
        _ => {
            let (seq, out) = Sequential::build(layers, ctx, input)?;
            Ok((Box::new(seq), out))
        }
    }
}

/// The built model, or an error naming the description when it does not build for the input
/// shape or gives another output shape.
fn checked_build<M>(
    built: Result<(M, Vec<usize>)>,
    paths: &ModelPaths,
    info: &ModelInfo,
) -> Result<M> {
    let (model, output_shape) = built.map_err(|e| {
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
    Ok(model)
}

/// Checks the weights file against `model` and the description, copies the values in and
/// switches the model to evaluation mode.
fn load_weights(model: &mut dyn Module, paths: &ModelPaths, info: &ModelInfo) -> Result<()> {
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
    load_checked(&*model, &file, &paths.weights, &WeightsFilter::default())?;
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
    Ok(())
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

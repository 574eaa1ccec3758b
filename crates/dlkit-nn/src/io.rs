//! Saving and loading models.
//!
//! A saved model is two files: a description (`model.json`) and the weights
//! (`model.safetensors`). [`save`] and [`load`] take either a folder, which then holds
//! `model.json` and `model.safetensors`, or a path ending in `.json` or `.safetensors`, whose
//! stem names the pair (`cat.json` + `cat.safetensors`).
//!
//! - The weights file is a standard [safetensors](https://huggingface.co/docs/safetensors)
//!   file: every parameter and buffer (batch norm's running statistics) under its stable
//!   name (`"0.weight"`, `"3.running_mean"`), in the model's dtype (`F32` or `F64`), little
//!   endian, row-major. NumPy and PyTorch read it with `safetensors.numpy.load_file`.
//! - The description ([`ModelInfo`]) holds the format version, the dtype, the shape of one
//!   input example (batch axis excluded), the output shape, the layers as [`LayerSpec`]s, the
//!   size and checksum of the weights file, and optional metadata for the trainer (class
//!   names, input normalisation statistics, free JSON).
//!
//! [`load`] rebuilds the model from the description alone, then checks every tensor of the
//! weights file against the rebuilt model by name, dtype and shape before copying any value.
//! Every problem with a file — truncated, corrupt, a missing or unexpected tensor, a wrong
//! shape or dtype, an unknown layer type or field — is an [`Error::File`] naming the file, the
//! tensor or field, and what was expected against what was found. Nothing here panics on a
//! bad file.
//!
//! Writes are atomic: each file is written in full to a temporary file in the same folder,
//! synced, then renamed over the target, so a crash never leaves a half-written file. The two
//! renames of a save come one after the other; should a crash fall between them, the
//! checksum recorded in the description tells the mismatched pair apart at load time.
//!
//! ```
//! use dlkit_core::{DType, Tensor};
//! use dlkit_nn::{io, BuildContext, Init, LayerSpec, Module, Sequential};
//! use dlkit_nn::layers::dense::DenseSpec;
//!
//! let specs = [LayerSpec::Dense(DenseSpec::new(3)), LayerSpec::Relu, LayerSpec::Dense(DenseSpec::new(1))];
//! let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
//! let (model, _) = Sequential::build(&specs, &mut ctx, &[4]).unwrap();
//! let dir = std::env::temp_dir().join(format!("dlkit-doc-{}", std::process::id()));
//! io::save(&model, &[4], &dir).unwrap();
//! let (loaded, info) = io::load(&dir).unwrap();
//! assert_eq!(info.input_shape, vec![4]);
//! let x = Tensor::ones(&[2, 4], DType::F32);
//! assert_eq!(model.forward(&x).unwrap().to_vec::<f32>(), loaded.forward(&x).unwrap().to_vec::<f32>());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::error::{Error, Result};
use crate::init::Init;
use crate::layers::sequential::Sequential;
use crate::module::Module;
use crate::spec::{BuildContext, LayerSpec};
use dlkit_core::{DType, Tensor};
use safetensors::tensor::{SafeTensorError, SafeTensors, TensorView, View};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` field of every model description.
pub const FORMAT: &str = "dlkit-model";
/// The newest description format this version reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;
/// The description's name inside a model folder.
pub const DESCRIPTION_FILE: &str = "model.json";
/// The weights' name inside a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// The description of a saved model: what `model.json` holds.
///
/// ```json
/// {
///   "format": "dlkit-model",
///   "format_version": 1,
///   "dtype": "f32",
///   "input_shape": [4],
///   "output_shape": [3],
///   "layers": [{ "type": "dense", "units": 8 }, { "type": "relu" }, ...],
///   "weights": { "tensors": 4, "parameters": 67, "bytes": 412, "checksum": "fnv1a64:..." },
///   "metadata": { "class_names": ["setosa", "versicolor", "virginica"] }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version that wrote the file ([`FORMAT_VERSION`] for new files).
    pub format_version: u32,
    /// The dtype of every tensor: `"f32"` or `"f64"`.
    #[serde(with = "dtype_name")]
    pub dtype: DType,
    /// The shape of one input example, batch axis excluded (`[64, 64, 3]` for NHWC images).
    pub input_shape: Vec<usize>,
    /// The shape of one output example, as the layers give it for `input_shape`.
    pub output_shape: Vec<usize>,
    /// The layers, in order; the model is `Sequential::build(layers, .., input_shape)`.
    pub layers: Vec<LayerSpec>,
    /// What the weights file held when it was written. Absent in a hand-written description:
    /// the weights file is then checked by names, dtypes and shapes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsInfo>,
    /// What the trainer stores beside the model.
    #[serde(default, skip_serializing_if = "ModelMetadata::is_empty")]
    pub metadata: ModelMetadata,
}

/// The size and fingerprint of the weights file a description was saved with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsInfo {
    /// Number of tensors (parameters and buffers).
    pub tensors: usize,
    /// Number of learnable scalars (buffers excluded).
    pub parameters: usize,
    /// Size of the weights file in bytes.
    pub bytes: u64,
    /// `"fnv1a64:"` and 16 hex digits: FNV-1a (64 bit) of the whole weights file.
    pub checksum: String,
}

/// What the trainer may store beside the architecture. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMetadata {
    /// The name of each class, in output order. For one sigmoid output, two names: the
    /// class of output 0, then that of output 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// Statistics that inputs are normalised with before they enter the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
    /// Anything else, as free JSON (the training config, the run id, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

impl ModelMetadata {
    pub fn is_empty(&self) -> bool {
        self.class_names.is_none() && self.normalization.is_none() && self.extra.is_none()
    }
}

/// Input normalisation `x' = (x - mean) / std`, fitted on the training split. `std` is the
/// standard deviation (not the variance, which the course's notes write by mistake). One
/// value per input feature, or per channel (last axis) of image inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

mod dtype_name {
    use dlkit_core::DType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &DType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
        let name = String::deserialize(d)?;
        super::parse_dtype(&name).map_err(serde::de::Error::custom)
    }
}

fn parse_dtype(name: &str) -> std::result::Result<DType, String> {
    match name {
        "f32" => Ok(DType::F32),
        "f64" => Ok(DType::F64),
        other => Err(format!("unknown dtype `{other}`, expected `f32` or `f64`")),
    }
}

/// Where the two files of a saved model are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPaths {
    /// The description (`model.json`).
    pub description: PathBuf,
    /// The weights (`model.safetensors`).
    pub weights: PathBuf,
}

impl ModelPaths {
    /// `dir/model.json` + `dir/model.safetensors` for a folder; `stem.json` +
    /// `stem.safetensors` for a path ending in `.json` or `.safetensors`.
    pub fn resolve(path: impl AsRef<Path>) -> ModelPaths {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") | Some("safetensors") => ModelPaths {
                description: path.with_extension("json"),
                weights: path.with_extension("safetensors"),
            },
            _ => ModelPaths {
                description: path.join(DESCRIPTION_FILE),
                weights: path.join(WEIGHTS_FILE),
            },
        }
    }

    /// The weights file for [`load_weights_into`]: `path` itself when it is a file that is
    /// not a description, otherwise as [`ModelPaths::resolve`].
    fn weights_of(path: &Path) -> PathBuf {
        let is_json = path.extension().is_some_and(|e| e == "json");
        if path.is_file() && !is_json {
            path.to_path_buf()
        } else {
            ModelPaths::resolve(path).weights
        }
    }
}

// ---- saving ---------------------------------------------------------------------------------

/// Saves `model`, whose inputs are examples of shape `input_shape` (batch axis excluded), to
/// the folder or file stem `path` (see [`ModelPaths::resolve`]; a missing folder is created).
/// Returns the description written.
///
/// Before anything is written the description is rebuilt and compared with the model, tensor
/// by tensor, so a model that would not load again (a wrong `input_shape`) is an error here
/// and not at load time.
pub fn save(
    model: &Sequential,
    input_shape: &[usize],
    path: impl AsRef<Path>,
) -> Result<ModelInfo> {
    save_with(model, input_shape, &ModelMetadata::default(), path)
}

/// [`save`] with metadata for the trainer (class names, normalisation statistics, free JSON).
pub fn save_with(
    model: &Sequential,
    input_shape: &[usize],
    metadata: &ModelMetadata,
    path: impl AsRef<Path>,
) -> Result<ModelInfo> {
    let paths = ModelPaths::resolve(path.as_ref());
    let tensors = named_tensors(model);
    let dtype = tensors.first().map_or(DType::F32, |t| t.tensor.dtype());
    let layers = match model.spec() {
        Some(LayerSpec::Sequential { layers, .. }) => layers,
        Some(other) => vec![other],
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
    let (rebuilt, output_shape) =
        Sequential::build(&layers, &mut ctx, input_shape).map_err(|e| {
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
    let again = expected_specs(&named_tensors(&rebuilt));
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
    let weights_tmp = write_temp(&paths.weights, &weights)?;
    let json_tmp = write_temp(&paths.description, json.as_bytes())?;
    persist(weights_tmp, &paths.weights)?;
    persist(json_tmp, &paths.description)?;
    Ok(info)
}

/// Writes the parameters and buffers of any module to one safetensors file (atomically), for
/// checkpoints and [`load_weights_into`].
pub fn save_weights(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tensors = named_tensors(model);
    let bytes = encode_weights(&tensors)
        .map_err(|e| Error::file(path, format!("cannot encode the weights: {e}")))?;
    persist(write_temp(path, &bytes)?, path)
}

/// The whole safetensors file for `tensors`.
fn encode_weights(tensors: &[Named]) -> std::result::Result<Vec<u8>, String> {
    let encoded: Vec<(String, Encoded)> = tensors
        .iter()
        .map(|t| (t.name.clone(), Encoded::of(&t.tensor)))
        .collect();
    let meta = HashMap::from([(
        "dlkit_format_version".to_string(),
        FORMAT_VERSION.to_string(),
    )]);
    safetensors::serialize(encoded.iter().map(|(n, e)| (n.as_str(), e)), Some(meta))
        .map_err(|e| e.to_string())
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

/// `bytes` written and synced to a temporary file beside `path` (removed if dropped).
fn write_temp(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::file(
                path,
                format!("cannot create a temporary file in {}: {e}", dir.display()),
            )
        })?;
    let written = tmp
        .write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .and_then(|_| {
            // A temporary file is private (0600); give the result the target's permissions,
            // or the usual ones of a new file.
            match std::fs::metadata(path) {
                Ok(m) => tmp.as_file().set_permissions(m.permissions()),
                Err(_) => set_new_file_permissions(tmp.as_file()),
            }
        });
    written.map_err(|e| Error::file(path, format!("cannot write: {e}")))?;
    Ok(tmp)
}

#[cfg(unix)]
fn set_new_file_permissions(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_new_file_permissions(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Renames the finished temporary file over `path` (the atomic step) and syncs the folder.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.persist(path)
        .map_err(|e| Error::file(path, format!("cannot replace the file: {}", e.error)))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; a failure here loses nothing already written.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// FNV-1a, 64 bit, as `fnv1a64:` and 16 hex digits.
fn checksum(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

// ---- loading --------------------------------------------------------------------------------

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
    let file = parse_weights(&bytes, &paths.weights).map_err(|e| match (e, &size_differs) {
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
    let file = parse_weights(&bytes, &path)?;
    load_checked(model, &file, &path, filter)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Parses a safetensors file, answering each way it can be broken in plain words.
fn parse_weights<'a>(bytes: &'a [u8], path: &Path) -> Result<SafeTensors<'a>> {
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

/// A named tensor of a module: a parameter or a buffer.
struct Named {
    name: String,
    tensor: Tensor,
}

fn named_tensors(model: &dyn Module) -> Vec<Named> {
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

fn expected_specs(tensors: &[Named]) -> BTreeMap<String, Expect> {
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
fn load_checked(
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

// ---- reading the description ----------------------------------------------------------------

const FIELDS: [&str; 8] = [
    "format",
    "format_version",
    "dtype",
    "input_shape",
    "output_shape",
    "layers",
    "weights",
    "metadata",
];

/// Parses `model.json`, each message naming the field at fault.
fn parse_info(text: &str) -> std::result::Result<ModelInfo, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("not a model description: invalid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a model description: expected a JSON object".to_string());
    };
    match obj.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(format!(
                "not a dlkit model description: field `format` is {other}, expected \"{FORMAT}\""
            ))
        }
        None => {
            return Err(format!(
                "not a dlkit model description: no field `format` (expected \"{FORMAT}\")"
            ))
        }
    }
    let format_version: u32 = field(&obj, "format_version")?;
    if format_version == 0 || format_version > FORMAT_VERSION {
        return Err(format!(
            "format_version {format_version} is not one this dlkit reads (1 to {FORMAT_VERSION}); \
             a newer dlkit wrote it"
        ));
    }
    if let Some(key) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{key}` (the fields are {})",
            FIELDS.map(|f| format!("`{f}`")).join(", ")
        ));
    }
    let dtype: String = field(&obj, "dtype")?;
    let dtype = parse_dtype(&dtype).map_err(|m| format!("field `dtype`: {m}"))?;
    let input_shape: Vec<usize> = field(&obj, "input_shape")?;
    let output_shape: Vec<usize> = field(&obj, "output_shape")?;
    let layers = match obj.get("layers") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| parse_layer(v, &format!("layers[{i}]")))
            .collect::<std::result::Result<Vec<_>, _>>()?,
        Some(_) => return Err("field `layers`: expected a list of layers".to_string()),
        None => return Err("missing field `layers`".to_string()),
    };
    let weights: Option<WeightsInfo> = optional_field(&obj, "weights")?;
    if let Some(w) = &weights {
        let hex = w.checksum.strip_prefix("fnv1a64:").unwrap_or("");
        if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "field `weights.checksum`: expected \"fnv1a64:\" and 16 hex digits, found {:?}",
                w.checksum
            ));
        }
    }
    let metadata: ModelMetadata = optional_field(&obj, "metadata")?.unwrap_or_default();
    validate_metadata(&metadata, &output_shape)
        .map_err(|(f, m)| format!("field `metadata.{f}`: {m}"))?;
    Ok(ModelInfo {
        format: FORMAT.to_string(),
        format_version,
        dtype,
        input_shape,
        output_shape,
        layers,
        weights,
        metadata,
    })
}

fn field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    name: &str,
) -> std::result::Result<T, String> {
    optional_field(obj, name)?.ok_or_else(|| format!("missing field `{name}`"))
}

fn optional_field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<T>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| format!("field `{name}`: {e}")),
    }
}

/// Checks the trainer's metadata against the model's output: `Err((field, problem))`, the
/// field named below `metadata`.
fn validate_metadata(
    m: &ModelMetadata,
    output_shape: &[usize],
) -> std::result::Result<(), (String, String)> {
    if let (Some(names), [k]) = (&m.class_names, output_shape) {
        let want = if *k == 1 { 2 } else { *k };
        if names.len() != want {
            return Err((
                "class_names".into(),
                format!(
                    "{} names for an output of shape {output_shape:?}, which needs {want}",
                    names.len()
                ),
            ));
        }
    }
    if let Some(n) = &m.normalization {
        if n.mean.len() != n.std.len() {
            return Err((
                "normalization".into(),
                format!(
                    "mean has {} values but std has {}",
                    n.mean.len(),
                    n.std.len()
                ),
            ));
        }
        if let Some(i) = n.mean.iter().position(|v| !v.is_finite()) {
            return Err((
                format!("normalization.mean[{i}]"),
                format!("{} is not finite", n.mean[i]),
            ));
        }
        if let Some(i) = n.std.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err((
                format!("normalization.std[{i}]"),
                format!("{} is not a positive standard deviation", n.std[i]),
            ));
        }
    }
    Ok(())
}

/// Parses one layer at `at` (`"layers[2]"`), naming the innermost layer at fault.
fn parse_layer(v: &Value, at: &str) -> std::result::Result<LayerSpec, String> {
    match LayerSpec::deserialize(v) {
        Ok(spec) => {
            check_unknown_fields(v, &spec, at)?;
            Ok(spec)
        }
        Err(e) => Err(locate_error(v, at, e)),
    }
}

/// The `type` an object names, if any.
fn layer_type(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

/// Serde's own message for a layer of type `ty` with no fields: "unknown variant `ty`,
/// expected one of `dense`, ..." when `ty` is no layer type.
fn bare_layer_error(ty: &str) -> String {
    LayerSpec::deserialize(serde_json::json!({ "type": ty }))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn is_layer_type(ty: &str) -> bool {
    !bare_layer_error(ty).starts_with(&format!("unknown variant `{ty}`"))
}

/// The objects with a `type` nested in `v` (through lists and plain objects, not through
/// other typed objects), with their paths: the candidates for nested layers.
fn typed_children<'a>(v: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    let visit = |child_at: String, child: &'a Value, out: &mut Vec<(String, &'a Value)>| {
        if layer_type(child).is_some() {
            out.push((child_at, child));
        } else {
            typed_children(child, &child_at, out);
        }
    };
    match v {
        Value::Object(obj) => {
            for (key, val) in obj {
                visit(format!("{at}.{key}"), val, out);
            }
        }
        Value::Array(items) => {
            for (j, item) in items.iter().enumerate() {
                visit(format!("{at}[{j}]"), item, out);
            }
        }
        _ => {}
    }
}

/// Descends to the innermost nested layer that fails on its own and describes its error.
fn locate_error(v: &Value, at: &str, e: serde_json::Error) -> String {
    let msg = e.to_string();
    let mut children = Vec::new();
    if let Value::Object(obj) = v {
        for (key, val) in obj.iter().filter(|(k, _)| *k != "type") {
            if layer_type(val).is_some() {
                children.push((format!("{at}.{key}"), val));
            } else {
                typed_children(val, &format!("{at}.{key}"), &mut children);
            }
        }
    }
    for (child_at, child) in children {
        let ty = layer_type(child).unwrap_or_default();
        // A typed object is a nested layer if its type is a layer type, or if this error is
        // serde's for an unknown layer type of that name (not, say, an unknown initialiser).
        if !(is_layer_type(ty) || msg == bare_layer_error(ty)) {
            continue;
        }
        if let Err(ce) = LayerSpec::deserialize(child) {
            return locate_error(child, &child_at, ce);
        }
    }
    match layer_type(v) {
        Some(ty) if msg == bare_layer_error(ty) && !is_layer_type(ty) => {
            let rest = msg
                .strip_prefix(&format!("unknown variant `{ty}`"))
                .unwrap_or_default();
            format!("{at}: unknown layer type `{ty}`{rest}")
        }
        Some(ty) => format!("{at} ({ty}): {msg}"),
        None if v.is_object() && v.get("type").is_none() => {
            format!("{at}: a layer needs a `type` field ({msg})")
        }
        None => format!("{at}: {msg}"),
    }
}

/// One step of a path into JSON.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Finds fields of `v` that deserialising ignored. Serde ignores unknown fields unless a type
/// says otherwise (and always for unit variants such as `relu`), which would load a typo such
/// as `{ "type": "leaky_relu", "slop": 0.2 }` with the default slope. A key is a candidate
/// when the spec, serialised again, lacks it; it is unknown when replacing its value with junk
/// changes nothing.
fn check_unknown_fields(v: &Value, spec: &LayerSpec, at: &str) -> std::result::Result<(), String> {
    let Ok(canon) = serde_json::to_value(spec) else {
        return Ok(());
    };
    let mut candidates = Vec::new();
    missing_keys(v, &canon, &mut Vec::new(), &mut candidates);
    for path in candidates {
        let mut probe = v.clone();
        if let Some(slot) = value_at_mut(&mut probe, &path) {
            *slot = serde_json::json!({ "__dlkit_probe__": [null] });
        }
        let ignored = LayerSpec::deserialize(&probe)
            .ok()
            .and_then(|s| serde_json::to_value(&s).ok())
            .is_some_and(|c| c == canon);
        if ignored {
            let (key_step, parent_path) = path.split_last().expect("a candidate has a key");
            let Step::Key(key) = key_step else { continue };
            let mut where_ = at.to_string();
            for s in parent_path {
                match s {
                    Step::Key(k) => where_.push_str(&format!(".{k}")),
                    Step::Index(i) => where_.push_str(&format!("[{i}]")),
                }
            }
            let parent = value_at(v, parent_path);
            let known: Vec<String> = value_at(&canon, parent_path)
                .and_then(Value::as_object)
                .map(|o| {
                    o.keys()
                        .filter(|k| *k != "type")
                        .map(|k| format!("`{k}`"))
                        .collect()
                })
                .unwrap_or_default();
            let known = if known.is_empty() {
                "it takes no fields".to_string()
            } else {
                format!("its fields are {}", known.join(", "))
            };
            return Err(match parent.and_then(layer_type) {
                Some(ty) => format!("{where_} ({ty}): unknown field `{key}`; {known}"),
                None => format!("{where_}: unknown field `{key}`; {known}"),
            });
        }
    }
    Ok(())
}

fn missing_keys(v: &Value, canon: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match (v, canon) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, av) in a {
                path.push(Step::Key(k.clone()));
                match b.get(k) {
                    None => out.push(path.clone()),
                    Some(bv) => missing_keys(av, bv, path, out),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                path.push(Step::Index(i));
                missing_keys(av, bv, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn value_at<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, s| match s {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

fn value_at_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, s| match s {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
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

    #[test]
    fn prefixes_match_whole_name_parts() {
        assert!(under("1.weight", "1"));
        assert!(under("1.weight", "1."));
        assert!(!under("10.weight", "1"));
        assert!(under("10.weight", ""));
        assert!(under("2.0.bias", "2.0"));
        assert!(!under("2.01.bias", "2.0"));
    }

    #[test]
    fn paths_resolve_to_a_folder_or_a_stem() {
        let p = ModelPaths::resolve("runs/cat");
        assert_eq!(p.description, Path::new("runs/cat/model.json"));
        assert_eq!(p.weights, Path::new("runs/cat/model.safetensors"));
        let p = ModelPaths::resolve("runs/cat.safetensors");
        assert_eq!(p.description, Path::new("runs/cat.json"));
        let p = ModelPaths::resolve("runs/cat.json");
        assert_eq!(p.weights, Path::new("runs/cat.safetensors"));
    }
}

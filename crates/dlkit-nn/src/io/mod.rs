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

mod atomic;
mod codec;
mod description;
mod kept;
mod layer_errors;
mod load;
mod paths;
mod save;
mod torch;
mod torch_map;
mod weights;

pub use atomic::write_atomic;
pub use codec::{decode_tensors, encode_tensors};
pub use description::{ModelInfo, ModelMetadata, Normalization, WeightsInfo};
pub use kept::load_kept_layers;
pub use load::{load, load_module, read_info};
pub use paths::ModelPaths;
pub use save::{save, save_with};
pub use torch::{load_torch_state_dict, Layout, LoadedTensor, TorchLoadReport};
pub use torch_map::NameMap;
pub use weights::{load_weights_into, load_weights_with, save_weights, WeightsFilter};

/// The `format` field of every model description.
pub const FORMAT: &str = "dlkit-model";
/// The newest description format this version reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;
/// The description's name inside a model folder.
pub const DESCRIPTION_FILE: &str = "model.json";
/// The weights' name inside a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

//! dlkit-nn: the building blocks of models — layers, losses, initialisers, optimisers,
//! schedules, save/load — built from plain descriptions with shapes checked at build time.
//!
//! Build, train a step, save and load:
//!
//! ```
//! use dlkit_core::{no_grad, DType, Rng, Tensor};
//! use dlkit_nn::layers::dense::DenseSpec;
//! use dlkit_nn::optim::Adam;
//! use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Optimizer, Sequential};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // [4, 8, 3]: ReLU hidden layer, softmax output; He initialisation, seed 0.
//! let layers = [
//!     LayerSpec::Dense(DenseSpec::new(8)),
//!     LayerSpec::Relu,
//!     LayerSpec::Dense(DenseSpec::new(3)),
//!     LayerSpec::Softmax,
//! ];
//! let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
//! let (mut model, out_shape) = Sequential::build(&layers, &mut ctx, &[4])?;
//! assert_eq!(out_shape, vec![3]);
//!
//! // One training step: the loss takes the logits (the output before the softmax).
//! let x = Tensor::rand_normal(&[16, 4], 0.0, 1.0, DType::F32, &mut Rng::new(1));
//! let labels: Vec<usize> = (0..16).map(|i| i % 3).collect();
//! let mut optimizer = Adam::new(model.parameters(), 1e-3);
//! let cost = Loss::SoftmaxCrossEntropy.compute(&model.forward_logits(&x)?, &labels)?;
//! optimizer.zero_grad();
//! cost.backward();
//! optimizer.step();
//!
//! // Save (model.json + model.safetensors, written atomically) and load without the code
//! // that built it; evaluation mode gives identical predictions.
//! model.set_training(false);
//! let dir = std::env::temp_dir().join("dlkit-doc-model");
//! dlkit_nn::save(&model, &[4], &dir)?;
//! let (reloaded, _info) = dlkit_nn::load(&dir)?;
//! let (a, b) = no_grad(|| (model.forward(&x), reloaded.forward(&x)));
//! assert_eq!(a?.to_vec::<f32>(), b?.to_vec::<f32>());
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod ewa;
pub mod init;
pub mod io;
pub mod layer_selection;
pub mod layers;
pub mod loss;
pub mod model_config;
pub mod module;
pub mod optim;
pub mod param;
pub mod pretrained;
pub mod reduction;
pub mod registry;
pub mod regularize;
pub mod schedule;
mod shape;
pub mod spec;
mod spec_serde;
pub mod summary;
pub mod transfer;

pub use error::{Error, Result};
pub use ewa::Ewa;
pub use init::{Init, InitRng};
pub use io::{load, load_module, load_weights_into, save, ModelInfo};
pub use layer_selection::{LayerItem, LayerSelection};
pub use layers::graph::{Graph, GraphBuilder, GraphSpec};
pub use layers::{activation::Activation, dense::Dense, sequential::Sequential};
pub use layers::{batch_norm::BatchNorm, dropout::Dropout};
pub use layers::{conv2d::Conv2d, global_avg_pool::GlobalAvgPool, pool::Pool2d};
pub use layers::{inception::Inception, residual::Residual};
pub use loss::{Loss, Targets};
pub use model_config::{
    default_loss, describe_layers, layer_names, parameter_count, DTypeName, ModelConfig,
};
pub use module::Module;
pub use optim::{Optimizer, OptimizerConfig};
pub use param::{Param, ParamKind};
pub use reduction::Reduction;
pub use registry::{register_layer, CustomLayer, CustomSpec};
pub use regularize::Regularizer;
pub use schedule::LrSchedule;
pub use shape::Tally;
pub use spec::{BuildContext, LayerSpec};
pub use summary::{summarize, Summary, SummaryRow};
pub use transfer::{FieldError, Transfer};

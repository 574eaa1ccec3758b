//! dlkit-nn: the building blocks of models — layers, losses, initialisers — built from plain
//! descriptions with shapes checked at build time.

pub mod error;
pub mod ewa;
pub mod init;
pub mod io;
pub mod layers;
pub mod loss;
pub mod module;
pub mod optim;
pub mod param;
pub mod regularize;
pub mod schedule;
pub mod spec;

pub use error::{Error, Result};
pub use ewa::Ewa;
pub use init::Init;
pub use io::{load, load_weights_into, save, ModelInfo};
pub use layers::{activation::Activation, dense::Dense, sequential::Sequential};
pub use layers::{batch_norm::BatchNorm, dropout::Dropout};
pub use loss::{Loss, Targets};
pub use module::Module;
pub use optim::{Optimizer, OptimizerConfig};
pub use param::{Param, ParamKind};
pub use regularize::Regularizer;
pub use schedule::LrSchedule;
pub use spec::{BuildContext, LayerSpec};

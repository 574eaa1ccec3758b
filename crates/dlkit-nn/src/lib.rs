//! dlkit-nn: the building blocks of models — layers, losses, initialisers — built from plain
//! descriptions with shapes checked at build time.

pub mod error;
pub mod init;
pub mod io;
pub mod layers;
pub mod module;
pub mod param;
pub mod spec;

pub use error::{Error, Result};
pub use init::Init;
pub use io::{load, load_weights_into, save, ModelInfo};
pub use layers::{activation::Activation, dense::Dense, sequential::Sequential};
pub use module::Module;
pub use param::{Param, ParamKind};
pub use spec::{BuildContext, LayerSpec};

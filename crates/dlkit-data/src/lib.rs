//! Dataset readers for dlkit.
//!
//! For now: the HDF5 files of the course ([`read_h5_dataset`] for any dataset,
//! [`load_course_h5`] for the `*_set_x` / `*_set_y` / `list_classes` layout of the
//! cat/non-cat and SIGNS files). Every error names the file and the dataset or field.
//!
//! ```no_run
//! # fn main() -> dlkit_data::Result<()> {
//! let train = dlkit_data::load_course_h5(
//!     "data/catvnoncat/train_catvnoncat.h5",
//!     "train_set_x",
//!     "train_set_y",
//! )?;
//! assert_eq!(train.x.shape(), &[209, 64, 64, 3]); // NHWC f32, raw 0..255
//! assert_eq!(train.classes, ["non-cat", "cat"]);
//! assert_eq!(train.class_counts(), [137, 72]);
//!
//! // Any dataset, in its stored type:
//! let y = dlkit_data::read_h5_dataset("data/catvnoncat/train_catvnoncat.h5", "train_set_y")?;
//! assert_eq!((y.shape.as_slice(), y.values.dtype_name()), (&[209][..], "i64"));
//! # Ok(())
//! # }
//! ```

pub mod augment;
pub mod batches;
pub mod dataset;
pub mod error;
pub mod h5;
pub mod preprocess;
pub mod split;

pub use augment::AugmentConfig;
pub use batches::{epoch_seed, Batch, BatchLoader, Batches};
pub use dataset::{Dataset, Labels};
pub use error::{Error, Result};
pub use h5::{
    list_h5_datasets, load_course_h5, read_h5_dataset, ArrayData, ArrayValues, LabeledImages,
    CLASSES_NAME,
};
pub use preprocess::{
    flatten, one_hot, scale, scale_pixels, FittedPreprocessing, Preprocessing, Standardize,
    Standardizer, DEFAULT_STD_FLOOR,
};
pub use split::{DataSplits, SplitConfig, SplitIndices};

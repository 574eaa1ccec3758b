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
//!
//! The other readers, each in its own module with the same kind of errors:
//!
//! - [`idx`]: MNIST's IDX files, gzipped or not ([`load_mnist`], [`load_idx_images`],
//!   [`load_idx_labels`], [`read_idx`]).
//! - [`mod@csv`]: tables with a header and a label column ([`load_csv`], [`load_csv_with`]) and
//!   scikit-learn's bundled files ([`load_sklearn_csv`]).
//! - [`npy`]: NumPy's `.npy` and `.npz` ([`read_npy`], [`read_npz`], [`list_npz`]).
//! - [`image_folder`]: one subfolder per class ([`load_image_folder`]) or the SIGNS JPEGs
//!   labelled by their first character ([`load_signs_jpegs`], [`load_signs_folder`]).
//! - [`mat`]: MATLAB 5 MAT-files ([`read_mat_variable`], [`load_mat_xy`], [`load_football`]).
//!
//! ```no_run
//! # fn main() -> dlkit_data::Result<()> {
//! let mnist = dlkit_data::load_mnist("data/mnist")?;
//! assert_eq!(mnist.train.x.shape(), &[60000, 28, 28, 1]); // NHWC f32, raw 0..255
//! let cancer = dlkit_data::load_sklearn_csv("data/sklearn/breast_cancer.csv")?;
//! assert_eq!(cancer.x.shape(), &[569, 30]);
//! let signs = dlkit_data::load_signs_jpegs("data/signs/64x64_SIGNS")?;
//! assert_eq!(signs.train.class_counts(), [141, 146, 142, 142, 144, 149]);
//! let football = dlkit_data::load_football("data/football/data.mat")?;
//! assert_eq!(football.train.x.shape(), &[211, 2]);
//! # Ok(())
//! # }
//! ```

pub mod augment;
pub mod batches;
pub mod config;
pub mod csv;
pub mod dataset;
pub mod error;
pub mod generate;
pub mod h5;
pub mod idx;
pub mod image_folder;
pub mod inputs;
pub mod load;
pub mod mat;
pub mod npy;
pub mod pad;
pub mod preprocess;
pub mod resample;
mod sniff;
pub mod split;
mod util;

pub use crate::csv::{load_csv, load_csv_with, load_sklearn_csv, Column, CsvOptions, Table};
pub use augment::AugmentConfig;
pub use batches::{epoch_seed, Batch, BatchLoader, Batches};
pub use config::{CsvHeader, DataConfig, DataFormat, LabelColumn, Source, Sources};
pub use dataset::{Dataset, Labels};
pub use error::{Error, Result};
pub use generate::Generator;
pub use h5::{
    list_h5_datasets, load_course_h5, read_h5_dataset, ArrayData, ArrayValues, LabeledImages,
    CLASSES_NAME,
};
pub use idx::{
    load_idx_images, load_idx_labels, load_idx_pair, load_mnist, read_idx, Mnist, IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC, MNIST_FILES,
};
pub use image_folder::{
    load_image_folder, load_image_folder_with, load_image_rgb, load_signs_folder,
    load_signs_folder_with, load_signs_jpegs, ImageFolderOptions, SignsJpegs, IMAGE_EXTENSIONS,
};
pub use inputs::{load_inputs, Inputs};
pub use load::{load_source, resolve_path, Splits};
pub use mat::{
    list_mat_variables, load_football, load_mat_xy, read_mat, read_mat_variable, Football,
};
pub use npy::{list_npz, read_npy, read_npz, read_npz_all};
pub use pad::pad_images;
pub use resample::resize_bilinear;
pub use sniff::guess_source;
// NumPy's legacy generator lives in dlkit-core (model initialisation draws from it too);
// re-exported here, module path included, for the generators and their users.
pub use dlkit_core::{numpy_random, NumpyRandom};
pub use preprocess::{
    flatten, one_hot, scale, scale_pixels, FittedPreprocessing, Preprocessing, Standardize,
    Standardizer, DEFAULT_STD_FLOOR,
};
pub use split::{DataSplits, SplitConfig, SplitIndices};

//! Image folders: one subfolder per class ([`load_image_folder`], as torchvision's
//! `ImageFolder` and Keras' `image_dataset_from_directory` read them), or one folder whose file
//! names start with the class digit ([`load_signs_folder`], the layout of the SIGNS JPEGs:
//! `3_IMG_6045.jpg` is class 3).
//!
//! Images are decoded with the `image` crate (JPEG and PNG; the format is recognised from the
//! content, not the extension), converted to RGB (grey is repeated, alpha is dropped) and
//! returned as an NHWC f32 tensor `[n, height, width, 3]` with values 0..255, like the
//! course's HDF5 files: divide by 255 to normalise. Every image must have the first one's
//! size unless [`ImageFolderOptions::resize`] asks for one.
//!
//! Files are taken in sorted order of their names. Names starting with `.` (hidden files,
//! `.DS_Store`) are skipped, and so are files whose extension is not `.jpg`, `.jpeg` or
//! `.png` (any case) and folders inside a class folder. Decoding runs in parallel; the result,
//! and which error is reported when several files are bad, do not depend on the thread count.

use std::path::{Path, PathBuf};

use dlkit_core::Tensor;
use image::imageops::FilterType;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::h5::LabeledImages;
use crate::util::io_error;

/// The extensions of the files taken as images (compared without regard to case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// How images are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFolderOptions {
    /// Resize every image to `[height, width]` (bilinear filtering, `image`'s
    /// `FilterType::Triangle`, without keeping the aspect ratio). `None` (the default): images
    /// are kept as they are and must all have the same size.
    pub resize: Option<[usize; 2]>,
}

/// The SIGNS JPEG splits (`64x64_SIGNS/`): each 64x64 RGB, classes `"0"` to `"5"`.
#[derive(Debug, Clone)]
pub struct SignsJpegs {
    /// `train_signs/`: 864 images.
    pub train: LabeledImages,
    /// `val_signs/`: 216 images.
    pub val: LabeledImages,
    /// `test_signs/` (120 images), when the folder is there.
    pub test: Option<LabeledImages>,
}

/// Reads a folder holding one subfolder per class: the classes are the subfolder names in
/// sorted order, the label of an image the index of its folder.
pub fn load_image_folder(dir: impl AsRef<Path>) -> Result<LabeledImages> {
    load_image_folder_with(dir, &ImageFolderOptions::default())
}

/// [`load_image_folder`] with options (a resize target).
pub fn load_image_folder_with(
    dir: impl AsRef<Path>,
    opts: &ImageFolderOptions,
) -> Result<LabeledImages> {
    let dir = dir.as_ref();
    let mut classes = Vec::new();
    let mut files = Vec::new();
    for (name, path) in entries(dir)? {
        if !path.is_dir() {
            continue;
        }
        let images = image_files(&path)?;
        if images.is_empty() {
            return Err(Error::NoImages {
                dir: path,
                detail: format!(
                    "the class folder '{name}' holds no .jpg, .jpeg or .png files; remove it or \
                     add its images"
                ),
            });
        }
        let label = classes.len();
        classes.push(name);
        files.extend(images.into_iter().map(|f| (f, label)));
    }
    if classes.is_empty() {
        return Err(Error::NoImages {
            dir: dir.to_path_buf(),
            detail: "expected one subfolder per class, holding .jpg, .jpeg or .png images"
                .to_string(),
        });
    }
    let (paths, y): (Vec<PathBuf>, Vec<usize>) = files.into_iter().unzip();
    Ok(LabeledImages {
        x: decode_all(dir, &paths, opts)?,
        y,
        classes,
    })
}

/// Reads a folder of images whose file names start with their class digit (`3_IMG_6045.jpg`
/// and `0_IMG_5975 (1).jpg` are classes 3 and 0), the layout of the SIGNS JPEGs. The
/// classes are `"0"` up to the largest digit found; a name that does not start with a digit
/// is [`Error::BadFileName`].
pub fn load_signs_folder(dir: impl AsRef<Path>) -> Result<LabeledImages> {
    load_signs_folder_with(dir, &ImageFolderOptions::default())
}

/// [`load_signs_folder`] with options (a resize target).
pub fn load_signs_folder_with(
    dir: impl AsRef<Path>,
    opts: &ImageFolderOptions,
) -> Result<LabeledImages> {
    let dir = dir.as_ref();
    let paths = image_files(dir)?;
    if paths.is_empty() {
        return Err(Error::NoImages {
            dir: dir.to_path_buf(),
            detail: "expected .jpg, .jpeg or .png files named after their class digit, as \
                     3_IMG_6045.jpg"
                .to_string(),
        });
    }
    let mut y = Vec::with_capacity(paths.len());
    for p in &paths {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        match name.chars().next().and_then(|c| c.to_digit(10)) {
            Some(d) => y.push(d as usize),
            None => {
                return Err(Error::BadFileName {
                    file: p.clone(),
                    expected: "its class digit (as 3_IMG_6045.jpg, class 3)".to_string(),
                })
            }
        }
    }
    let n_classes = y.iter().max().map_or(0, |&m| m + 1);
    Ok(LabeledImages {
        x: decode_all(dir, &paths, opts)?,
        y,
        classes: (0..n_classes).map(|c| c.to_string()).collect(),
    })
}

/// Reads the SIGNS JPEGs under `root` (`data/signs/64x64_SIGNS`): `train_signs/`,
/// `val_signs/` and, when present, `test_signs/`, each with [`load_signs_folder`]. Every
/// split gets the classes `"0"` up to the largest digit found in any of them.
pub fn load_signs_jpegs(root: impl AsRef<Path>) -> Result<SignsJpegs> {
    let root = root.as_ref();
    let opts = ImageFolderOptions::default();
    let mut train = load_signs_folder_with(root.join("train_signs"), &opts)?;
    let mut val = load_signs_folder_with(root.join("val_signs"), &opts)?;
    let test_dir = root.join("test_signs");
    let mut test = if test_dir.is_dir() {
        Some(load_signs_folder_with(test_dir, &opts)?)
    } else {
        None
    };
    let n = [Some(&train), Some(&val), test.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| s.classes.len())
        .max()
        .unwrap_or(0);
    let classes: Vec<String> = (0..n).map(|c| c.to_string()).collect();
    for s in [Some(&mut train), Some(&mut val), test.as_mut()]
        .into_iter()
        .flatten()
    {
        s.classes.clone_from(&classes);
    }
    Ok(SignsJpegs { train, val, test })
}

/// Decodes one image file to RGB, resized if `resize` is given: the pixels (row-major,
/// `[height, width, 3]`, 0..255) and `[height, width]`.
pub fn load_image_rgb(
    path: impl AsRef<Path>,
    resize: Option<[usize; 2]>,
) -> Result<(Vec<u8>, [usize; 2])> {
    let path = path.as_ref();
    let img = image::ImageReader::open(path)
        .map_err(|e| io_error(path, e))?
        .with_guessed_format()
        .map_err(|e| io_error(path, e))?
        .decode()
        .map_err(|e| Error::Image {
            file: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    let mut rgb = img.to_rgb8();
    if let Some([h, w]) = resize {
        let (Ok(h32), Ok(w32)) = (u32::try_from(h), u32::try_from(w)) else {
            return Err(Error::Image {
                file: path.to_path_buf(),
                detail: format!("the resize target {h}x{w} is too large"),
            });
        };
        if h == 0 || w == 0 {
            return Err(Error::Image {
                file: path.to_path_buf(),
                detail: format!("the resize target {h}x{w} (height x width) is empty"),
            });
        }
        if (rgb.height(), rgb.width()) != (h32, w32) {
            rgb = image::imageops::resize(&rgb, w32, h32, FilterType::Triangle);
        }
    }
    let size = [rgb.height() as usize, rgb.width() as usize];
    Ok((rgb.into_raw(), size))
}

/// The entries of a folder, hidden ones left out, sorted by name: (name, path).
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let e = e.map_err(|e| io_error(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        out.push((name, e.path()));
    }
    out.sort_by(|a, b| a.1.file_name().cmp(&b.1.file_name()));
    Ok(out)
}

/// The image files directly in `dir`, sorted by name.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) && p.is_file()
        })
        .collect())
}

/// Decodes every file (in parallel) into one `[n, h, w, 3]` tensor, checking the sizes.
fn decode_all(dir: &Path, paths: &[PathBuf], opts: &ImageFolderOptions) -> Result<Tensor> {
    let decoded: Vec<Result<(Vec<u8>, [usize; 2])>> = paths
        .par_iter()
        .map(|p| load_image_rgb(p, opts.resize))
        .collect();
    let mut size = None;
    let mut data = Vec::new();
    for (p, d) in paths.iter().zip(decoded) {
        let (pixels, s) = d?;
        match size {
            None => {
                size = Some(s);
                data.reserve_exact(paths.len() * pixels.len());
            }
            Some(first) if first != s => {
                return Err(Error::ImageSize {
                    file: p.clone(),
                    found: s,
                    expected: first,
                    first: paths[0].clone(),
                })
            }
            Some(_) => {}
        }
        data.extend(pixels.iter().map(|&v| f32::from(v)));
    }
    let [h, w] = size.unwrap_or([0, 0]);
    Tensor::try_from_vec(data, &[paths.len(), h, w, 3]).map_err(|e| Error::Tensor {
        file: dir.to_path_buf(),
        dataset: "images".to_string(),
        source: Box::new(e),
    })
}

//! Inputs to predict on, without labels, from any file the readers know.

use std::path::{Path, PathBuf};

use dlkit_core::Tensor;

use crate::error::Result;
use crate::load::{invalid, read_error};
use crate::sniff::{extension, has_subdirs, is_image, lowercase_name, pick};
use crate::{
    list_h5_datasets, load_image_folder_with, load_image_rgb, read_h5_dataset, read_npy, read_npz,
    Dataset, Error, ImageFolderOptions,
};

/// Examples without labels, and a name for each (the file name of an image, else its index).
#[derive(Clone, Debug)]
pub struct Inputs {
    pub x: Tensor,
    pub names: Vec<String>,
}

/// Reads the inputs of `path` for a model whose raw examples have shape `raw_shape`: an image
/// file or a folder of images (resized to the model's height and width; for a model of
/// one-channel images `[h, w, 1]`, converted to grey), an `.h5` file (the
/// dataset ending in `_x`, or `x_name`), an `.npy` / `.npz` array, a CSV table of numbers (a
/// header row is skipped; a last column beyond the features is taken as labels and dropped),
/// an IDX image file or a MAT-file's `X`. One example without its batch axis gets one.
pub fn load_inputs(path: &Path, raw_shape: &[usize], x_name: Option<&str>) -> Result<Inputs> {
    if !path.exists() {
        return Err(Error::NotFound {
            file: path.to_path_buf(),
        });
    }
    let resize = match raw_shape {
        [h, w, 3] => Some([*h, *w]),
        _ => None,
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| read_error(path, e))?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        let images: Vec<PathBuf> = files.into_iter().filter(|p| is_image(p)).collect();
        if images.is_empty() && has_subdirs(path)? {
            let d: Dataset =
                load_image_folder_with(path, &ImageFolderOptions { resize })?.try_into()?;
            let m = d.len();
            return Ok(Inputs {
                x: d.x,
                names: (0..m).map(|i| i.to_string()).collect(),
            });
        }
        if images.is_empty() {
            return Err(invalid(path, "no .jpg, .jpeg or .png images in the folder"));
        }
        return images_to_inputs(&images, resize, raw_shape);
    }
    if is_image(path) {
        return images_to_inputs(&[path.to_path_buf()], resize, raw_shape);
    }
    let name = lowercase_name(path);
    let mut x =
        match extension(&name) {
            "h5" | "hdf5" => {
                let x_name = match x_name {
                    Some(n) => n.to_string(),
                    None => pick(path, &list_h5_datasets(path)?, &["_x", "x"])?,
                };
                read_h5_dataset(path, &x_name)?.to_tensor()?
            }
            "npy" => read_npy(path)?.to_tensor()?,
            "npz" => read_npz(path, x_name.unwrap_or("x"))?.to_tensor()?,
            "mat" => crate::read_mat_variable(path, x_name.unwrap_or("X"))?.to_tensor()?,
            "csv" => read_numeric_csv(path, raw_shape.iter().product())?,
            _ if name.contains("idx") => crate::load_idx_images(path)?,
            _ => return Err(invalid(
                path,
                "cannot tell the input format from the name; expected an image (.jpg, .png), a \
                 folder of images, .h5, .npy, .npz, .csv, .mat or an IDX file",
            )),
        };
    // One example without its batch axis.
    if x.shape() == raw_shape {
        let mut shape = vec![1];
        shape.extend_from_slice(raw_shape);
        x = x.reshape(&shape);
    }
    // IDX images come as [m, h, w, 1]; a model trained on flattened rows still takes them.
    let m = x.shape().first().copied().unwrap_or(0);
    Ok(Inputs {
        x,
        names: (0..m).map(|i| i.to_string()).collect(),
    })
}

/// Images of one size (or all resized to `resize`) as `[m, h, w, 3]` pixel values 0..255;
/// for a model of grey images (`raw_shape` `[h, w, 1]`), resized to `[h, w]` and converted
/// to `[m, h, w, 1]` grey values (see [`grey`]).
fn images_to_inputs(
    files: &[PathBuf],
    resize: Option<[usize; 2]>,
    raw_shape: &[usize],
) -> Result<Inputs> {
    let (resize, channels) = match raw_shape {
        [h, w, 1] => (Some([*h, *w]), 1),
        _ => (resize, 3),
    };
    let mut values = Vec::new();
    let mut size = None;
    for f in files {
        let (mut pixels, hw) = load_image_rgb(f, resize)?;
        if channels == 1 {
            pixels = grey(&pixels);
        }
        match size {
            None => size = Some(hw),
            Some(s) if s != hw => {
                return Err(invalid(
                    f,
                    format!(
                        "image of {}x{} pixels, but the first image has {}x{}; give images of \
                         one size or a model with a known input size",
                        hw[0], hw[1], s[0], s[1]
                    ),
                ))
            }
            Some(_) => {}
        }
        values.extend(pixels.into_iter().map(f32::from));
    }
    let [h, w] = size.unwrap_or([0, 0]);
    Ok(Inputs {
        x: Tensor::from_vec(values, &[files.len(), h, w, channels]),
        names: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
    })
}

/// RGB pixels to grey with the Rec. 709 luma `0.2126 R + 0.7152 G + 0.0722 B`, rounded (as
/// the `image` crate's `to_luma8`): a grey pixel keeps its value exactly.
fn grey(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| {
            let y = 0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2]);
            y.round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// A CSV of numbers, one example per row: a first row that is not all numbers is a header;
/// with `features + 1` columns the last one (labels) is dropped.
fn read_numeric_csv(path: &Path, features: usize) -> Result<Tensor> {
    let text = std::fs::read_to_string(path).map_err(|e| read_error(path, e))?;
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: std::result::Result<Vec<f32>, _> =
            line.split(',').map(|f| f.trim().parse()).collect();
        match parsed {
            Ok(row) => rows.push(row),
            Err(_) if i == 0 => continue,
            Err(e) => {
                return Err(invalid(
                    path,
                    format!("line {}: not a row of numbers ({e})", i + 1),
                ))
            }
        }
    }
    let Some(width) = rows.first().map(Vec::len) else {
        return Err(invalid(path, "no rows of numbers"));
    };
    let keep = if width == features + 1 {
        features
    } else {
        width
    };
    let mut values = Vec::with_capacity(rows.len() * keep);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(invalid(
                path,
                format!(
                    "row {} has {} fields but the first has {width}",
                    i + 1,
                    row.len()
                ),
            ));
        }
        values.extend_from_slice(&row[..keep]);
    }
    Ok(Tensor::from_vec(values, &[rows.len(), keep]))
}

//! An in-memory labelled dataset: inputs `x` of shape `[m, ...features]` and one label per
//! example, either a class index (classification) or a row of real-valued targets
//! (regression).
//!
//! ```
//! use dlkit_core::Tensor;
//! use dlkit_data::{Dataset, Labels};
//! # fn main() -> dlkit_data::Result<()> {
//! let x = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]);
//! let data = Dataset::classification(x, vec![1, 0, 1], vec!["no".into(), "yes".into()])?;
//! assert_eq!((data.len(), data.num_classes()), (3, Some(2)));
//! let picked = data.select(&[2, 0])?;
//! assert_eq!(picked.x.to_vec::<f32>(), [4.0, 5.0, 0.0, 1.0]);
//! assert_eq!(picked.y.class_indices(), Some(&[1, 1][..]));
//! # Ok(())
//! # }
//! ```

use dlkit_core::{with_dtype, Rng, Tensor};

use crate::error::{Error, Result};
use crate::h5::LabeledImages;

/// The labels of a [`Dataset`], one per example.
#[derive(Clone, Debug)]
pub enum Labels {
    /// Class indices, each below `names.len()`; `names[k]` is the name of class `k`.
    Classes {
        indices: Vec<usize>,
        names: Vec<String>,
    },
    /// Real-valued targets `[m]` or `[m, ...]` (regression), any float dtype.
    Targets(Tensor),
}

impl Labels {
    /// Class labels whose names are their numbers, `"0"` to `"num_classes - 1"`.
    pub fn numbered_classes(indices: Vec<usize>, num_classes: usize) -> Labels {
        Labels::Classes {
            indices,
            names: (0..num_classes).map(|k| k.to_string()).collect(),
        }
    }

    /// The number of labels (examples).
    pub fn len(&self) -> usize {
        match self {
            Labels::Classes { indices, .. } => indices.len(),
            Labels::Targets(t) => t.shape().first().copied().unwrap_or(0),
        }
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of classes (the length of the class-name list), `None` for targets.
    pub fn num_classes(&self) -> Option<usize> {
        match self {
            Labels::Classes { names, .. } => Some(names.len()),
            Labels::Targets(_) => None,
        }
    }

    /// The class index of every example, `None` for targets.
    pub fn class_indices(&self) -> Option<&[usize]> {
        match self {
            Labels::Classes { indices, .. } => Some(indices),
            Labels::Targets(_) => None,
        }
    }

    /// The class names, indexed by class, `None` for targets.
    pub fn class_names(&self) -> Option<&[String]> {
        match self {
            Labels::Classes { names, .. } => Some(names),
            Labels::Targets(_) => None,
        }
    }

    /// The targets tensor, `None` for class labels.
    pub fn targets(&self) -> Option<&Tensor> {
        match self {
            Labels::Targets(t) => Some(t),
            Labels::Classes { .. } => None,
        }
    }

    /// How many examples each class has, indexed by class; `None` for targets.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let Labels::Classes { indices, names } = self else {
            return None;
        };
        Some(count_classes(indices, names.len()))
    }

    /// The labels of examples `indices`, in that order (repeats allowed).
    pub fn select(&self, indices: &[usize]) -> Result<Labels> {
        check_indices("Labels::select", indices, self.len())?;
        Ok(self.select_unchecked(indices))
    }

    pub(crate) fn select_unchecked(&self, indices: &[usize]) -> Labels {
        match self {
            Labels::Classes {
                indices: all,
                names,
            } => Labels::Classes {
                indices: indices.iter().map(|&i| all[i]).collect(),
                names: names.clone(),
            },
            Labels::Targets(t) => Labels::Targets(gather_rows(t, indices)),
        }
    }

    /// Checks the labels against `m` examples: the count and, for classes, every index.
    fn validate(&self, context: &str, m: usize) -> Result<()> {
        if self.len() != m {
            return Err(invalid(
                context,
                format!(
                    "x holds {m} examples but there are {} labels; the counts must agree",
                    self.len()
                ),
            ));
        }
        match self {
            Labels::Classes { indices, names } => {
                if let Some((i, &k)) = indices.iter().enumerate().find(|(_, &k)| k >= names.len()) {
                    return Err(invalid(
                        context,
                        format!(
                            "label {i} is class {k} but there are {} class names; \
                             expected a class index below {}",
                            names.len(),
                            names.len()
                        ),
                    ));
                }
            }
            Labels::Targets(t) => {
                if t.rank() == 0 {
                    return Err(invalid(
                        context,
                        "the targets are a scalar; expected a tensor [m] or [m, ...]",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An in-memory labelled dataset: `x` is `[m, ...features]` (a dense `[m, n_x]` matrix or
/// NHWC images `[m, h, w, c]`), `y` holds one label per example.
///
/// The fields are public for convenience; [`Dataset::new`] and the other constructors check
/// that they agree, and [`Dataset::select`] checks again.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub x: Tensor,
    pub y: Labels,
}

impl Dataset {
    /// A dataset of inputs `x` `[m, ...]` and labels `y`; errors when `x` is a scalar, when
    /// the counts differ, or when a class index is not below the number of class names.
    pub fn new(x: Tensor, y: Labels) -> Result<Dataset> {
        let data = Dataset { x, y };
        data.validate("Dataset::new")?;
        Ok(data)
    }

    /// A classification dataset: one class index per example and the class names.
    pub fn classification(x: Tensor, indices: Vec<usize>, names: Vec<String>) -> Result<Dataset> {
        Dataset::new(x, Labels::Classes { indices, names })
    }

    /// A regression dataset: targets `[m]` or `[m, ...]`.
    pub fn regression(x: Tensor, targets: Tensor) -> Result<Dataset> {
        Dataset::new(x, Labels::Targets(targets))
    }

    fn validate(&self, context: &str) -> Result<()> {
        if self.x.rank() == 0 {
            return Err(invalid(
                context,
                "x is a scalar; expected a tensor [m, ...features]",
            ));
        }
        self.y.validate(context, self.x.shape()[0])
    }

    /// The number of examples `m`.
    pub fn len(&self) -> usize {
        self.x.shape().first().copied().unwrap_or(0)
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one example: `x`'s shape without its first axis.
    pub fn feature_shape(&self) -> &[usize] {
        self.x.shape().get(1..).unwrap_or(&[])
    }

    /// The number of values per example (the product of [`Dataset::feature_shape`]).
    pub fn num_features(&self) -> usize {
        self.feature_shape().iter().product()
    }

    /// The number of classes, `None` for a regression dataset.
    pub fn num_classes(&self) -> Option<usize> {
        self.y.num_classes()
    }

    /// How many examples each class has, indexed by class; `None` for a regression dataset.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        self.y.class_counts()
    }

    /// A new dataset of the examples `indices`, in that order (repeats allowed): rows of `x`
    /// and of the labels are copied. The copy is not tracked by autograd (data, not a graph).
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        self.validate("Dataset::select")?;
        check_indices("Dataset::select", indices, self.len())?;
        Ok(self.select_unchecked(indices))
    }

    /// [`Dataset::select`] for indices known to be valid on a validated dataset.
    pub(crate) fn select_unchecked(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: gather_rows(&self.x, indices),
            y: self.y.select_unchecked(indices),
        }
    }

    /// The same labels with other inputs (after preprocessing, say); the number of examples
    /// must not change.
    pub fn with_x(&self, x: Tensor) -> Result<Dataset> {
        let data = Dataset {
            x,
            y: self.y.clone(),
        };
        data.validate("Dataset::with_x")?;
        Ok(data)
    }
}

impl TryFrom<LabeledImages> for Dataset {
    type Error = Error;

    /// The course's HDF5 image sets as a classification dataset.
    fn try_from(images: LabeledImages) -> Result<Dataset> {
        Dataset::classification(images.x, images.y, images.classes)
    }
}

/// An [`Error::Invalid`] naming `context`.
pub(crate) fn invalid(context: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        context: context.to_string(),
        detail: detail.into(),
    }
}

/// How many of `labels` are each class `0..classes` (labels out of range are not counted).
pub(crate) fn count_classes(labels: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &k in labels {
        if let Some(c) = counts.get_mut(k) {
            *c += 1;
        }
    }
    counts
}

fn check_indices(context: &str, indices: &[usize], m: usize) -> Result<()> {
    match indices.iter().enumerate().find(|(_, &i)| i >= m) {
        Some((pos, &i)) => Err(invalid(
            context,
            format!("index {i} (position {pos}) is out of range for {m} examples"),
        )),
        None => Ok(()),
    }
}

/// Copies rows `indices` of `x` (along its first axis) into a new contiguous tensor.
/// The indices must be below `x.shape()[0]`.
pub(crate) fn gather_rows(x: &Tensor, indices: &[usize]) -> Tensor {
    let mut shape = x.shape().to_vec();
    let row: usize = shape[1..].iter().product();
    shape[0] = indices.len();
    with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        let mut out = Vec::with_capacity(indices.len() * row);
        for &i in indices {
            out.extend_from_slice(&d[i * row..(i + 1) * row]);
        }
        Tensor::from_vec(out, &shape)
    }))
}

/// Fisher–Yates shuffle drawing from `rng` (the same seed gives the same order everywhere).
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::DType;

    fn toy() -> Dataset {
        let x = Tensor::from_vec((0..12).map(|v| v as f32).collect(), &[4, 3]);
        Dataset::classification(
            x,
            vec![0, 1, 2, 1],
            vec!["a".into(), "b".into(), "c".into()],
        )
        .unwrap()
    }

    #[test]
    fn len_features_and_classes() {
        let d = toy();
        assert_eq!(d.len(), 4);
        assert!(!d.is_empty());
        assert_eq!(d.feature_shape(), &[3]);
        assert_eq!(d.num_features(), 3);
        assert_eq!(d.num_classes(), Some(3));
        assert_eq!(d.class_counts(), Some(vec![1, 2, 1]));
    }

    #[test]
    fn select_gathers_rows_and_labels_in_order() {
        let d = toy();
        let s = d.select(&[3, 0, 3]).unwrap();
        assert_eq!(s.x.shape(), &[3, 3]);
        assert_eq!(
            s.x.to_vec::<f32>(),
            [9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 9.0, 10.0, 11.0]
        );
        assert_eq!(s.y.class_indices(), Some(&[1, 0, 1][..]));
        assert_eq!(s.y.class_names().unwrap(), d.y.class_names().unwrap());
        let empty = d.select(&[]).unwrap();
        assert_eq!((empty.len(), empty.x.shape()), (0, &[0usize, 3][..]));
    }

    #[test]
    fn select_images_and_targets() {
        let x = Tensor::from_vec((0..24).map(|v| v as f64).collect(), &[3, 2, 2, 2]);
        let t = Tensor::from_vec(vec![0.5f64, 1.5, 2.5], &[3, 1]);
        let d = Dataset::regression(x, t).unwrap();
        assert_eq!(d.num_classes(), None);
        assert_eq!(d.num_features(), 8);
        let s = d.select(&[1]).unwrap();
        assert_eq!(s.x.shape(), &[1, 2, 2, 2]);
        assert_eq!(
            s.x.to_vec::<f64>(),
            (8..16).map(|v| v as f64).collect::<Vec<_>>()
        );
        assert_eq!(s.y.targets().unwrap().to_vec::<f64>(), [1.5]);
    }

    #[test]
    fn select_of_a_strided_view() {
        let x = Tensor::from_vec((0..6).map(|v| v as f32).collect(), &[2, 3]).t();
        let d = Dataset::new(x, Labels::numbered_classes(vec![0, 1, 0], 2)).unwrap();
        assert_eq!(
            d.select(&[2, 1]).unwrap().x.to_vec::<f32>(),
            [2.0, 5.0, 1.0, 4.0]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let x = Tensor::zeros(&[3, 2], DType::F32);
        let e = Dataset::classification(x.clone(), vec![0, 1], vec!["a".into(), "b".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 examples") && e.contains("2 labels"), "{e}");
        let e = Dataset::classification(x.clone(), vec![0, 1, 2], vec!["a".into(), "b".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 2 is class 2"), "{e}");
        let e = Dataset::regression(Tensor::scalar(1.0f32), Tensor::zeros(&[1], DType::F32))
            .unwrap_err()
            .to_string();
        assert!(e.contains("scalar"), "{e}");
        let d = toy();
        let e = d.select(&[0, 4]).unwrap_err().to_string();
        assert!(
            e.contains("Dataset::select") && e.contains("index 4 (position 1)"),
            "{e}"
        );
    }

    #[test]
    fn from_course_images() {
        let images = LabeledImages {
            x: Tensor::zeros(&[2, 4, 4, 3], DType::F32),
            y: vec![1, 0],
            classes: vec!["non-cat".into(), "cat".into()],
        };
        let d = Dataset::try_from(images).unwrap();
        assert_eq!(
            (d.len(), d.num_classes(), d.feature_shape()),
            (2, Some(2), &[4usize, 4, 3][..])
        );
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        shuffle(&mut a, &mut Rng::new(7));
        shuffle(&mut b, &mut Rng::new(7));
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}

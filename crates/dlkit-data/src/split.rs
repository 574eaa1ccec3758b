//! Train / dev / test splits by ratios, optionally stratified by class, with an optional
//! train-dev set held out of the training share; or a training set of a few examples of
//! each class ([`SplitConfig::per_class`]) with the rest cut into dev and test.
//!
//! The course's rules of thumb are [`SplitConfig::small_data`] (60/20/20, for up to some
//! ten thousand examples) and [`SplitConfig::big_data`] (98/1/1, for a million). The
//! train-dev set (course 3, "mismatched training and dev/test data") comes from the same
//! distribution as the training set but is not trained on: the gap between training error
//! and train-dev error is variance, the gap between train-dev error and dev error is data
//! mismatch.
//!
//! ```
//! use dlkit_core::{Rng, Tensor};
//! use dlkit_data::{Dataset, SplitConfig};
//! # fn main() -> dlkit_data::Result<()> {
//! let x = Tensor::from_vec((0..100).map(|v| v as f32).collect(), &[100, 1]);
//! let y: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
//! let data = Dataset::classification(x, y, vec!["other".into(), "fourth".into()])?;
//! let splits = SplitConfig::small_data()
//!     .stratified(true)
//!     .with_train_dev(0.1)
//!     .split(&data, &mut Rng::new(0))?;
//! assert_eq!(splits.dev.len(), 20);
//! assert_eq!(splits.test.class_counts(), Some(vec![15, 5]));
//! assert_eq!(splits.train.len() + splits.train_dev.as_ref().unwrap().len(), 60);
//! # Ok(())
//! # }
//! ```

use dlkit_core::Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::{invalid, shuffle, Dataset};
use crate::error::Result;

/// How far the ratios' sum may be from 1 (so that `0.7 + 0.15 + 0.15` is accepted).
pub const RATIO_SUM_TOLERANCE: f64 = 1e-6;

/// The shares of the train, dev and test splits, each `>= 0`, summing to 1.
///
/// Serialises as a config table, e.g. in TOML:
/// `train = 0.6`, `dev = 0.2`, `test = 0.2`, `train_dev = 0.1`, `stratify = true`
/// (any field may be left out: the ratios are then 0, `stratify` false,
/// `train_per_class` none).
///
/// Sizes: the `m` examples are apportioned by the largest-remainder method, so the sizes
/// sum to `m` exactly and each is within one example of `ratio * m` (209 at 60/20/20 gives
/// 125/42/42). With `stratify`, this is done class by class, so each class's count in each
/// split is within one example of `ratio * class count`; the split sizes then may differ
/// from the unstratified ones by up to one example per class. A split with a ratio above 0
/// may still be empty when `m` is small (98/1/1 of 50 examples).
///
/// With `train_per_class = n` (and `train` left out), the training set is `n` examples of
/// each class, drawn at random (a class with fewer gives all of its examples), as for
/// transfer learning from a few labelled examples: `{ train_per_class = 10, test = 1.0 }`.
/// The examples left over go to dev and test in the ratio `dev : test` (which must sum to 1),
/// apportioned as above (class by class with `stratify`), so with `test = 1.0` all of them
/// are the test set. No train-dev set is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitConfig {
    /// The training share (before the train-dev set is taken out of it); left out (0) with
    /// `train_per_class`.
    #[serde(default)]
    pub train: f64,
    /// The dev (hold-out, validation) share.
    #[serde(default)]
    pub dev: f64,
    /// The test share.
    #[serde(default)]
    pub test: f64,
    /// The fraction of the training share held out as the train-dev set, in `[0, 1)`:
    /// with `train = 0.6` and `train_dev = 0.1` the training set gets 54% of the examples
    /// and the train-dev set 6%. 0 (the default) makes no train-dev set.
    #[serde(default)]
    pub train_dev: f64,
    /// Keep each class's proportion in every split (needs class labels).
    #[serde(default)]
    pub stratify: bool,
    /// At most this many training examples of each class, instead of a `train` share (needs
    /// class labels); `None` (the default) splits by the `train` share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_per_class: Option<usize>,
}

impl SplitConfig {
    /// Splits with these shares, not stratified, no train-dev set (checked when used, or by
    /// [`SplitConfig::validate`]).
    pub fn new(train: f64, dev: f64, test: f64) -> SplitConfig {
        SplitConfig {
            train,
            dev,
            test,
            train_dev: 0.0,
            stratify: false,
            train_per_class: None,
        }
    }

    /// A training set of at most `n` examples of each class; the rest cut `dev : test`
    /// (`dev + test` summing to 1), not stratified.
    pub fn per_class(n: usize, dev: f64, test: f64) -> SplitConfig {
        SplitConfig {
            train_per_class: Some(n),
            ..SplitConfig::new(0.0, dev, test)
        }
    }

    /// The course's split for small datasets: 60% train, 20% dev, 20% test.
    pub fn small_data() -> SplitConfig {
        SplitConfig::new(0.6, 0.2, 0.2)
    }

    /// The course's split for big datasets (a million examples): 98% / 1% / 1%.
    pub fn big_data() -> SplitConfig {
        SplitConfig::new(0.98, 0.01, 0.01)
    }

    /// Turns stratification by class on or off.
    pub fn stratified(mut self, on: bool) -> SplitConfig {
        self.stratify = on;
        self
    }

    /// Holds `fraction` of the training share out as a train-dev set.
    pub fn with_train_dev(mut self, fraction: f64) -> SplitConfig {
        self.train_dev = fraction;
        self
    }

    /// Checks that every ratio is finite and `>= 0`, that train, dev and test sum to 1
    /// (within [`RATIO_SUM_TOLERANCE`]) and that `train_dev` is in `[0, 1)`; with
    /// `train_per_class`, that it is at least 1, that `train` and `train_dev` are 0 and that
    /// dev and test sum to 1.
    pub fn validate(&self) -> Result<()> {
        for (name, r) in [
            ("train", self.train),
            ("dev", self.dev),
            ("test", self.test),
            ("train_dev", self.train_dev),
        ] {
            if !r.is_finite() || r < 0.0 {
                return Err(invalid(
                    "split",
                    format!("ratio '{name}' is {r}; expected a number >= 0"),
                ));
            }
        }
        if let Some(n) = self.train_per_class {
            return self.validate_per_class(n);
        }
        let sum = self.train + self.dev + self.test;
        if (sum - 1.0).abs() > RATIO_SUM_TOLERANCE {
            return Err(invalid(
                "split",
                format!(
                    "ratios train {} + dev {} + test {} sum to {sum}; expected them to sum to 1",
                    self.train, self.dev, self.test
                ),
            ));
        }
        if self.train_dev >= 1.0 {
            return Err(invalid(
                "split",
                format!(
                    "'train_dev' is {}; expected a fraction of the training share in [0, 1)",
                    self.train_dev
                ),
            ));
        }
        Ok(())
    }

    /// The checks that `train_per_class = n` makes instead of the ratios' sum.
    fn validate_per_class(&self, n: usize) -> Result<()> {
        if n == 0 {
            return Err(invalid(
                "split",
                "'train_per_class' is 0; expected at least 1 example of each class",
            ));
        }
        for (name, r) in [("train", self.train), ("train_dev", self.train_dev)] {
            if r != 0.0 {
                return Err(invalid(
                    "split",
                    format!(
                        "'{name}' is {r}, but 'train_per_class' = {n} sets the training set \
                         ({n} examples of each class): leave '{name}' out"
                    ),
                ));
            }
        }
        let sum = self.dev + self.test;
        if (sum - 1.0).abs() > RATIO_SUM_TOLERANCE {
            return Err(invalid(
                "split",
                format!(
                    "ratios dev {} + test {} sum to {sum}; with 'train_per_class' expected them \
                     to sum to 1 (the shares of the examples left after the training set)",
                    self.dev, self.test
                ),
            ));
        }
        Ok(())
    }

    /// The shares of the four parts: train (less train-dev), train-dev, dev, test.
    fn shares(&self) -> [f64; 4] {
        [
            self.train * (1.0 - self.train_dev),
            self.train * self.train_dev,
            self.dev,
            self.test,
        ]
    }

    /// The example indices of each split, for `m` examples with class labels `classes`
    /// (needed when stratifying or with `train_per_class`, ignored otherwise). Every index
    /// `0..m` is in exactly one split; the order within each split is random. The same `rng`
    /// state gives the same splits.
    pub fn split_indices(
        &self,
        m: usize,
        classes: Option<&[usize]>,
        rng: &mut Rng,
    ) -> Result<SplitIndices> {
        self.validate()?;
        if let Some(n) = self.train_per_class {
            return self.per_class_indices(n, m, classes, rng);
        }
        let shares = self.shares();
        let mut parts: [Vec<usize>; 4] = Default::default();
        if self.stratify {
            for mut group in class_groups(m, classes, "stratify")? {
                shuffle(&mut group, rng);
                cut_into(&group, &shares, &mut parts);
            }
            for part in &mut parts {
                shuffle(part, rng);
            }
        } else {
            let mut all: Vec<usize> = (0..m).collect();
            shuffle(&mut all, rng);
            cut_into(&all, &shares, &mut parts);
        }
        let [train, train_dev, dev, test] = parts;
        Ok(SplitIndices {
            train,
            train_dev: (self.train_dev > 0.0).then_some(train_dev),
            dev,
            test,
        })
    }

    /// [`SplitConfig::split_indices`] with `train_per_class = n`: each class's examples
    /// shuffled, the first `n` (or all) to train, the rest cut `dev : test` class by class
    /// (`stratify`) or, joined and shuffled, all together.
    fn per_class_indices(
        &self,
        n: usize,
        m: usize,
        classes: Option<&[usize]>,
        rng: &mut Rng,
    ) -> Result<SplitIndices> {
        let shares = [0.0, 0.0, self.dev, self.test];
        let mut parts: [Vec<usize>; 4] = Default::default();
        let mut rest = Vec::new();
        for mut group in class_groups(m, classes, "train_per_class")? {
            shuffle(&mut group, rng);
            let (train, left) = group.split_at(n.min(group.len()));
            parts[0].extend_from_slice(train);
            if self.stratify {
                cut_into(left, &shares, &mut parts);
            } else {
                rest.extend_from_slice(left);
            }
        }
        if !self.stratify {
            shuffle(&mut rest, rng);
            cut_into(&rest, &shares, &mut parts);
        }
        for part in &mut parts {
            shuffle(part, rng);
        }
        let [train, _, dev, test] = parts;
        Ok(SplitIndices {
            train,
            train_dev: None,
            dev,
            test,
        })
    }

    /// Splits `data` (see [`SplitConfig::split_indices`]); stratifies by its class labels.
    pub fn split(&self, data: &Dataset, rng: &mut Rng) -> Result<DataSplits> {
        let idx = self.split_indices(data.len(), data.y.class_indices(), rng)?;
        idx.apply(data)
    }
}

/// The example indices of each split (see [`SplitConfig::split_indices`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitIndices {
    pub train: Vec<usize>,
    /// Present when the config's `train_dev` is above 0.
    pub train_dev: Option<Vec<usize>>,
    pub dev: Vec<usize>,
    pub test: Vec<usize>,
}

impl SplitIndices {
    /// The datasets these indices select from `data`.
    pub fn apply(&self, data: &Dataset) -> Result<DataSplits> {
        Ok(DataSplits {
            train: data.select(&self.train)?,
            train_dev: self
                .train_dev
                .as_ref()
                .map(|idx| data.select(idx))
                .transpose()?,
            dev: data.select(&self.dev)?,
            test: data.select(&self.test)?,
        })
    }
}

/// A dataset split into train, an optional train-dev, dev and test.
#[derive(Clone, Debug)]
pub struct DataSplits {
    pub train: Dataset,
    pub train_dev: Option<Dataset>,
    pub dev: Dataset,
    pub test: Dataset,
}

/// The example indices of each class (in order), for the `m` class labels `classes` that
/// `field` of the split config needs.
fn class_groups(m: usize, classes: Option<&[usize]>, field: &str) -> Result<Vec<Vec<usize>>> {
    let classes = classes.ok_or_else(|| {
        invalid(
            "split",
            format!("'{field}' needs class labels; the dataset has real-valued targets"),
        )
    })?;
    if classes.len() != m {
        return Err(invalid(
            "split",
            format!("{} class labels for {m} examples", classes.len()),
        ));
    }
    let num_classes = classes.iter().max().map_or(0, |&k| k + 1);
    let mut groups = vec![Vec::new(); num_classes];
    for (i, &k) in classes.iter().enumerate() {
        groups[k].push(i);
    }
    Ok(groups)
}

/// Appends consecutive pieces of `items`, sized by [`apportion`], to `parts`.
fn cut_into(items: &[usize], shares: &[f64; 4], parts: &mut [Vec<usize>; 4]) {
    let sizes = apportion(items.len(), shares);
    let mut start = 0;
    for (part, size) in parts.iter_mut().zip(sizes) {
        part.extend_from_slice(&items[start..start + size]);
        start += size;
    }
}

/// Sizes summing to `n` in proportion to `shares` (each `>= 0`, not all 0), by the
/// largest-remainder (Hamilton) method: each size is `floor(quota)` or `ceil(quota)` for
/// `quota = n * share / sum(shares)`; the leftover examples go to the largest fractional
/// parts, ties to the earlier share. A share of 0 always gets 0.
fn apportion<const K: usize>(n: usize, shares: &[f64; K]) -> [usize; K] {
    let total: f64 = shares.iter().sum();
    let mut sizes = [0usize; K];
    if n == 0 || total <= 0.0 {
        return sizes;
    }
    let quotas = shares.map(|s| n as f64 * s / total);
    // A tiny slack so that 0.29 * 100 = 28.999999999999996 counts as 29.
    for (size, q) in sizes.iter_mut().zip(&quotas) {
        *size = ((q + 1e-9).floor() as usize).min(n);
    }
    let fraction = |k: usize, sizes: &[usize; K]| quotas[k] - sizes[k] as f64;
    while sizes.iter().sum::<usize>() > n {
        // Only possible through the slack: take back from the smallest fractional part.
        let k = (0..K)
            .filter(|&k| sizes[k] > 0)
            .min_by(|&a, &b| fraction(a, &sizes).total_cmp(&fraction(b, &sizes)))
            .expect("a positive size");
        sizes[k] -= 1;
    }
    let mut order: Vec<usize> = (0..K).filter(|&k| shares[k] > 0.0).collect();
    // Stable sort: ties keep the earlier share first.
    order.sort_by(|&a, &b| fraction(b, &sizes).total_cmp(&fraction(a, &sizes)));
    let left = n - sizes.iter().sum::<usize>();
    for i in 0..left {
        sizes[order[i % order.len()]] += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::{DType, Tensor};

    fn dataset(classes: &[usize]) -> Dataset {
        let m = classes.len();
        let x = Tensor::from_vec((0..m).map(|v| v as f32).collect(), &[m, 1]);
        let num_classes = classes.iter().max().map_or(0, |k| k + 1);
        Dataset::classification(
            x,
            classes.to_vec(),
            (0..num_classes).map(|k| format!("c{k}")).collect(),
        )
        .unwrap()
    }

    fn all(idx: &SplitIndices) -> Vec<usize> {
        let mut v = [
            &idx.train[..],
            idx.train_dev.as_deref().unwrap_or(&[]),
            &idx.dev,
            &idx.test,
        ]
        .concat();
        v.sort();
        v
    }

    #[test]
    fn apportion_sums_and_stays_within_one() {
        assert_eq!(apportion(209, &[0.6, 0.0, 0.2, 0.2]), [125, 0, 42, 42]);
        assert_eq!(apportion(100, &[0.98, 0.0, 0.01, 0.01]), [98, 0, 1, 1]);
        assert_eq!(apportion(100, &[0.71, 0.0, 0.29, 0.0]), [71, 0, 29, 0]);
        assert_eq!(apportion(0, &[0.6, 0.0, 0.2, 0.2]), [0, 0, 0, 0]);
        assert_eq!(apportion(2, &[0.6, 0.0, 0.2, 0.2]), [1, 0, 1, 0]);
        for n in 0..300 {
            for shares in [
                [0.6, 0.0, 0.2, 0.2],
                [0.54, 0.06, 0.2, 0.2],
                [0.98, 0.0, 0.01, 0.01],
                [1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0],
                [0.7, 0.0, 0.15, 0.15],
            ] {
                let sizes = apportion(n, &shares);
                assert_eq!(sizes.iter().sum::<usize>(), n, "{n} {shares:?}");
                for (s, r) in sizes.iter().zip(shares) {
                    assert!(
                        (*s as f64 - r * n as f64).abs() < 1.0 + 1e-9,
                        "{n} {shares:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn course_ratios_give_the_expected_sizes() {
        let idx = SplitConfig::small_data()
            .split_indices(209, None, &mut Rng::new(1))
            .unwrap();
        assert_eq!(
            (idx.train.len(), idx.dev.len(), idx.test.len()),
            (125, 42, 42)
        );
        assert_eq!(idx.train_dev, None);
        let idx = SplitConfig::big_data()
            .split_indices(10_000, None, &mut Rng::new(1))
            .unwrap();
        assert_eq!(
            (idx.train.len(), idx.dev.len(), idx.test.len()),
            (9800, 100, 100)
        );
    }

    #[test]
    fn no_example_in_two_splits_and_none_lost() {
        let classes: Vec<usize> = (0..503).map(|i| (i * 7 + i / 3) % 5).collect();
        for cfg in [
            SplitConfig::small_data(),
            SplitConfig::big_data(),
            SplitConfig::small_data().stratified(true),
            SplitConfig::small_data().with_train_dev(0.25),
            SplitConfig::big_data()
                .stratified(true)
                .with_train_dev(0.02),
            SplitConfig::new(0.5, 0.5, 0.0),
        ] {
            let idx = cfg
                .split_indices(503, Some(&classes), &mut Rng::new(3))
                .unwrap();
            assert_eq!(all(&idx), (0..503).collect::<Vec<_>>(), "{cfg:?}");
            assert_eq!(idx.train_dev.is_some(), cfg.train_dev > 0.0);
        }
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let classes: Vec<usize> = (0..200).map(|i| i % 3).collect();
        for cfg in [
            SplitConfig::small_data().with_train_dev(0.1),
            SplitConfig::small_data()
                .stratified(true)
                .with_train_dev(0.1),
        ] {
            let a = cfg
                .split_indices(200, Some(&classes), &mut Rng::new(42))
                .unwrap();
            let b = cfg
                .split_indices(200, Some(&classes), &mut Rng::new(42))
                .unwrap();
            let c = cfg
                .split_indices(200, Some(&classes), &mut Rng::new(43))
                .unwrap();
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn stratified_keeps_class_proportions_within_one_example() {
        // Unbalanced classes: 137 / 72 as in cat/non-cat, plus a rare third class.
        let mut classes = vec![0; 137];
        classes.extend(vec![1; 72]);
        classes.extend(vec![2; 9]);
        let data = dataset(&classes);
        let counts = data.class_counts().unwrap();
        for cfg in [
            SplitConfig::small_data().stratified(true),
            SplitConfig::small_data()
                .stratified(true)
                .with_train_dev(0.2),
            SplitConfig::new(0.8, 0.1, 0.1).stratified(true),
        ] {
            let s = cfg.split(&data, &mut Rng::new(5)).unwrap();
            let shares = cfg.shares();
            let parts = [
                Some(&s.train),
                s.train_dev.as_ref(),
                Some(&s.dev),
                Some(&s.test),
            ];
            for (part, share) in parts.iter().zip(shares) {
                let Some(part) = part else { continue };
                let got = part.class_counts().unwrap();
                for (k, (&g, &n)) in got.iter().zip(&counts).enumerate() {
                    let want = share * n as f64;
                    assert!(
                        (g as f64 - want).abs() < 1.0 + 1e-9,
                        "{cfg:?}: class {k} has {g}, expected {want}"
                    );
                }
            }
            // Order within a split is shuffled, not grouped by class.
            let y = s.train.y.class_indices().unwrap();
            assert!(y.windows(2).any(|w| w[0] > w[1]));
        }
    }

    #[test]
    fn unstratified_split_of_a_dataset_selects_the_rows() {
        let data = dataset(&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
        let cfg = SplitConfig::small_data();
        let idx = cfg.split_indices(10, None, &mut Rng::new(9)).unwrap();
        let s = cfg.split(&data, &mut Rng::new(9)).unwrap();
        assert_eq!(
            s.test.x.to_vec::<f32>(),
            idx.test.iter().map(|&i| i as f32).collect::<Vec<_>>()
        );
        assert_eq!((s.train.len(), s.dev.len(), s.test.len()), (6, 2, 2));
        assert!(s.train_dev.is_none());
    }

    #[test]
    fn train_dev_is_held_out_of_the_training_share() {
        let idx = SplitConfig::small_data()
            .with_train_dev(0.1)
            .split_indices(1000, None, &mut Rng::new(0))
            .unwrap();
        assert_eq!(idx.train.len(), 540);
        assert_eq!(idx.train_dev.as_ref().unwrap().len(), 60);
        assert_eq!((idx.dev.len(), idx.test.len()), (200, 200));
    }

    #[test]
    fn invalid_configs_are_errors() {
        let rng = &mut Rng::new(0);
        let e = SplitConfig::new(0.6, 0.2, 0.3)
            .split_indices(10, None, rng)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sum to 1.1") && e.contains("expected them to sum to 1"),
            "{e}"
        );
        let e = SplitConfig::new(1.2, -0.1, -0.1)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("'dev' is -0.1"), "{e}");
        let e = SplitConfig::new(f64::NAN, 0.5, 0.5)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("'train' is NaN"), "{e}");
        let e = SplitConfig::small_data()
            .with_train_dev(1.0)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("[0, 1)"), "{e}");
        assert!(SplitConfig::new(0.7, 0.15, 0.15).validate().is_ok());
        assert!(SplitConfig::new(1.0, 0.0, 0.0).validate().is_ok());

        let targets = Dataset::regression(
            Tensor::zeros(&[4, 1], DType::F32),
            Tensor::zeros(&[4], DType::F32),
        )
        .unwrap();
        let e = SplitConfig::small_data()
            .stratified(true)
            .split(&targets, rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs class labels"), "{e}");
        // Regression data splits fine without stratification.
        assert_eq!(
            SplitConfig::small_data()
                .split(&targets, rng)
                .unwrap()
                .train
                .len(),
            2
        );
    }

    #[test]
    fn config_serde_defaults_and_unknown_fields() {
        let cfg: SplitConfig =
            serde_json::from_str(r#"{"train": 0.6, "dev": 0.2, "test": 0.2}"#).unwrap();
        assert_eq!(cfg, SplitConfig::small_data());
        let back: SplitConfig =
            serde_json::from_str(&serde_json::to_string(&cfg.clone().stratified(true)).unwrap())
                .unwrap();
        assert_eq!(back, cfg.stratified(true));
        let e = serde_json::from_str::<SplitConfig>(r#"{"train": 1, "dev": 0, "tset": 0}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tset"), "{e}");
    }

    #[test]
    fn per_class_takes_at_most_n_of_each_class_and_cuts_the_rest() {
        // Classes of 30, 12, 4 and 25 examples, interleaved.
        let mut classes = Vec::new();
        for (k, count) in [30, 12, 4, 25].into_iter().enumerate() {
            classes.extend(vec![k; count]);
        }
        let classes: Vec<usize> = (0..classes.len())
            .map(|i| classes[(i * 37) % classes.len()])
            .collect();
        let data = dataset(&classes);
        let cfg = SplitConfig::per_class(5, 0.25, 0.75);
        let s = cfg.split(&data, &mut Rng::new(11)).unwrap();
        // The class of 4 gives all of its examples.
        assert_eq!(s.train.class_counts(), Some(vec![5, 5, 4, 5]));
        assert!(s.train_dev.is_none());
        // 71 - 19 = 52 left: 13 dev, 39 test.
        assert_eq!((s.dev.len(), s.test.len()), (13, 39));
        let idx = cfg
            .split_indices(classes.len(), Some(&classes), &mut Rng::new(11))
            .unwrap();
        assert_eq!(all(&idx), (0..classes.len()).collect::<Vec<_>>());

        // With test = 1 every example left is a test example; stratified, each class's
        // rest is cut on its own (here too all to test).
        for stratify in [false, true] {
            let cfg = SplitConfig::per_class(10, 0.0, 1.0).stratified(stratify);
            let s = cfg.split(&data, &mut Rng::new(2)).unwrap();
            assert_eq!(s.train.class_counts(), Some(vec![10, 10, 4, 10]));
            assert_eq!((s.dev.len(), s.test.len()), (0, 37));
            assert_eq!(s.test.class_counts(), Some(vec![20, 2, 0, 15]));
        }
        let s = SplitConfig::per_class(10, 0.5, 0.5)
            .stratified(true)
            .split(&data, &mut Rng::new(2))
            .unwrap();
        assert_eq!(s.dev.class_counts(), Some(vec![10, 1, 0, 8]));
        assert_eq!(s.test.class_counts(), Some(vec![10, 1, 0, 7]));
    }

    #[test]
    fn per_class_is_deterministic_for_a_seed_and_shuffled() {
        let classes: Vec<usize> = (0..300).map(|i| i % 3).collect();
        let cfg = SplitConfig::per_class(10, 0.2, 0.8);
        let run = |seed| {
            cfg.split_indices(300, Some(&classes), &mut Rng::new(seed))
                .unwrap()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4).train, run(5).train);
        let y: Vec<usize> = run(4).train.iter().map(|&i| classes[i]).collect();
        assert!(y.windows(2).any(|w| w[0] > w[1]), "{y:?}");
    }

    #[test]
    fn per_class_config_errors_name_the_field() {
        let rng = &mut Rng::new(0);
        let cases = [
            (
                SplitConfig::per_class(0, 0.0, 1.0),
                "'train_per_class' is 0",
            ),
            (
                SplitConfig::per_class(5, 0.2, 0.2),
                "dev 0.2 + test 0.2 sum to 0.4",
            ),
            (
                SplitConfig {
                    train: 0.6,
                    ..SplitConfig::per_class(5, 0.2, 0.2)
                },
                "'train' is 0.6, but 'train_per_class' = 5",
            ),
            (
                SplitConfig::per_class(5, 0.0, 1.0).with_train_dev(0.1),
                "'train_dev' is 0.1",
            ),
        ];
        for (cfg, want) in cases {
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let targets = Dataset::regression(
            Tensor::zeros(&[4, 1], DType::F32),
            Tensor::zeros(&[4], DType::F32),
        )
        .unwrap();
        let e = SplitConfig::per_class(1, 0.0, 1.0)
            .split(&targets, rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'train_per_class' needs class labels"), "{e}");
    }

    #[test]
    fn per_class_config_serde() {
        let cfg: SplitConfig =
            serde_json::from_str(r#"{"train_per_class": 10, "test": 1.0}"#).unwrap();
        assert_eq!(cfg, SplitConfig::per_class(10, 0.0, 1.0));
        let text = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<SplitConfig>(&text).unwrap(), cfg);
        // Configs without it serialise as before.
        let text = serde_json::to_string(&SplitConfig::small_data()).unwrap();
        assert!(!text.contains("train_per_class"), "{text}");
    }
}

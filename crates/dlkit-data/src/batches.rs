//! Mini-batches: a new shuffled order of the examples every epoch, cut into batches of
//! `batch_size` with the last, partial batch kept (the course's `random_mini_batches`).
//!
//! A batch size of `m` (the whole set, [`BatchLoader::full_batch`]) is batch gradient
//! descent; a batch size of 1 ([`BatchLoader::stochastic`]) is stochastic gradient descent.
//!
//! Each epoch's order depends only on `(seed, epoch)` (see [`epoch_seed`]), not on how many
//! epochs ran before in this process, so a run resumed at epoch `e` sees the batches it
//! would have seen without the interruption.
//!
//! ```
//! use dlkit_core::{DType, Tensor};
//! use dlkit_data::{BatchLoader, Labels, Dataset};
//! # fn main() -> dlkit_data::Result<()> {
//! let data = Dataset::new(
//!     Tensor::zeros(&[209, 12288], DType::F32),
//!     Labels::numbered_classes(vec![0; 209], 2),
//! )?;
//! let loader = BatchLoader::new(data, 64, 1)?;
//! let sizes: Vec<usize> = loader.epoch(0).map(|b| b.x.shape()[0]).collect();
//! assert_eq!(sizes, [64, 64, 64, 17]);
//! # Ok(())
//! # }
//! ```

use dlkit_core::{Rng, Tensor};

use crate::dataset::{invalid, shuffle, Dataset, Labels};
use crate::error::Result;

/// The seed of epoch `epoch`'s generator for a loader seeded with `seed`:
/// `splitmix64(seed ^ splitmix64(epoch ^ 0x6261_7463_6865_7321))`.
///
/// SplitMix64 (Steele, Lea and Flood 2014) is a bijection with full avalanche, so every
/// epoch of every seed gets an unrelated generator (`seed + epoch` would give seed 1 epoch 0
/// and seed 0 epoch 1 the same order); the constant keeps epoch 0's seed different from a
/// plain `seed` used elsewhere. The order itself is a Fisher–Yates shuffle of `0..m` drawn
/// from `Rng::new(epoch_seed(seed, epoch))` (ChaCha8).
pub fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    splitmix64(seed ^ splitmix64(epoch ^ 0x6261_7463_6865_7321))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One mini-batch: the inputs, the labels, and which examples of the dataset they are.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `[batch, ...features]`, a copy of the selected rows (not tracked by autograd).
    pub x: Tensor,
    /// The labels of the same examples, in the same order.
    pub y: Labels,
    /// The examples' indices in the loader's dataset.
    pub indices: Vec<usize>,
}

impl Batch {
    /// The number of examples in the batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty (never, for batches a loader yields).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Makes the mini-batches of each epoch of a dataset (see the module docs).
#[derive(Clone, Debug)]
pub struct BatchLoader {
    data: Dataset,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
}

impl BatchLoader {
    /// Shuffled mini-batches of `batch_size` (at least 1; a size above `m` gives one batch
    /// of all `m` examples), a new order every epoch from `seed`. The inputs are made
    /// contiguous once here; the dataset is checked.
    pub fn new(data: Dataset, batch_size: usize, seed: u64) -> Result<BatchLoader> {
        if batch_size == 0 {
            return Err(invalid(
                "BatchLoader::new",
                "the batch size is 0; expected at least 1 (the number of examples for batch \
                 gradient descent, 1 for stochastic)",
            ));
        }
        let data = Dataset::new(data.x.contiguous(), data.y)?;
        Ok(BatchLoader {
            data,
            batch_size,
            seed,
            shuffle: true,
        })
    }

    /// Batch gradient descent: one batch of all examples in their stored order every epoch
    /// (the course's batch gradient descent; call [`BatchLoader::shuffled`] to shuffle it).
    pub fn full_batch(data: Dataset) -> Result<BatchLoader> {
        let m = data.len().max(1);
        Ok(BatchLoader::new(data, m, 0)?.shuffled(false))
    }

    /// Stochastic gradient descent: batches of one example, shuffled every epoch.
    pub fn stochastic(data: Dataset, seed: u64) -> Result<BatchLoader> {
        BatchLoader::new(data, 1, seed)
    }

    /// Turns the per-epoch shuffle on (the default of [`BatchLoader::new`]) or off (the
    /// stored order every epoch, as for evaluation).
    pub fn shuffled(mut self, on: bool) -> BatchLoader {
        self.shuffle = on;
        self
    }

    /// The dataset the batches come from.
    pub fn dataset(&self) -> &Dataset {
        &self.data
    }

    /// The number of examples `m`.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the dataset is empty (then every epoch has no batches).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The seed the epochs' orders derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The number of batches per epoch: `ceil(m / batch_size)`.
    pub fn num_batches(&self) -> usize {
        self.len().div_ceil(self.batch_size)
    }

    /// The order of the examples in epoch `epoch` (a permutation of `0..m`; `0..m` itself
    /// when shuffling is off).
    pub fn permutation(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if self.shuffle {
            shuffle(&mut order, &mut Rng::new(epoch_seed(self.seed, epoch)));
        }
        order
    }

    /// The batches of epoch `epoch`, in order.
    pub fn epoch(&self, epoch: u64) -> Batches<'_> {
        Batches {
            loader: self,
            order: self.permutation(epoch),
            next: 0,
        }
    }
}

/// The batches of one epoch (see [`BatchLoader::epoch`]).
#[derive(Debug)]
pub struct Batches<'a> {
    loader: &'a BatchLoader,
    order: Vec<usize>,
    next: usize,
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.loader.batch_size).min(self.order.len());
        let indices = self.order[self.next..end].to_vec();
        self.next = end;
        let picked = self.loader.data.select_unchecked(&indices);
        Some(Batch {
            x: picked.x,
            y: picked.y,
            indices,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.loader.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::DType;

    /// `m` examples whose single feature is their index, labels `index % 3`.
    fn data(m: usize) -> Dataset {
        let x = Tensor::from_vec((0..m).map(|v| v as f32).collect(), &[m, 1]);
        Dataset::new(
            x,
            Labels::numbered_classes((0..m).map(|i| i % 3).collect(), 3),
        )
        .unwrap()
    }

    #[test]
    fn every_example_exactly_once_per_epoch_with_matching_rows() {
        let loader = BatchLoader::new(data(209), 64, 7).unwrap();
        for epoch in 0..3 {
            let mut seen = Vec::new();
            for b in loader.epoch(epoch) {
                assert_eq!(
                    b.x.to_vec::<f32>(),
                    b.indices.iter().map(|&i| i as f32).collect::<Vec<_>>()
                );
                let y = b.y.class_indices().unwrap();
                assert_eq!(y, b.indices.iter().map(|i| i % 3).collect::<Vec<_>>());
                seen.extend(b.indices);
            }
            seen.sort();
            assert_eq!(seen, (0..209).collect::<Vec<_>>());
        }
    }

    #[test]
    fn sizes_keep_the_last_partial_batch() {
        let loader = BatchLoader::new(data(209), 64, 0).unwrap();
        assert_eq!(loader.num_batches(), 4);
        let batches = loader.epoch(0);
        assert_eq!(batches.len(), 4);
        let sizes: Vec<usize> = batches.map(|b| b.len()).collect();
        assert_eq!(sizes, [64, 64, 64, 17]);
        let exact = BatchLoader::new(data(128), 64, 0).unwrap();
        assert_eq!(
            exact.epoch(0).map(|b| b.len()).collect::<Vec<_>>(),
            [64, 64]
        );
        let sgd = BatchLoader::stochastic(data(5), 0).unwrap();
        assert_eq!(sgd.epoch(0).map(|b| b.len()).collect::<Vec<_>>(), [1; 5]);
    }

    #[test]
    fn batch_of_m_gives_one_batch() {
        let full = BatchLoader::full_batch(data(209)).unwrap();
        let batches: Vec<Batch> = full.epoch(3).collect();
        assert_eq!(batches.len(), 1);
        // Batch gradient descent keeps the stored order, as the course does.
        assert_eq!(batches[0].indices, (0..209).collect::<Vec<_>>());
        assert_eq!(batches[0].x.shape(), &[209, 1]);
        // A batch size of m (or more) with shuffling is one shuffled batch.
        for size in [209, 500] {
            let one = BatchLoader::new(data(209), size, 1).unwrap();
            let batches: Vec<Batch> = one.epoch(0).collect();
            assert_eq!(batches.len(), 1);
            assert_eq!(batches[0].len(), 209);
        }
    }

    #[test]
    fn different_order_across_epochs_same_for_same_seed_and_epoch() {
        let a = BatchLoader::new(data(100), 10, 42).unwrap();
        let b = BatchLoader::new(data(100), 10, 42).unwrap();
        let c = BatchLoader::new(data(100), 10, 43).unwrap();
        let orders: Vec<Vec<usize>> = (0..5).map(|e| a.permutation(e)).collect();
        for i in 0..5 {
            for j in i + 1..5 {
                assert_ne!(orders[i], orders[j], "epochs {i} and {j}");
            }
        }
        // A resumed run (a fresh loader asked for epoch 3 first) sees the same batches.
        let resumed: Vec<Vec<usize>> = b.epoch(3).map(|bt| bt.indices).collect();
        let original: Vec<Vec<usize>> = a.epoch(3).map(|bt| bt.indices).collect();
        assert_eq!(resumed, original);
        assert_eq!(resumed.concat(), orders[3]);
        assert_ne!(c.permutation(3), orders[3]);
        // The epoch's order is pinned down by (seed, epoch) alone.
        let mut want: Vec<usize> = (0..100).collect();
        shuffle(&mut want, &mut Rng::new(epoch_seed(42, 3)));
        assert_eq!(orders[3], want);
    }

    #[test]
    fn epoch_seeds_do_not_collide_like_sums() {
        assert_ne!(epoch_seed(1, 0), epoch_seed(0, 1));
        assert_ne!(epoch_seed(0, 0), 0);
        let mut seeds: Vec<u64> = (0..50)
            .flat_map(|s| (0..50).map(move |e| epoch_seed(s, e)))
            .collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 2500);
    }

    #[test]
    fn unshuffled_targets_and_images() {
        let x = Tensor::from_vec((0..40).map(|v| v as f64).collect(), &[5, 2, 2, 2]);
        let t = Tensor::from_vec((0..5).map(|v| v as f64 * 0.5).collect(), &[5, 1]);
        let loader = BatchLoader::new(Dataset::regression(x, t).unwrap(), 2, 0)
            .unwrap()
            .shuffled(false);
        let batches: Vec<Batch> = loader.epoch(9).collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[1].indices, [2, 3]);
        assert_eq!(batches[1].x.shape(), &[2, 2, 2, 2]);
        assert_eq!(
            batches[1].x.to_vec::<f64>(),
            (16..32).map(|v| v as f64).collect::<Vec<_>>()
        );
        assert_eq!(batches[2].y.targets().unwrap().to_vec::<f64>(), [2.0]);
    }

    #[test]
    fn strided_inputs_and_errors() {
        let xt = Tensor::from_vec((0..6).map(|v| v as f32).collect(), &[2, 3]).t();
        let d = Dataset::new(xt, Labels::numbered_classes(vec![0, 1, 0], 2)).unwrap();
        let loader = BatchLoader::full_batch(d).unwrap();
        let b = loader.epoch(0).next().unwrap();
        assert_eq!(b.x.to_vec::<f32>(), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);

        let e = BatchLoader::new(data(3), 0, 0).unwrap_err().to_string();
        assert!(e.contains("batch size is 0"), "{e}");
        let bad = Dataset {
            x: Tensor::zeros(&[3, 1], DType::F32),
            y: Labels::numbered_classes(vec![0], 1),
        };
        assert!(BatchLoader::new(bad, 1, 0).is_err());
        let empty = BatchLoader::new(data(0), 4, 0).unwrap();
        assert_eq!((empty.num_batches(), empty.epoch(0).count()), (0, 0));
        assert_eq!(
            BatchLoader::full_batch(data(0)).unwrap().epoch(0).count(),
            0
        );
    }
}

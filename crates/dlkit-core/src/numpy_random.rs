//! NumPy's legacy global random generator (`np.random.seed`, `np.random.randn`, ...), number
//! for number, so that data the course generates with NumPy can be generated here
//! (`dlkit_data::generate`) and a model can start from the course's initial weights
//! (`dlkit_nn::InitRng::Numpy`).
//!
//! `np.random.seed(s)` and the functions under `np.random` use one `RandomState`: an MT19937
//! Mersenne Twister seeded with the reference `init_genrand(s)`, plus the legacy
//! distributions that NumPy has kept frozen since 1.17 (NEP 19) so that old seeds give old
//! numbers. [`NumpyRandom`] is that state: the same seed gives the same stream as
//!
//! ```python
//! np.random.seed(seed)                 # NumpyRandom::new(seed)
//! np.random.random_sample()            # .random_sample()
//! np.random.standard_normal()          # .gauss()
//! np.random.randn(n)                   # .randn(n)
//! np.random.normal(loc, scale)         # .normal(loc, scale)
//! np.random.shuffle(a)                 # .shuffle(&mut a), a 1-D array
//! ```
//!
//! in any interleaving (the calls share one stream and one cached Gaussian value).
//!
//! The generator itself is [`rand_mt::Mt`] (the artichoke project's reference MT19937,
//! without default features, so no further dependency): its `new(seed)` is the reference
//! `init_genrand` that NumPy's `mt19937_seed` is, and its `next_u32` the tempered 32-bit
//! output, and the tests check its first outputs against NumPy's for several seeds. The
//! legacy distributions on top of it are a few lines each, written here after NumPy's C
//! sources (`legacy-distributions.c`, `distributions.c`, `mt19937.h`).
//!
//! ```
//! use dlkit_core::NumpyRandom;
//! let mut rng = NumpyRandom::new(0);
//! assert_eq!(rng.random_sample(), 0.5488135039273248); // np.random.seed(0); np.random.random_sample()
//! let mut rng = NumpyRandom::new(1);
//! assert_eq!(rng.randn(2), [1.6243453636632417, -0.6117564136500754]); // np.random.randn(2)
//! ```

use rand_mt::Mt;

/// NumPy's legacy `RandomState` (what `np.random.seed(seed)` sets up): an MT19937 stream and
/// the cached second value of the polar Gaussian method.
#[derive(Clone, Debug)]
pub struct NumpyRandom {
    mt: Mt,
    /// The second value of the last polar pair, handed out by the next [`NumpyRandom::gauss`].
    gauss: Option<f64>,
}

impl NumpyRandom {
    /// A generator seeded as `np.random.seed(seed)` seeds NumPy's global one: MT19937 with
    /// the reference `init_genrand(seed)` (`s[0] = seed`,
    /// `s[i] = 1812433253 * (s[i-1] ^ (s[i-1] >> 30)) + i` mod 2^32) and no cached Gaussian.
    pub fn new(seed: u32) -> NumpyRandom {
        NumpyRandom {
            mt: Mt::new(seed),
            gauss: None,
        }
    }

    /// Reseeds in place, as `np.random.seed(seed)` does: `init_genrand(seed)`, and the
    /// cached Gaussian value is dropped (NumPy resets `has_gauss` on seeding).
    pub fn seed(&mut self, seed: u32) {
        self.mt.reseed(seed);
        self.gauss = None;
    }

    /// The next raw 32-bit MT19937 output (tempered), NumPy's `next_uint32`.
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// A uniform double in `[0, 1)`, `np.random.random_sample()`: from two 32-bit outputs
    /// `a` then `b`, `((a >> 5) * 67108864 + (b >> 6)) / 9007199254740992`, i.e. 27 + 26 = 53
    /// random bits over 2^53 (NumPy's `mt19937_next_double`).
    pub fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.mt.next_u32() >> 5);
        let b = f64::from(self.mt.next_u32() >> 6);
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// A standard normal value, `np.random.standard_normal()` (NumPy's `legacy_gauss`): the
    /// Marsaglia polar form of Box–Muller. When a value is cached it is returned (and the
    /// cache emptied); otherwise draw `x1 = 2u1 - 1`, `x2 = 2u2 - 1` from two
    /// [`NumpyRandom::random_sample`] calls until `0 < r2 = x1² + x2² < 1`, set
    /// `f = sqrt(-2 ln(r2) / r2)`, cache `f·x1` and return `f·x2`.
    pub fn gauss(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `n` standard normal values, `np.random.randn(n)`: [`NumpyRandom::gauss`] `n` times.
    pub fn randn(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.gauss()).collect()
    }

    /// A normal value of mean `loc` and standard deviation `scale`,
    /// `np.random.normal(loc, scale)` (NumPy's `legacy_normal`): `loc + scale * gauss()`.
    /// A sized call `normal(loc, scale, size)` is this, repeated in row-major order.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.gauss()
    }

    /// A uniform integer in `[0, max]`, NumPy's `random_interval` (as the legacy shuffle uses
    /// it): with `mask` the smallest all-ones bit mask `>= max`, draw 32-bit outputs (64-bit
    /// ones, two 32-bit outputs high word first, when `max >= 2^32`) and keep the first
    /// `value & mask` that is `<= max`.
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.mt.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        }
        loop {
            let value = self.mt.next_u64() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// Shuffles `v` in place as `np.random.shuffle` shuffles a 1-D array: Fisher–Yates from
    /// the end, `for i in n-1, ..., 1: j = random_interval(i); swap(v[i], v[j])`, with
    /// [`NumpyRandom::interval`] drawing `j` uniformly in `[0, i]`.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.interval(i as u64) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_mask_is_the_smallest_covering_one() {
        // Every value in range is reachable and none outside is returned.
        let mut rng = NumpyRandom::new(3);
        let mut seen = [false; 6];
        for _ in 0..200 {
            let v = rng.interval(5) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(rng.interval(0), 0);
        assert!(rng.interval(1 << 40) <= 1 << 40);
    }

    #[test]
    fn seeding_drops_the_cached_gaussian() {
        let mut rng = NumpyRandom::new(5);
        let first = rng.gauss();
        rng.seed(5);
        assert_eq!(rng.gauss(), first);
    }
}

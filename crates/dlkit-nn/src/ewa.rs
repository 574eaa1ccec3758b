//! Exponentially weighted averages, as the course introduces them before momentum:
//! `v₀ = 0`, `v_t = β v_{t−1} + (1 − β) θ_t`, optionally bias-corrected to `v_t / (1 − βᵗ)`.
//! `v_t` averages roughly the last `1 / (1 − β)` values; useful to smooth a noisy cost curve.

/// A running exponentially weighted average of f64 values.
///
/// ```
/// use dlkit_nn::Ewa;
/// let mut avg = Ewa::new(0.9).bias_corrected(true);
/// assert!((avg.update(5.0) - 5.0).abs() < 1e-12); // corrected: no pull towards v₀ = 0
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Ewa {
    beta: f64,
    bias_correction: bool,
    v: f64,
    t: u64,
}

impl Ewa {
    /// An average with decay `beta` in [0, 1), without bias correction.
    pub fn new(beta: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&beta),
            "Ewa: beta must be in [0, 1), got {beta}"
        );
        Ewa {
            beta,
            bias_correction: false,
            v: 0.0,
            t: 0,
        }
    }

    /// Divides by `1 − βᵗ` (removes the bias of starting from `v₀ = 0`).
    pub fn bias_corrected(mut self, on: bool) -> Self {
        self.bias_correction = on;
        self
    }

    /// Adds `theta` (`v_t = β v_{t−1} + (1 − β) θ_t`) and returns the new average.
    pub fn update(&mut self, theta: f64) -> f64 {
        self.v = self.beta * self.v + (1.0 - self.beta) * theta;
        self.t += 1;
        self.value()
    }

    /// The current average: `v_t`, or `v_t / (1 − βᵗ)` when bias-corrected (0 before any value).
    pub fn value(&self) -> f64 {
        if self.bias_correction && self.t > 0 {
            let t = i32::try_from(self.t).unwrap_or(i32::MAX);
            self.v / (1.0 - self.beta.powi(t))
        } else {
            self.v
        }
    }

    /// How many values have been added (t).
    pub fn count(&self) -> u64 {
        self.t
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        self.v = 0.0;
        self.t = 0;
    }

    /// The averages after each of `values` (a smoothed curve, e.g. of the cost).
    pub fn smooth(values: &[f64], beta: f64, bias_correction: bool) -> Vec<f64> {
        let mut avg = Ewa::new(beta).bias_corrected(bias_correction);
        values.iter().map(|&x| avg.update(x)).collect()
    }
}

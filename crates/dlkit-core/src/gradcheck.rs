//! Gradient checking, the course's way: compare back-propagated gradients with the two-sided
//! difference `(J(θ + ε) - J(θ - ε)) / 2ε` through the relative difference
//! `‖g_approx - g‖₂ / (‖g_approx‖₂ + ‖g‖₂)`.

use crate::autograd::no_grad;
use crate::element::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The course's step for the two-sided difference.
pub const EPSILON: f64 = 1e-7;
/// Below this relative difference the gradients agree (the course's threshold).
pub const THRESHOLD: f64 = 1e-7;

/// The outcome of [`gradient_check`].
#[derive(Clone, Debug)]
pub struct GradCheckReport {
    /// Relative difference over all inputs' gradients stacked in one vector.
    pub relative_difference: f64,
    /// Relative difference per input, in the order given.
    pub per_input: Vec<f64>,
    /// Back-propagated gradients, one flat vector per input.
    pub analytic: Vec<Vec<f64>>,
    /// Two-sided difference estimates, one flat vector per input.
    pub numeric: Vec<Vec<f64>>,
}

impl GradCheckReport {
    /// True when the overall relative difference is below `threshold`.
    pub fn passes(&self, threshold: f64) -> bool {
        self.relative_difference < threshold
    }
}

/// `‖a - b‖₂ / (‖a‖₂ + ‖b‖₂)`, 0 when both are zero.
pub fn relative_difference(a: &[f64], b: &[f64]) -> f64 {
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let diff = norm(&mut a.iter().zip(b).map(|(x, y)| x - y));
    let denom = norm(&mut a.iter().copied()) + norm(&mut b.iter().copied());
    if denom == 0.0 {
        0.0
    } else {
        diff / denom
    }
}

/// Checks the gradients of the scalar `f(inputs)` with respect to every input (f64 tensors)
/// against two-sided differences with step `epsilon`.
pub fn gradient_check(
    inputs: &[Tensor],
    epsilon: f64,
    f: impl Fn(&[Tensor]) -> Tensor,
) -> Result<GradCheckReport> {
    if let Some(i) = inputs.iter().position(|t| t.dtype() != DType::F64) {
        return Err(Error::invalid(
            "gradient_check",
            format!(
                "needs f64 inputs for precision; input {i} is {}",
                inputs[i].dtype()
            ),
        ));
    }
    let fresh = |t: &Tensor, values: Vec<f64>| Tensor::from_vec(values, t.shape());
    let values: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_vec::<f64>()).collect();
    let leaves: Vec<Tensor> = inputs
        .iter()
        .zip(&values)
        .map(|(t, v)| fresh(t, v.clone()).with_grad())
        .collect();
    let out = f(&leaves);
    if out.numel() != 1 {
        return Err(Error::invalid(
            "gradient_check",
            format!(
                "the function must return a scalar, it returned shape {:?}",
                out.shape()
            ),
        ));
    }
    out.try_backward()?;
    let analytic: Vec<Vec<f64>> = leaves
        .iter()
        .map(|t| {
            t.grad()
                .map_or_else(|| vec![0.0; t.numel()], |g| g.to_vec::<f64>())
        })
        .collect();

    let numeric: Vec<Vec<f64>> = no_grad(|| {
        (0..inputs.len())
            .map(|i| {
                (0..values[i].len())
                    .map(|j| {
                        let eval = |delta: f64| {
                            let mut v = values[i].clone();
                            v[j] += delta;
                            let mut args = leaves.clone();
                            args[i] = fresh(&inputs[i], v);
                            f(&args).item()
                        };
                        (eval(epsilon) - eval(-epsilon)) / (2.0 * epsilon)
                    })
                    .collect()
            })
            .collect()
    });
    let per_input = analytic
        .iter()
        .zip(&numeric)
        .map(|(a, n)| relative_difference(n, a))
        .collect();
    let (all_a, all_n): (Vec<f64>, Vec<f64>) = (analytic.concat(), numeric.concat());
    Ok(GradCheckReport {
        relative_difference: relative_difference(&all_n, &all_a),
        per_input,
        analytic,
        numeric,
    })
}

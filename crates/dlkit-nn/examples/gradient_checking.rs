//! The course's gradient checking exercise (`gradient_check_n`): back-propagated gradients
//! of a 3-layer network checked against two-sided differences, then the same check catching
//! a layer whose backward pass is wrong.
//!
//! The network is [4, 5, 3, 1], LINEAR → RELU → LINEAR → RELU → LINEAR → SIGMOID, with the
//! binary cross-entropy cost `J(θ)`, in f64 on 3 random examples. For every one of its 47
//! parameters `θᵢ` (all of W1, b1, W2, b2, W3, b3), the two-sided difference
//!
//! `gradapprox[i] = (J(θ + ε eᵢ) − J(θ − ε eᵢ)) / 2ε`, with `ε = 1e-7`,
//!
//! is compared with the back-propagated `grad[i] = ∂J/∂θᵢ` through the relative difference
//!
//! `difference = ‖gradapprox − grad‖₂ / (‖gradapprox‖₂ + ‖grad‖₂)`,
//!
//! which is below 1e-7 when backward propagation is right ([`dlkit_core::gradient_check`]).
//!
//! Then the second ReLU is swapped for [`ForgetfulRelu`]: the same forward, but a backward
//! (written with [`Tensor::custom_op`]) that forgets the course's `dZ[Z <= 0] = 0`. The
//! difference jumps above 1e-3, and the per-tensor differences point at the bug: the
//! gradients of the layer after it (W3, b3) still agree, those before it do not.
//!
//! `cargo run --release -p dlkit-nn --example gradient_checking`; its tests run with
//! `cargo test --release -p dlkit-nn --example gradient_checking` (and with `cargo test`).

use dlkit_core::gradcheck::{EPSILON, THRESHOLD};
use dlkit_core::{gradient_check, no_grad, DType, GradCheckReport, Rng, Tensor};
use dlkit_nn::{Activation, Dense, LayerSpec, Loss, Module, Sequential};

/// Layer sizes `n[0..=3]`.
const SIZES: [usize; 4] = [4, 5, 3, 1];
/// The parameters in the course's names, in `Sequential::parameters` order.
const NAMES: [&str; 6] = ["W1", "b1", "W2", "b2", "W3", "b3"];

/// A ReLU with a planted backward bug: `A = max(0, Z)` forward, but `dZ = dA` backward
/// instead of `dZ = dA * (Z > 0)`.
struct ForgetfulRelu;

impl Module for ForgetfulRelu {
    fn forward(&self, z: &Tensor) -> dlkit_nn::Result<Tensor> {
        let a = no_grad(|| z.relu());
        Ok(a.custom_op("forgetful_relu", &[z], |_a, da| vec![Some(da.clone())]))
    }

    /// Saved as the ReLU it means to be.
    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::Relu)
    }
}

/// Three random examples (batch first), their 0/1 labels, and N(0, 1) parameters
/// `[W1, b1, W2, b2, W3, b3]`, `Wl` of shape `[n[l], n[l-1]]`, as the course's test case.
fn test_case(seed: u64) -> (Tensor, Tensor, Vec<Tensor>) {
    let mut rng = Rng::new(seed);
    let mut randn = |shape: &[usize]| Tensor::rand_normal(shape, 0.0, 1.0, DType::F64, &mut rng);
    let x = randn(&[3, SIZES[0]]);
    let params = SIZES
        .windows(2)
        .flat_map(|n| [randn(&[n[1], n[0]]), randn(&[n[1]])])
        .collect();
    let y = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3, 1]);
    (x, y, params)
}

/// The network on parameters `p`, with [`ForgetfulRelu`] as its second ReLU if `broken`.
fn network(p: &[Tensor], broken: bool) -> Sequential {
    let dense = |w: &Tensor, b: &Tensor| -> Box<dyn Module> {
        Box::new(Dense::from_tensors(w.clone(), Some(b.clone())))
    };
    let relu2: Box<dyn Module> = if broken {
        Box::new(ForgetfulRelu)
    } else {
        Box::new(Activation::Relu)
    };
    Sequential::from_modules(vec![
        dense(&p[0], &p[1]),
        Box::new(Activation::Relu),
        dense(&p[2], &p[3]),
        relu2,
        dense(&p[4], &p[5]),
        Box::new(Activation::Sigmoid),
    ])
}

/// `J = -(1/m) Σ (y log a + (1 - y) log(1 - a))`, from the logits before the sigmoid.
fn cost(p: &[Tensor], x: &Tensor, y: &Tensor, broken: bool) -> Tensor {
    let logits = network(p, broken).forward_logits(x).expect("shapes fit");
    Loss::BinaryCrossEntropy
        .compute(&logits, y)
        .expect("shapes fit")
}

/// `gradient_check_n`: every parameter's back-propagated gradient against its two-sided
/// difference with `ε = 1e-7`.
fn gradient_check_n(p: &[Tensor], x: &Tensor, y: &Tensor, broken: bool) -> GradCheckReport {
    gradient_check(p, EPSILON, |theta| cost(theta, x, y, broken)).expect("f64, scalar cost")
}

/// The course's verdict, then the parameter tensors from the most to the least disagreeing.
fn print_report(r: &GradCheckReport, p: &[Tensor]) {
    let names: Vec<String> = network(p, false)
        .parameters()
        .into_iter()
        .map(|q| q.name)
        .collect();
    let difference = r.relative_difference;
    if r.passes(THRESHOLD) {
        println!("Your backward propagation works perfectly fine! difference = {difference:.3e}");
    } else {
        println!("There is a mistake in the backward propagation! difference = {difference:.3e}");
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&i, &j| r.per_input[j].total_cmp(&r.per_input[i]));
    for i in order {
        let d = r.per_input[i];
        println!(
            "  {:<10} ({})  difference {d:.3e}{}",
            names[i],
            NAMES[i],
            if d < THRESHOLD { "" } else { "  <- disagrees" }
        );
    }
}

fn main() {
    let (x, y, params) = test_case(1);
    println!("The [4, 5, 3, 1] network:");
    print_report(&gradient_check_n(&params, &x, &y, false), &params);
    println!("\nThe second ReLU's backward forgetting dZ[Z <= 0] = 0:");
    print_report(&gradient_check_n(&params, &x, &y, true), &params);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_passes_the_gradient_check() {
        let (x, y, params) = test_case(1);
        let r = gradient_check_n(&params, &x, &y, false);
        assert!(r.relative_difference < 1e-7, "{r:?}");
        assert_eq!(r.analytic.concat().len(), 47);
    }

    #[test]
    fn the_wrong_backward_is_caught() {
        let (x, y, params) = test_case(1);
        let r = gradient_check_n(&params, &x, &y, true);
        assert!(r.relative_difference > 1e-3, "{r:?}");
        // W3 and b3, after the broken layer, still agree; W2 disagrees.
        assert!(r.per_input[4] < 1e-7 && r.per_input[5] < 1e-7, "{r:?}");
        assert!(r.per_input[2] > 1e-3, "{r:?}");
    }

    #[test]
    fn only_the_backward_is_wrong() {
        let z = Tensor::rand_normal(&[6, 5], 0.0, 1.0, DType::F64, &mut Rng::new(2));
        assert!(z.to_vec::<f64>().iter().any(|&v| v < 0.0));
        let a = ForgetfulRelu.forward(&z).unwrap();
        assert_eq!(a.to_vec::<f64>(), z.relu().to_vec::<f64>());
        let (x, y, params) = test_case(1);
        assert_eq!(
            cost(&params, &x, &y, true).item(),
            cost(&params, &x, &y, false).item()
        );
    }
}

//! `Tensor::custom_op`: user-defined ops with a hand-written backward pass the course's
//! gradient check and give the built-in ops' gradients.

mod common;

use common::{away_from_zero, check_op, randn};
use dlkit_core::{no_grad, DType, Tensor};

/// `y = x³`, `dL/dx = 3x² · dL/dy`.
fn cube(x: &Tensor) -> Tensor {
    let y = no_grad(|| x.mul(x).mul(x));
    let x0 = x.detach();
    y.custom_op("cube", &[x], move |_, g| {
        vec![Some(g.mul(&x0.square().mul_scalar(3.0)))]
    })
}

/// 1 where `x > 0`, else 0, in `x`'s dtype.
fn positive(x: &Tensor) -> Tensor {
    x.relu()
        .try_eq_mask(&Tensor::zeros(&[], x.dtype()))
        .unwrap()
        .rsub_scalar(1.0)
}

/// `y = max(0, x)` from the output: `dL/dx = dL/dy` where `y > 0`, else 0.
fn relu(x: &Tensor) -> Tensor {
    no_grad(|| x.relu()).custom_op("my_relu", &[x], |y, g| vec![Some(g.mul(&positive(y)))])
}

/// `a * b` with `b` broadcast: the gradients are returned in the output's shape.
fn times(a: &Tensor, b: &Tensor) -> Tensor {
    let (a0, b0) = (a.detach(), b.detach());
    no_grad(|| a.mul(b)).custom_op("times", &[a, b], move |_, g| {
        vec![Some(g.mul(&b0)), Some(g.mul(&a0))]
    })
}

/// The gradients of `sum(f(x) * G)` with respect to `xs`.
fn grads(xs: &[Tensor], g: &Tensor, f: impl Fn(&[Tensor]) -> Tensor) -> Vec<Vec<f64>> {
    let leaves: Vec<Tensor> = xs.iter().map(|x| x.detach().with_grad()).collect();
    f(&leaves).mul(g).sum_all().backward();
    leaves
        .iter()
        .map(|t| t.grad().unwrap().to_vec::<f64>())
        .collect()
}

fn assert_close(a: &[Vec<f64>], b: &[Vec<f64>], tol: f64) {
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?}\n{b:?}");
    }
}

#[test]
fn a_custom_cube_passes_the_gradient_check_and_matches_the_built_in() {
    let x = randn(&[3, 4], 1);
    let r = check_op("cube", std::slice::from_ref(&x), 2, |t| cube(&t[0]));
    assert!(r.relative_difference < 1e-7);
    let g = randn(&[3, 4], 2);
    let mine = grads(std::slice::from_ref(&x), &g, |t| cube(&t[0]));
    assert_close(
        &mine,
        &grads(std::slice::from_ref(&x), &g, |t| t[0].powf(3.0)),
        1e-12,
    );
    assert_close(
        &mine,
        &grads(&[x], &g, |t| t[0].mul(&t[0]).mul(&t[0])),
        1e-12,
    );
}

#[test]
fn a_custom_relu_passes_the_gradient_check_and_equals_the_built_in() {
    let x = away_from_zero(&[4, 5], 3);
    let r = check_op("my_relu", std::slice::from_ref(&x), 4, |t| relu(&t[0]));
    assert!(r.relative_difference < 1e-7);
    let g = randn(&[4, 5], 4);
    assert_eq!(
        grads(std::slice::from_ref(&x), &g, |t| relu(&t[0])),
        grads(std::slice::from_ref(&x), &g, |t| t[0].relu())
    );
    let (a, b) = no_grad(|| (relu(&x), x.relu()));
    assert_eq!(a.to_vec::<f64>(), b.to_vec::<f64>());
}

#[test]
fn gradients_in_the_broadcast_shape_are_summed_to_the_inputs() {
    let (a, b) = (randn(&[2, 3], 5), randn(&[3], 6));
    let r = check_op("times", &[a.clone(), b.clone()], 7, |t| times(&t[0], &t[1]));
    assert!(r.relative_difference < 1e-7);
    assert_eq!(r.analytic[1].len(), 3);
    let g = randn(&[2, 3], 7);
    assert_close(
        &grads(&[a.clone(), b.clone()], &g, |t| times(&t[0], &t[1])),
        &grads(&[a, b], &g, |t| t[0].mul(&t[1])),
        1e-14,
    );
}

#[test]
fn custom_ops_compose_with_built_in_ops() {
    let (x, w) = (randn(&[4, 3], 8), randn(&[2, 3], 9));
    let f = |t: &[Tensor]| cube(&relu(&t[0].matmul(&t[1].t())).tanh());
    let r = check_op("chain", &[x.clone(), w.clone()], 10, f);
    assert!(r.relative_difference < 1e-7);
    let g = randn(&[4, 2], 11);
    let built_in = |t: &[Tensor]| t[0].matmul(&t[1].t()).relu().tanh().powf(3.0);
    assert_close(
        &grads(&[x.clone(), w.clone()], &g, f),
        &grads(&[x, w], &g, built_in),
        1e-12,
    );
}

#[test]
fn nothing_is_recorded_without_grad() {
    let x = randn(&[3], 12).with_grad();
    let y = no_grad(|| cube(&x));
    assert!(!y.requires_grad());
    assert_eq!(y.op_name(), None);
    // No input needs a gradient.
    let y = cube(&randn(&[3], 12));
    assert!(!y.requires_grad());
    assert_eq!(y.op_name(), None);
    // Recorded otherwise.
    let y = cube(&x);
    assert!(y.requires_grad());
    assert_eq!(y.op_name(), Some("cube"));
}

#[test]
fn a_none_gradient_leaves_its_input_without_one() {
    let (a, b) = (randn(&[3], 13).with_grad(), randn(&[3], 14).with_grad());
    let b0 = b.detach();
    let y = no_grad(|| a.mul(&b)).custom_op("a_only", &[&a, &b], move |_, g| {
        vec![Some(g.mul(&b0)), None]
    });
    y.sum_all().backward();
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), b.to_vec::<f64>());
    assert!(b.grad().is_none());
}

#[test]
fn the_custom_backward_replaces_a_recorded_forward() {
    // The forward recorded `x * 3`, the custom backward says 5: 5 wins.
    let x = randn(&[3], 15).with_grad();
    let y = x
        .mul_scalar(3.0)
        .custom_op("five", &[&x], |_, g| vec![Some(g.mul_scalar(5.0))]);
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![5.0; 3]);
    // An identity op whose forward value is the input itself.
    let x = randn(&[3], 16).with_grad();
    let y = x
        .clone()
        .custom_op("identity", &[&x], |_, g| vec![Some(g.clone())]);
    assert_ne!(y.id(), x.id());
    y.mul_scalar(2.0).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0; 3]);
}

#[test]
fn works_in_f32() {
    let x = Tensor::from_vec(vec![1.0f32, -2.0], &[2]).with_grad();
    let y = cube(&x);
    assert_eq!(y.dtype(), DType::F32);
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![3.0, 12.0]);
}

#[test]
#[should_panic(expected = "custom op two: backward returned 2 gradients for 1 inputs")]
fn the_number_of_gradients_is_checked() {
    let x = randn(&[3], 17).with_grad();
    let y = no_grad(|| x.exp()).custom_op("two", &[&x], |_, g| vec![Some(g.clone()), None]);
    y.sum_all().backward();
}

#[test]
#[should_panic(expected = "custom op bad_shape: the gradient for input 0 has shape [2]")]
fn the_shape_of_a_gradient_is_checked() {
    let x = randn(&[3], 18).with_grad();
    let y = no_grad(|| x.exp()).custom_op("bad_shape", &[&x], |_, g| {
        vec![Some(g.sum_all().reshape(&[1]).broadcast_to(&[2]))]
    });
    y.sum_all().backward();
}

#[test]
#[should_panic(expected = "custom op bad_dtype: the gradient for input 0 is f32")]
fn the_dtype_of_a_gradient_is_checked() {
    let x = randn(&[3], 19).with_grad();
    let y = no_grad(|| x.exp()).custom_op("bad_dtype", &[&x], |_, g| {
        vec![Some(g.to_dtype(DType::F32))]
    });
    y.sum_all().backward();
}

#[test]
fn a_wrong_backward_fails_the_gradient_check() {
    // The course's planted bug: the gradient times 2.
    let x = randn(&[3, 4], 20);
    let g = randn(&[3, 4], 21);
    let r = dlkit_core::gradient_check(&[x], dlkit_core::gradcheck::EPSILON, |t| {
        let x0 = t[0].detach();
        let y = no_grad(|| t[0].mul(&t[0]).mul(&t[0]));
        y.custom_op("bad_cube", &[&t[0]], move |_, g| {
            vec![Some(g.mul(&x0.square().mul_scalar(6.0)))]
        })
        .mul(&g)
        .sum_all()
    })
    .unwrap();
    eprintln!(
        "bad_cube: relative difference {:.3e}",
        r.relative_difference
    );
    assert!(r.relative_difference > 1e-3, "{r:?}");
}

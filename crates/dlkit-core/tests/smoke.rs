use dlkit_core::{gradient_check, DType, Rng, Tensor};

#[test]
fn small_network_passes_gradient_check() {
    let mut rng = Rng::new(0);
    let x = Tensor::rand_normal(&[4, 3], 0.0, 1.0, DType::F64, &mut rng);
    let w = Tensor::rand_normal(&[5, 3], 0.0, 1.0, DType::F64, &mut rng);
    let b = Tensor::rand_normal(&[5], 0.0, 1.0, DType::F64, &mut rng);
    let g = Tensor::rand_normal(&[4, 5], 0.0, 1.0, DType::F64, &mut rng);
    let r = gradient_check(&[x, w, b], 1e-7, |t| {
        let z = t[0].matmul(&t[1].t()).add(&t[2]);
        z.tanh().sigmoid().softmax(-1).mul(&g).sum_all()
    })
    .unwrap();
    assert!(r.relative_difference < 1e-7, "{r:?}");
}

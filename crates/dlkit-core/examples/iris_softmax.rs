//! Softmax regression on the Iris data with nothing but tensors and autograd:
//! `cargo run --release -p dlkit-core --example iris_softmax`.

use dlkit_core::{no_grad, DType, Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sklearn/iris.csv");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().skip(1).enumerate() {
        let fields: Vec<f32> = line
            .split(',')
            .map(|f| f.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{path}: line {}: {e}", n + 2))?;
        features.extend_from_slice(&fields[..4]);
        labels.push(fields[4] as usize);
    }
    let m = labels.len();
    let x = Tensor::try_from_vec(features, &[m, 4])?;
    // Standardise each feature: (x - mean) / std.
    let mean = x.mean(&[0], true);
    let std = x.sub(&mean).square().mean(&[0], true).sqrt();
    let x = x.sub(&mean).div(&std);

    let mut rng = Rng::new(0);
    let w = Tensor::rand_normal(&[4, 3], 0.0, 0.01, DType::F32, &mut rng).with_grad();
    let b = Tensor::zeros(&[3], DType::F32).with_grad();
    let learning_rate = 0.5;
    for step in 0..=200 {
        let loss = x.matmul(&w).add(&b).softmax_cross_entropy_indices(&labels);
        loss.backward();
        no_grad(|| {
            for p in [&w, &b] {
                let g = p.grad().expect("gradient after backward");
                p.assign(&p.sub(&g.mul_scalar(learning_rate)));
                p.zero_grad();
            }
        });
        if step % 50 == 0 {
            println!("step {step:3}  cost {:.4}", loss.item());
        }
    }
    let predicted = no_grad(|| x.matmul(&w).add(&b).argmax_indices(-1));
    let correct = predicted
        .iter()
        .zip(&labels)
        .filter(|(p, l)| p == l)
        .count();
    println!(
        "train accuracy {:.1}% on {m} examples",
        100.0 * correct as f64 / m as f64
    );
    Ok(())
}

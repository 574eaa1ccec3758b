//! Draws one of each plot, as PNG and SVG, into a folder (default `plots/`):
//!
//! ```sh
//! cargo run --release -p dlkit-train --example plot_gallery -- /tmp/plots
//! ```
//!
//! The numbers are made up to look like a run: a decaying cost, rising accuracies, a 3-class
//! confusion matrix and a circular decision boundary over two noisy rings.

use dlkit_train::metrics::ConfusionMatrix;
use dlkit_train::plots::{
    plot_accuracy, plot_confusion_matrix, plot_cost, plot_decision_boundary, points, PlotOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "plots".into()));
    std::fs::create_dir_all(&dir)?;

    // Cost every 100 iterations, as the course's notebooks print it.
    let cost: Vec<f64> = (0..25)
        .map(|i| 0.05 + 0.64 * (-(i as f64) / 5.0).exp() + 0.01 * ((i * 7) % 5) as f64 / 5.0)
        .collect();
    let train: Vec<f64> = (0..20)
        .map(|e| 1.0 - 0.45 * (-(e as f64) / 4.0).exp())
        .collect();
    let dev: Vec<f64> = (0..20)
        .map(|e| 0.93 - 0.4 * (-(e as f64) / 4.0).exp() - 0.002 * e as f64)
        .collect();
    let cm = ConfusionMatrix::from_counts(vec![vec![48, 2, 0], vec![3, 41, 6], vec![0, 9, 41]])?
        .with_class_names(["setosa", "versicolor", "virginica"])?;

    // Two noisy rings, class 0 inside, class 1 outside.
    let mut state = 12345u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut xy = Vec::new();
    let mut labels = Vec::new();
    for i in 0..200 {
        let class = i % 2;
        let r = if class == 0 { 0.5 } else { 1.2 } + 0.25 * (uniform() - 0.5);
        let a = std::f64::consts::TAU * uniform();
        xy.push((r * a.cos(), r * a.sin()));
        labels.push(class);
    }
    let classify = |grid: &[(f64, f64)]| {
        grid.iter()
            .map(|&(x, y)| usize::from(x * x + y * y > 0.72))
            .collect()
    };

    for ext in ["png", "svg"] {
        plot_cost(
            dir.join(format!("cost.{ext}")),
            &points(&cost, 0.0, 100.0),
            &PlotOptions::new("Cost per 100 iterations (learning rate 0.0075)"),
        )?;
        plot_accuracy(
            dir.join(format!("accuracy.{ext}")),
            &points(&train, 1.0, 1.0),
            &points(&dev, 1.0, 1.0),
            &PlotOptions::new("Train and dev accuracy"),
        )?;
        plot_confusion_matrix(
            dir.join(format!("confusion.{ext}")),
            &cm,
            &PlotOptions::new("Confusion matrix (dev)").size(640, 600),
        )?;
        plot_decision_boundary(
            dir.join(format!("boundary.{ext}")),
            &xy,
            &labels,
            classify,
            &PlotOptions::new("Decision boundary").size(700, 600),
        )?;
    }
    println!(
        "wrote cost, accuracy, confusion and boundary (.png, .svg) to {}",
        dir.display()
    );
    Ok(())
}

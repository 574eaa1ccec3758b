//! The training loop on real shipped data: learning, exact resume, early stopping, an epoch
//! hook that stops the run, NaN guard.

use dlkit_core::DType;
use dlkit_core::Tensor;
use dlkit_data::preprocess::Standardizer;
use dlkit_data::Dataset;
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::DropoutSpec;
use dlkit_nn::optim::{Adam, GradientDescent};
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, LrSchedule, Module, Reduction, Sequential};
use dlkit_train::{fit, Control, EarlyStopping, EpochHook, Monitor, TrainError, TrainSettings};

/// Iris, standardised, split 100 train / 50 dev by a fixed interleaving.
fn iris() -> (Dataset, Dataset) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sklearn/iris.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let v: Vec<f32> = line.split(',').map(|f| f.parse().unwrap()).collect();
        x.extend_from_slice(&v[..4]);
        y.push(v[4] as usize);
    }
    let x = Tensor::from_vec(x, &[y.len(), 4]);
    let x = Standardizer::fit(&x).unwrap().apply(&x).unwrap();
    let names = ["setosa", "versicolor", "virginica"]
        .map(String::from)
        .to_vec();
    let all = Dataset::classification(x, y, names).unwrap();
    let (train, dev): (Vec<usize>, Vec<usize>) = (0..all.len()).partition(|i| i % 3 != 0);
    (all.select(&train).unwrap(), all.select(&dev).unwrap())
}

fn model(seed: u64, dropout: bool) -> Sequential {
    let mut layers = vec![LayerSpec::Dense(DenseSpec::new(16)), LayerSpec::Relu];
    if dropout {
        layers.push(LayerSpec::Dropout(DropoutSpec {
            keep_prob: 0.8,
            seed: None,
        }));
    }
    layers.extend([LayerSpec::Dense(DenseSpec::new(3)), LayerSpec::Softmax]);
    Sequential::build(
        &layers,
        &mut BuildContext::new(DType::F32, seed, Init::He),
        &[4],
    )
    .unwrap()
    .0
}

fn weights(m: &Sequential) -> Vec<Vec<f32>> {
    m.parameters()
        .iter()
        .map(|p| p.tensor.to_vec::<f32>())
        .collect()
}

fn settings(epochs: usize) -> TrainSettings {
    let mut s = TrainSettings::new(epochs, Loss::SoftmaxCrossEntropy);
    s.batch_size = Some(16);
    s.seed = 3;
    s.record_every = 5;
    s
}

#[test]
fn learns_iris_with_mini_batches() {
    let (train, dev) = iris();
    let mut net = model(0, false);
    let mut opt = Adam::new(net.parameters(), 0.01);
    let h = fit(&mut net, &mut opt, &train, Some(&dev), &settings(60), false).unwrap();
    assert_eq!(h.epochs.len(), 60);
    assert_eq!(
        h.iterations.len(),
        60 * 7 / 5,
        "100 examples in batches of 16: 7 steps an epoch"
    );
    let last = h.epochs.last().unwrap();
    assert!(last.dev_accuracy.unwrap() >= 0.9, "{last:?}");
    assert!(last.train_accuracy.unwrap() >= 0.95, "{last:?}");
    assert!(
        last.cost < h.epochs[0].cost / 3.0,
        "{:?} -> {:?}",
        h.epochs[0],
        last
    );
}

#[test]
fn a_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one() {
    let (train, dev) = iris();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let run = |dir: &std::path::Path, epochs: usize, resume: bool| {
        let mut net = model(1, true);
        let mut opt = Adam::new(net.parameters(), 0.01);
        let mut s = settings(epochs);
        s.schedule = LrSchedule::InverseTime { decay_rate: 0.1 };
        s.checkpoint_every = Some(1);
        s.run_dir = Some(dir.to_path_buf());
        let h = fit(&mut net, &mut opt, &train, Some(&dev), &s, resume).unwrap();
        (weights(&net), h)
    };
    let (straight, h_straight) = run(dirs[0].path(), 8, false);
    run(dirs[1].path(), 3, false); // "interrupted" after 3 epochs
    let (resumed, h_resumed) = run(dirs[1].path(), 8, true);
    let costs = |h: &dlkit_train::History| h.epochs.iter().map(|e| e.cost).collect::<Vec<_>>();
    assert_eq!(costs(&h_straight), costs(&h_resumed));
    assert_eq!(straight, resumed);
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let (train, dev) = iris();
    let mut net = model(2, false);
    let mut opt = GradientDescent::new(net.parameters(), 0.5);
    let mut s = settings(200);
    s.early_stopping = Some(EarlyStopping {
        monitor: Monitor::DevCost,
        patience: 3,
        min_delta: 0.0,
    });
    let h = fit(&mut net, &mut opt, &train, Some(&dev), &s, false).unwrap();
    assert!(
        h.stopped_early,
        "a large rate on 100 examples overfits within 200 epochs"
    );
    let best = h.best_epoch.unwrap();
    assert_eq!(h.epochs.len(), best + 4, "stops 3 epochs after the best");
    let now = dlkit_train::evaluate(&net, &dev, Loss::SoftmaxCrossEntropy).unwrap();
    let recorded = h.epochs[best].dev_cost.unwrap();
    assert!(
        (now.cost - recorded).abs() < 1e-6,
        "restored {} vs best {recorded}",
        now.cost
    );
}

#[test]
fn an_epoch_hook_sees_every_record_and_can_end_the_run() {
    let (train, dev) = iris();
    let mut net = model(0, false);
    let mut opt = Adam::new(net.parameters(), 0.01);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut s = settings(60);
    s.on_epoch = Some(EpochHook::new(move |r| {
        log.lock().unwrap().push((r.epoch, r.dev_accuracy.unwrap()));
        Ok(if r.epoch == 4 {
            Control::Stop
        } else {
            Control::Continue
        })
    }));
    let h = fit(&mut net, &mut opt, &train, Some(&dev), &s, false).unwrap();
    assert!(h.stopped_early);
    let seen = seen.lock().unwrap().clone();
    let recorded: Vec<(usize, f64)> = h
        .epochs
        .iter()
        .map(|r| (r.epoch, r.dev_accuracy.unwrap()))
        .collect();
    assert_eq!(seen, recorded);
    assert_eq!(seen.len(), h.epochs.len());
    assert_eq!(
        seen.last().unwrap().0,
        4,
        "stopped after the epoch the hook named"
    );

    let mut s = settings(60);
    s.on_epoch = Some(EpochHook::new(|_| {
        Err(TrainError::Callback("the trial's storage is gone".into()))
    }));
    let mut opt = Adam::new(net.parameters(), 0.01);
    let e = fit(&mut net, &mut opt, &train, Some(&dev), &s, false).unwrap_err();
    assert_eq!(e.to_string(), "the trial's storage is gone");
}

#[test]
fn a_diverging_cost_stops_with_a_message_naming_the_epoch_and_the_learning_rate() {
    let (train, _) = iris();
    let mut net = model(3, false);
    let mut opt = GradientDescent::new(net.parameters(), 1e30);
    let err = fit(&mut net, &mut opt, &train, None, &settings(5), false).unwrap_err();
    assert!(matches!(err, TrainError::NonFinite { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("epoch") && msg.contains("learning rate"),
        "{msg}"
    );
}

#[test]
fn a_summed_loss_is_the_mean_times_the_batch_and_none_is_refused() {
    let (train, dev) = iris();
    let m = train.len() as f64;
    let run = |reduction: Reduction, lr: f64| {
        let mut net = model(4, false);
        let mut opt = GradientDescent::new(net.parameters(), lr);
        let mut s = settings(1);
        s.batch_size = None;
        s.loss_reduction = reduction;
        let h = fit(&mut net, &mut opt, &train, Some(&dev), &s, false);
        h.map(|h| (weights(&net), h.epochs[0].cost))
    };
    // Full batch: the sum's gradient is m times the mean's, so α/m on the sum takes the
    // mean's step with α.
    let (mean_w, mean_cost) = run(Reduction::Mean, 0.5).unwrap();
    let (sum_w, sum_cost) = run(Reduction::Sum, 0.5 / m).unwrap();
    assert!(
        (sum_cost - m * mean_cost).abs() <= 1e-5 * sum_cost,
        "{sum_cost} {mean_cost}"
    );
    for (a, b) in mean_w.iter().flatten().zip(sum_w.iter().flatten()) {
        assert!((a - b).abs() <= 1e-5, "{a} {b}");
    }
    let e = run(Reduction::None, 0.5).unwrap_err().to_string();
    assert_eq!(
        e,
        "loss reduction \"none\" gives one loss per example, but a training step needs a \
         scalar cost: use \"mean\" or \"sum\""
    );
}

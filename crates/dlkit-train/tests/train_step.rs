//! A user-implemented training step with two models and two optimisers (a toy GAN on Iris's
//! features) through the Trainer: a run killed after k epochs and resumed from its run folder
//! with fresh models and optimisers ends bit for bit where an uninterrupted run ends.

use dlkit_core::{no_grad, DType, Rng, Tensor};
use dlkit_data::{epoch_seed, load_sklearn_csv, Batch, Dataset};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::DropoutSpec;
use dlkit_nn::optim::{Adam, Momentum};
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Optimizer, Sequential};
use dlkit_train::trainer::{BatchEnd, Checkpoints, Group};
use dlkit_train::{
    Callback, Control, EpochRecord, StepOutput, TrainError, TrainResult, TrainStep, Trainer,
};
use std::path::Path;

const EPOCHS: usize = 6;
const NOISE: usize = 2;

fn iris() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sklearn/iris.csv");
    let t = load_sklearn_csv(path).unwrap();
    Dataset::classification(t.x, t.y, t.classes).unwrap()
}

fn net(layers: &[LayerSpec], input: usize, seed: u64) -> Sequential {
    let mut ctx = BuildContext::new(DType::F32, seed, Init::He);
    Sequential::build(layers, &mut ctx, &[input]).unwrap().0
}

/// Noise → 4 features.
fn generator(seed: u64) -> Sequential {
    let layers = [
        LayerSpec::Dense(DenseSpec::new(8)),
        LayerSpec::Relu,
        LayerSpec::Dense(DenseSpec::new(4)),
    ];
    net(&layers, NOISE, seed)
}

/// 4 features → P(real), with dropout so that its random stream must resume too.
fn discriminator(seed: u64) -> Sequential {
    let layers = [
        LayerSpec::Dense(DenseSpec::new(8)),
        LayerSpec::Relu,
        LayerSpec::Dropout(DropoutSpec {
            keep_prob: 0.8,
            seed: None,
        }),
        LayerSpec::Dense(DenseSpec::new(1)),
        LayerSpec::Sigmoid,
    ];
    net(&layers, 4, seed)
}

/// The Keras `train_step` idea: one discriminator update on real and generated examples,
/// then one generator update through the discriminator.
struct Gan {
    g: Sequential,
    d: Sequential,
    g_opt: Adam,
    d_opt: Momentum,
    noise: Rng,
}

impl Gan {
    fn new(init_seed: u64) -> Gan {
        let (g, d) = (generator(init_seed), discriminator(init_seed + 1));
        let g_opt = Adam::new(g.parameters(), 0.01);
        let d_opt = Momentum::new(d.parameters(), 0.05);
        Gan {
            g,
            d,
            g_opt,
            d_opt,
            noise: Rng::new(0),
        }
    }

    fn z(&mut self, n: usize) -> Tensor {
        Tensor::rand_normal(&[n, NOISE], 0.0, 1.0, DType::F32, &mut self.noise)
    }
}

fn bce(logits: &Tensor, label: usize) -> Tensor {
    let labels = vec![label; logits.shape()[0]];
    Loss::BinaryCrossEntropy
        .compute(logits, &labels[..])
        .unwrap()
}

impl TrainStep for Gan {
    fn groups(&mut self) -> Vec<Group<'_>> {
        vec![
            Group::new("generator", &mut self.g, &mut self.g_opt),
            Group::new("discriminator", &mut self.d, &mut self.d_opt),
        ]
    }

    fn on_epoch_start(&mut self, epoch: usize, seed: u64) -> TrainResult<()> {
        self.noise = Rng::new(epoch_seed(seed ^ 0x6A9, epoch as u64));
        Ok(())
    }

    fn train_step(&mut self, batch: &Batch) -> TrainResult<StepOutput> {
        let n = batch.len();
        let z = self.z(n);
        let fake = no_grad(|| self.g.forward(&z))?;
        let d_cost =
            bce(&self.d.forward_logits(&batch.x)?, 1).add(&bce(&self.d.forward_logits(&fake)?, 0));
        self.d_opt.zero_grad();
        d_cost.backward();
        self.d_opt.step();

        let z = self.z(n);
        let g_cost = bce(&self.d.forward_logits(&self.g.forward(&z)?)?, 1);
        self.g_opt.zero_grad();
        g_cost.backward();
        self.g_opt.step();
        let (d, g) = (d_cost.item(), g_cost.item());
        Ok(StepOutput {
            cost: d + g,
            correct: None,
            metrics: vec![("discriminator".into(), d), ("generator".into(), g)],
        })
    }
}

/// Ends the run with an error after epoch `after`, as a kill would (after its checkpoint).
struct Kill {
    after: usize,
}

impl Callback for Kill {
    fn on_epoch_end(
        &mut self,
        record: &EpochRecord,
        _: &mut dlkit_train::trainer::Run<'_>,
    ) -> TrainResult<Control> {
        if record.epoch == self.after {
            return Err(TrainError::Callback(format!(
                "killed after epoch {}",
                self.after
            )));
        }
        Ok(Control::Continue)
    }
}

fn trainer<'c>() -> Trainer<'c> {
    let mut t = Trainer::new(EPOCHS);
    t.batch_size = Some(32);
    t.seed = 11;
    t.record_every = 1;
    t
}

/// Every weight's bits and every optimiser buffer of both groups.
fn fingerprint(gan: &mut Gan) -> Vec<(String, Vec<u64>)> {
    let mut out = Vec::new();
    for g in gan.groups() {
        for p in g.module.parameters() {
            let bits = p
                .tensor
                .to_vec::<f32>()
                .iter()
                .map(|v| v.to_bits() as u64)
                .collect();
            out.push((format!("{}/{}", g.name, p.name), bits));
        }
        for (n, v) in g.optimizer.state() {
            out.push((
                format!("{}/opt/{n}", g.name),
                v.iter().map(|x| x.to_bits()).collect(),
            ));
        }
    }
    out
}

#[test]
fn a_two_optimiser_step_killed_and_resumed_ends_bit_identical() {
    let data = iris();
    let mut straight = Gan::new(1);
    let h_straight = trainer().fit(&mut straight, &data, None).unwrap();
    assert_eq!(h_straight.epochs.len(), EPOCHS);
    assert!(h_straight.epochs[0].metrics.contains_key("generator"));

    let dir = tempfile::tempdir().unwrap();
    {
        let mut killed = Gan::new(1);
        let err = trainer()
            .callback(Checkpoints::new(dir.path(), 1))
            .callback(Kill { after: 2 })
            .fit(&mut killed, &data, None)
            .unwrap_err();
        assert!(err.to_string().contains("killed after epoch 2"), "{err}");
    }
    let ckpt = dir.path().join("checkpoint");
    for f in [
        "generator/weights.safetensors",
        "generator/optimizer.safetensors",
        "discriminator/weights.safetensors",
        "discriminator/optimizer.safetensors",
    ] {
        assert!(ckpt.join(f).is_file(), "{f}");
    }
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ckpt.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_done"], 3);

    // Fresh models from other initial weights: the checkpoint must restore everything.
    let mut resumed = Gan::new(40);
    let h_resumed = trainer()
        .callback(Checkpoints::new(dir.path(), 1))
        .resume_from(dir.path())
        .fit(&mut resumed, &data, None)
        .unwrap();
    let figures = |h: &dlkit_train::History| {
        let epochs = h.epochs.iter();
        epochs
            .map(|e| (e.cost, e.metrics.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(figures(&h_straight), figures(&h_resumed));
    assert_eq!(h_straight.iterations, h_resumed.iterations);
    assert_eq!(fingerprint(&mut straight), fingerprint(&mut resumed));
}

#[test]
fn resuming_with_other_group_names_names_the_missing_group() {
    let data = iris();
    let dir = tempfile::tempdir().unwrap();
    let mut gan = Gan::new(1);
    let mut t = trainer().callback(Checkpoints::new(dir.path(), 1));
    t.epochs = 1;
    t.fit(&mut gan, &data, None).unwrap();

    struct Renamed(Gan);
    impl TrainStep for Renamed {
        fn groups(&mut self) -> Vec<Group<'_>> {
            vec![Group::new("model", &mut self.0.g, &mut self.0.g_opt)]
        }
        fn train_step(&mut self, batch: &Batch) -> TrainResult<StepOutput> {
            self.0.train_step(batch)
        }
    }
    let err = trainer()
        .resume_from(dir.path())
        .fit(&mut Renamed(Gan::new(1)), &data, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no group `model`") && err.contains("discriminator, generator"),
        "{err}"
    );
}

/// Counts batches and stops the run after two epochs.
struct StopAfterTwo<'a> {
    batches: &'a mut usize,
}

impl Callback for StopAfterTwo<'_> {
    fn on_batch_end(&mut self, _: &BatchEnd) -> TrainResult<()> {
        *self.batches += 1;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        record: &EpochRecord,
        _: &mut dlkit_train::trainer::Run<'_>,
    ) -> TrainResult<Control> {
        Ok(if record.epoch == 1 {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

#[test]
fn a_callback_can_stop_the_run() {
    let data = iris();
    let mut batches = 0;
    let h = trainer()
        .callback(StopAfterTwo {
            batches: &mut batches,
        })
        .fit(&mut Gan::new(1), &data, None)
        .unwrap();
    assert_eq!(h.epochs.len(), 2);
    assert!(h.stopped_early);
    assert_eq!(batches, 2 * 150usize.div_ceil(32));
}

#[test]
fn duplicate_group_names_are_rejected_by_checkpoints() {
    struct Twice(Gan);
    impl TrainStep for Twice {
        fn groups(&mut self) -> Vec<Group<'_>> {
            vec![
                Group::new("net", &mut self.0.g, &mut self.0.g_opt),
                Group::new("net", &mut self.0.d, &mut self.0.d_opt),
            ]
        }
        fn train_step(&mut self, batch: &Batch) -> TrainResult<StepOutput> {
            self.0.train_step(batch)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let err = trainer()
        .callback(Checkpoints::new(dir.path(), 1))
        .fit(&mut Twice(Gan::new(1)), &iris(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("two groups are named `net`"), "{err}");
    assert!(!Path::new(&dir.path().join("checkpoint")).exists());
}

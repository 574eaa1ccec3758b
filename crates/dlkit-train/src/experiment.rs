//! An experiment: a loaded config made into data, preprocessing, a model and an optimiser,
//! all checked before anything runs, then trained in-process into an [`Outcome`].
//!
//! ```no_run
//! use dlkit_train::{Experiment, ExperimentOptions, LoadedConfig};
//!
//! # fn main() -> dlkit_train::TrainResult<()> {
//! let config = LoadedConfig::from_file("examples/mnist_mlp.toml".as_ref())?;
//! let outcome = Experiment::new(config, ExperimentOptions::default())?.run()?;
//! println!("test accuracy {:.4}", outcome.set("test").unwrap().accuracy());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use dlkit_core::DType;
use dlkit_data::{FittedPreprocessing, Splits};
use dlkit_nn::io::load_kept_layers;
use dlkit_nn::{
    describe_layers, parameter_count, LayerSpec, Loss, ModelConfig, Module, Optimizer, Regularizer,
    Sequential,
};

use crate::config::LoadedConfig;
use crate::error::{TrainError, TrainResult};
use crate::outcome::{assess, Outcome};
use crate::trainer::EpochHook;
use crate::transfer::{check_input_shape, fit_preprocessing, read_base, Base};
use crate::{fit, run_writer, TrainSettings};

/// How an experiment runs.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOptions {
    /// The run folder: `config.toml` is written there before training, checkpoints during
    /// (with `[train] checkpoint_every`). `None`: nothing is written.
    pub run_dir: Option<PathBuf>,
    /// Continue from the checkpoint in `run_dir`.
    pub resume: bool,
    /// Show a progress bar while training.
    pub progress: bool,
    /// Replaces `[model] seed` and `[train] seed` (initial weights, mini-batch order,
    /// dropout masks); the data and its split stay as configured.
    pub seed: Option<u64>,
    /// Told of each epoch's record; may stop the run (see [`EpochHook`]).
    pub on_epoch: Option<EpochHook>,
}

/// A config made ready to train: every setting validated, the data read, preprocessing
/// fitted on the training set, the model built and checked against the data.
pub struct Experiment {
    config: LoadedConfig,
    options: ExperimentOptions,
    /// The sets as read, and after preprocessing in the model's dtype.
    splits: Splits,
    prepared: Splits,
    preprocessing: FittedPreprocessing,
    model: Sequential,
    optimizer: Box<dyn Optimizer>,
    loss: Loss,
    regularizer: Option<Regularizer>,
    layers: Vec<String>,
}

/// The data of a config read and preprocessed: the raw sets, the preprocessing fitted on
/// the training set only (or the saved model's of `[model] from`, see [`crate::transfer`]),
/// and the sets after it in `dtype`.
pub(crate) fn prepare_data(
    cfg: &LoadedConfig,
    dtype: DType,
    base: Option<&Base>,
) -> TrainResult<(Splits, FittedPreprocessing, Splits)> {
    let splits = cfg.config.data.load(&cfg.name)?;
    let fitted = fit_preprocessing(cfg, base, &splits.train.x)?;
    let prepared = splits.map(|d| {
        let x = fitted
            .apply(&d.x)
            .map_err(|e| cfg.error("[preprocess]", e))?;
        Ok::<_, TrainError>(d.with_x(x.to_dtype(dtype))?)
    })?;
    Ok((splits, fitted, prepared))
}

/// The config's model in `dtype` for examples of shape `input` (`raw` before
/// preprocessing, for the error message), its weights read from `[model] weights` when given,
/// its loss checked against the output and the number of classes, and its layers. With
/// `[model] from` (`base`), the layers are those [`ModelConfig::transfer`] works out, and the
/// kept layers get the saved weights when `dtype` is the saved model's.
pub(crate) fn build_model(
    cfg: &LoadedConfig,
    dtype: DType,
    input: &[usize],
    raw: &[usize],
    n_classes: usize,
    base: Option<&Base>,
) -> TrainResult<(Sequential, Loss, Vec<LayerSpec>)> {
    let m = &cfg.config.model;
    let transfer = m
        .transfer(base.map(|b| b.info.layers.as_slice()))
        .map_err(|e| cfg.error(e.field, e.message))?;
    if transfer.layers.is_empty() {
        return Err(cfg.error("[model] layers", "no layers given"));
    }
    if let Some(b) = base {
        check_input_shape(cfg, b, input, raw)?;
    }
    let resolved = ModelConfig {
        from: None,
        keep: None,
        freeze: None,
        layers: transfer.layers,
        ..m.clone()
    };
    let mut ctx = resolved
        .build_context(dtype)
        .map_err(|e| cfg.error("[model] seed", e))?;
    let (model, out) = resolved
        .build(&mut ctx, input)
        .map_err(|e| layers_error(cfg, e, input, raw, transfer.kept.len()))?;
    if let Some(weights) = &m.weights {
        weights
            .validate()
            .map_err(|e| cfg.error("[model] weights", e))?;
        let path = cfg.resolve("[model] weights.path", &weights.path)?;
        weights
            .load_into(&model, &path)
            .map_err(|e| cfg.error("[model] weights", e))?;
    }
    if let Some(b) = base.filter(|b| b.info.dtype == dtype) {
        load_kept_layers(&model, &b.path, &b.info, &transfer.kept)
            .map_err(|e| cfg.error("[model] from", e))?;
    }
    let loss = resolved
        .output_loss(cfg.config.train.loss, &out, n_classes)
        .map_err(|p| cfg.error("[train] loss", p))?;
    Ok((model, loss, resolved.layers))
}

/// A `[model] layers` error `e` for examples of shape `input` (`raw` before preprocessing),
/// of a model whose first `kept` layers come from `[model] from`.
pub(crate) fn layers_error(
    cfg: &LoadedConfig,
    e: dlkit_nn::Error,
    input: &[usize],
    raw: &[usize],
    kept: usize,
) -> TrainError {
    cfg.error(
        "[model] layers",
        format!(
            "{e} (the data's examples have shape {input:?}{}{})",
            if input != raw {
                format!(" after [preprocess], {raw:?} before")
            } else {
                String::new()
            },
            match kept {
                0 => String::new(),
                k => format!("; layers 0 to {} are kept from [model] from", k - 1),
            }
        ),
    )
}

impl Experiment {
    /// Validates the config, resolves its data paths, reads and preprocesses the data,
    /// builds the model and the optimiser. Nothing is written.
    pub fn new(mut config: LoadedConfig, options: ExperimentOptions) -> TrainResult<Experiment> {
        if let Some(seed) = options.seed {
            config.config.model.seed = seed;
            config.config.train.seed = seed;
        }
        config.resolve_data_paths()?;
        config.validate()?;
        let cfg = &config;
        let c = &cfg.config;
        let dtype = c.model.dtype.dtype();
        let base = read_base(cfg)?;
        let (splits, preprocessing, prepared) = prepare_data(cfg, dtype, base.as_ref())?;
        let raw_shape = splits.train.feature_shape();
        let input_shape = prepared.train.feature_shape();
        let n_classes = splits.class_names().len();
        let (model, loss, specs) =
            build_model(cfg, dtype, input_shape, raw_shape, n_classes, base.as_ref())?;
        if let Some(a) = c.augment.as_ref().filter(|a| !a.is_identity()) {
            a.validate().map_err(|e| cfg.error("[augment]", e))?;
            if input_shape.len() != 3 {
                return Err(cfg.error(
                    "[augment]",
                    format!(
                        "augmentation needs image inputs [h, w, c], but the model's inputs have \
                         shape {input_shape:?}: leave `flatten` out of [preprocess] and begin \
                         [model] layers with {{ type = \"flatten\" }} instead"
                    ),
                ));
            }
        }
        if c.train.early_stopping.is_some() && prepared.dev.is_none() {
            return Err(cfg.error(
                "[train] early_stopping",
                "needs a dev set: give [data] dev or a split with dev > 0",
            ));
        }
        let optimizer = c
            .optimizer
            .build(model.parameters())
            .map_err(|e| cfg.error("[optimizer]", e))?;
        let regularizer = cfg.regularizer()?;
        let layers = describe_layers(&specs, input_shape);
        Ok(Experiment {
            options,
            splits,
            prepared,
            preprocessing,
            model,
            optimizer,
            loss,
            regularizer,
            layers,
            config,
        })
    }

    /// The config as it runs (seed replaced, data paths resolved).
    pub fn config(&self) -> &LoadedConfig {
        &self.config
    }

    /// The model as built, before training: with `[model] from`, the kept layers hold the
    /// saved weights and the frozen ones are not trainable.
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The sets as read, before preprocessing.
    pub fn splits(&self) -> &Splits {
        &self.splits
    }

    /// The class names shared by every set.
    pub fn class_names(&self) -> Vec<String> {
        self.splits.class_names()
    }

    /// The shape of one example as the model takes it (after preprocessing).
    pub fn input_shape(&self) -> &[usize] {
        self.prepared.train.feature_shape()
    }

    /// Each layer with its output shape (`"dense 20 -> [20]"`).
    pub fn layers(&self) -> &[String] {
        &self.layers
    }

    /// The number of learnable scalars.
    pub fn parameters(&self) -> usize {
        parameter_count(&self.model)
    }

    /// The loss, as configured or as the last layer suggests.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Examples per mini-batch (the whole training set when `[train] batch_size` is left out).
    pub fn batch_size(&self) -> usize {
        self.config
            .config
            .train
            .batch_size
            .unwrap_or(self.prepared.train.len())
    }

    /// The run folder, if any.
    pub fn run_dir(&self) -> Option<&Path> {
        self.options.run_dir.as_deref()
    }

    /// Sets the run folder (chosen once the config is known to be good).
    pub fn set_run_dir(&mut self, dir: PathBuf) {
        self.options.run_dir = Some(dir);
    }

    /// With `resume`, the epoch after which the run folder's checkpoint was written.
    pub fn resumed_from(&self) -> Option<usize> {
        match (&self.options.run_dir, self.options.resume) {
            (Some(dir), true) => checkpoint_epoch(dir),
            _ => None,
        }
    }

    /// Trains with [`fit`] and measures the result on every set. With a run folder,
    /// `config.toml` (the config as used) is written first and stale checkpoints of an
    /// earlier run removed unless resuming.
    pub fn run(self) -> TrainResult<Outcome> {
        let resumed_from = self.resumed_from();
        let Experiment {
            config: cfg,
            options,
            splits,
            prepared,
            preprocessing,
            mut model,
            mut optimizer,
            loss,
            regularizer,
            layers,
        } = self;
        let c = &cfg.config;
        if let Some(dir) = &options.run_dir {
            std::fs::create_dir_all(dir).map_err(|e| TrainError::write(dir, e))?;
            if !options.resume {
                for stale in ["checkpoint", "checkpoint.old", "checkpoint.tmp"] {
                    let _ = std::fs::remove_dir_all(dir.join(stale));
                }
            }
            run_writer::write_config(dir, &cfg)?;
        }
        let settings = TrainSettings {
            batch_size: c.train.batch_size,
            seed: c.train.seed,
            regularizer,
            schedule: c.train.schedule.clone(),
            augment: c.augment.clone().filter(|a| !a.is_identity()),
            record_every: c.train.record_every,
            early_stopping: c.train.early_stopping.clone(),
            loss_reduction: c.train.loss_reduction.unwrap_or_default(),
            checkpoint_every: c.train.checkpoint_every,
            run_dir: options.run_dir.clone(),
            progress: options.progress,
            on_epoch: options.on_epoch.clone(),
            ..TrainSettings::new(c.train.epochs, loss)
        };
        let started = Instant::now();
        let history = fit(
            &mut model,
            &mut *optimizer,
            &prepared.train,
            prepared.dev.as_ref(),
            &settings,
            options.resume,
        )?;
        let wall_seconds = started.elapsed().as_secs_f64();
        let batch = c.train.batch_size.unwrap_or(prepared.train.len());
        let iterations_per_epoch = prepared.train.len().div_ceil(batch.max(1));
        let results = assess(&cfg, &model, &prepared, loss)?;
        Ok(Outcome {
            class_names: splits.class_names(),
            raw_shape: splits.train.feature_shape().to_vec(),
            input_shape: prepared.train.feature_shape().to_vec(),
            parameters: parameter_count(&model),
            config: cfg,
            run_dir: options.run_dir,
            history,
            splits,
            preprocessing,
            model,
            layers,
            loss,
            results,
            wall_seconds,
            resumed_from,
            iterations_per_epoch,
        })
    }
}

/// The epoch after which the checkpoint in run folder `dir` was written, if there is one.
pub fn checkpoint_epoch(dir: &Path) -> Option<usize> {
    let ckpt = crate::checkpoint::find(dir)?;
    let text = std::fs::read(ckpt.join("state.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("epochs_done")?
        .as_u64()?
        .checked_sub(1)
        .map(|e| e as usize)
}

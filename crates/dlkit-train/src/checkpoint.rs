//! Checkpoints: everything a run needs to continue exactly where it stopped — the model's
//! weights and buffers, the optimiser's state, the best weights so far and the history.
//!
//! A checkpoint is the folder `DIR/checkpoint`; a new one is written whole into
//! `DIR/checkpoint.tmp`, then swapped in by renames (the previous one is kept as
//! `DIR/checkpoint.old` until the swap is done), so a crash at any moment leaves a complete
//! checkpoint to resume from.

use crate::error::{TrainError, TrainResult};
use crate::history::History;
use crate::named_tensors;
use dlkit_core::Tensor;
use dlkit_nn::{Module, Optimizer, Sequential};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const STATE: &str = "state.json";
const WEIGHTS: &str = "weights.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
const BEST: &str = "best.safetensors";

/// Named tensor copies: a model's weights and buffers.
pub type Snapshot = Vec<(String, Tensor)>;

/// What a checkpoint records besides tensors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Epochs completed; training resumes at this epoch index.
    pub epochs_done: usize,
    /// Iterations (mini-batch steps) completed.
    pub iterations_done: usize,
    /// Epochs without improvement of the monitored metric (early stopping).
    pub epochs_without_improvement: usize,
    pub history: History,
}

fn fail(path: &Path, msg: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.display().to_string(),
        msg: msg.to_string(),
    }
}

/// The named parameters and buffers of a model, as deep copies.
pub fn snapshot(model: &Sequential) -> Snapshot {
    let params = model.parameters().into_iter().map(|p| (p.name, p.tensor));
    params
        .chain(model.buffers())
        .map(|(n, t)| {
            (
                n,
                Tensor::from_vec(t.to_vec_f64(), t.shape()).to_dtype(t.dtype()),
            )
        })
        .collect()
}

/// Writes a snapshot back into the model's tensors; every name must be present.
pub fn restore(model: &Sequential, saved: &[(String, Tensor)], path: &Path) -> TrainResult<()> {
    let targets = model
        .parameters()
        .into_iter()
        .map(|p| (p.name, p.tensor))
        .chain(model.buffers());
    for (name, t) in targets {
        let (_, v) = saved
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| fail(path, format!("tensor `{name}` of the model is missing")))?;
        t.try_assign(v)
            .map_err(|e| fail(path, format!("tensor `{name}`: {e}")))?;
    }
    Ok(())
}

/// Writes a complete checkpoint into `dir/checkpoint`.
pub fn save(
    dir: &Path,
    model: &Sequential,
    optimizer: &mut dyn Optimizer,
    best: Option<&[(String, Tensor)]>,
    state: &CheckpointState,
) -> TrainResult<()> {
    let (tmp, cur, old) = (
        dir.join("checkpoint.tmp"),
        dir.join("checkpoint"),
        dir.join("checkpoint.old"),
    );
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| fail(&tmp, e))?;
    named_tensors::write(&tmp.join(WEIGHTS), &snapshot(model))?;
    let opt: Vec<(String, Tensor)> = optimizer
        .state()
        .into_iter()
        .map(|(n, v)| {
            let len = v.len();
            (n, Tensor::from_vec(v, &[len]))
        })
        .collect();
    named_tensors::write(&tmp.join(OPTIMIZER), &opt)?;
    if let Some(best) = best {
        named_tensors::write(&tmp.join(BEST), best)?;
    }
    let json = serde_json::to_vec_pretty(state).map_err(|e| fail(&tmp, e))?;
    crate::atomic::write_atomic(&tmp.join(STATE), &json).map_err(|e| fail(&tmp, e))?;
    let _ = std::fs::remove_dir_all(&old);
    if cur.exists() {
        std::fs::rename(&cur, &old).map_err(|e| fail(&cur, e))?;
    }
    std::fs::rename(&tmp, &cur).map_err(|e| fail(&cur, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The checkpoint folder to resume from in `dir`, if any (the previous one when a crash hit
/// between the two renames of [`save`]).
pub fn find(dir: &Path) -> Option<PathBuf> {
    ["checkpoint", "checkpoint.old"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.join(STATE).is_file())
}

/// Loads a checkpoint folder into the model and optimiser; returns its state and the best
/// weights if it recorded them.
pub fn load(
    ckpt: &Path,
    model: &Sequential,
    optimizer: &mut dyn Optimizer,
) -> TrainResult<(CheckpointState, Option<Snapshot>)> {
    let state_path = ckpt.join(STATE);
    let text = std::fs::read(&state_path).map_err(|e| fail(&state_path, e))?;
    let state: CheckpointState = serde_json::from_slice(&text).map_err(|e| fail(&state_path, e))?;
    let weights_path = ckpt.join(WEIGHTS);
    restore(model, &named_tensors::read(&weights_path)?, &weights_path)?;
    let opt_path = ckpt.join(OPTIMIZER);
    let opt: Vec<(String, Vec<f64>)> = named_tensors::read(&opt_path)?
        .into_iter()
        .map(|(n, t)| (n, t.to_vec_f64()))
        .collect();
    optimizer.load_state(&opt).map_err(|e| {
        fail(
            &opt_path,
            format!("{e} (was the checkpoint written with another optimiser?)"),
        )
    })?;
    let best_path = ckpt.join(BEST);
    let best = if best_path.is_file() {
        Some(named_tensors::read(&best_path)?)
    } else {
        None
    };
    Ok((state, best))
}

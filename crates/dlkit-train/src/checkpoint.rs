//! Checkpoints: everything a run needs to continue exactly where it stopped — for each named
//! group of the training step its module's weights and buffers, its optimiser's state and
//! the best weights so far, and the run's counters and history.
//!
//! A checkpoint is the folder `DIR/checkpoint`: `state.json` and, per group `NAME`,
//! `NAME/weights.safetensors`, `NAME/optimizer.safetensors` and (with early stopping)
//! `NAME/best.safetensors`. A new one is written whole into `DIR/checkpoint.tmp`, then
//! swapped in by renames (the previous one is kept as `DIR/checkpoint.old` until the swap is
//! done), so a crash at any moment leaves a complete checkpoint to resume from.

use crate::error::{TrainError, TrainResult};
use crate::history::History;
use crate::trainer::groups::{check_names, Group};
use dlkit_core::Tensor;
use dlkit_nn::io::{decode_tensors, encode_tensors, write_atomic};
use dlkit_nn::{Module, Optimizer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const STATE: &str = "state.json";
const WEIGHTS: &str = "weights.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
const BEST: &str = "best.safetensors";

/// Named tensor copies: a model's weights and buffers.
pub type Snapshot = Vec<(String, Tensor)>;

/// What a checkpoint records besides tensors.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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

/// Writes `(name, tensor)` pairs to the safetensors file `path`, atomically.
fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> TrainResult<()> {
    let bytes = encode_tensors(tensors.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| fail(path, e))?;
    write_atomic(path, &bytes).map_err(|e| fail(path, e))
}

/// Every tensor of the safetensors file `path`, in the file's order.
fn read_tensors(path: &Path) -> TrainResult<Vec<(String, Tensor)>> {
    decode_tensors(path).map_err(|e| match e {
        dlkit_nn::Error::File { msg, .. } => fail(path, msg),
        other => fail(path, other),
    })
}

/// The named parameters and buffers of a model, as deep copies.
pub fn snapshot(model: &dyn Module) -> Snapshot {
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
pub fn restore(model: &dyn Module, saved: &[(String, Tensor)], path: &Path) -> TrainResult<()> {
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

/// The optimiser's state as 1-D f64 tensors, one per named buffer.
fn optimizer_tensors(optimizer: &mut dyn Optimizer) -> Snapshot {
    optimizer
        .state()
        .into_iter()
        .map(|(n, v)| {
            let len = v.len();
            (n, Tensor::from_vec(v, &[len]))
        })
        .collect()
}

/// Writes a complete checkpoint into `dir/checkpoint`: every group's tensors under its name,
/// `best` (one snapshot per group, in the groups' order) if given, and `state`.
pub fn save(
    dir: &Path,
    groups: &mut [Group<'_>],
    best: Option<&[Snapshot]>,
    state: &CheckpointState,
) -> TrainResult<()> {
    let (tmp, cur, old) = (
        dir.join("checkpoint.tmp"),
        dir.join("checkpoint"),
        dir.join("checkpoint.old"),
    );
    check_names(groups, &cur)?;
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| fail(&tmp, e))?;
    for (i, g) in groups.iter_mut().enumerate() {
        let folder = tmp.join(g.name);
        std::fs::create_dir(&folder).map_err(|e| fail(&folder, e))?;
        write_tensors(&folder.join(WEIGHTS), &snapshot(&*g.module))?;
        write_tensors(
            &folder.join(OPTIMIZER),
            &optimizer_tensors(&mut *g.optimizer),
        )?;
        if let Some(best) = best.and_then(|b| b.get(i)) {
            write_tensors(&folder.join(BEST), best)?;
        }
    }
    let json = serde_json::to_vec_pretty(state).map_err(|e| fail(&tmp, e))?;
    write_atomic(&tmp.join(STATE), &json).map_err(|e| fail(&tmp, e))?;
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

/// The group folders a checkpoint holds, sorted, for messages.
fn stored_groups(ckpt: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(ckpt)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Loads one group's weights and optimiser state from its folder of the checkpoint.
fn load_group(ckpt: &Path, g: &mut Group<'_>) -> TrainResult<()> {
    let folder = ckpt.join(g.name);
    if !folder.is_dir() {
        return Err(fail(
            ckpt,
            format!(
                "no group `{}` in this checkpoint (it holds: {}); was it written by another \
                 training step?",
                g.name,
                stored_groups(ckpt)
            ),
        ));
    }
    let weights_path = folder.join(WEIGHTS);
    restore(&*g.module, &read_tensors(&weights_path)?, &weights_path)?;
    let opt_path = folder.join(OPTIMIZER);
    let opt: Vec<(String, Vec<f64>)> = read_tensors(&opt_path)?
        .into_iter()
        .map(|(n, t)| (n, t.to_vec_f64()))
        .collect();
    g.optimizer.load_state(&opt).map_err(|e| {
        fail(
            &opt_path,
            format!("{e} (was the checkpoint written with another optimiser?)"),
        )
    })
}

/// Loads a checkpoint folder into the groups' modules and optimisers; returns its state and
/// the best weights (one snapshot per group) if it recorded them.
pub fn load(
    ckpt: &Path,
    groups: &mut [Group<'_>],
) -> TrainResult<(CheckpointState, Option<Vec<Snapshot>>)> {
    check_names(groups, ckpt)?;
    let state_path = ckpt.join(STATE);
    let text = std::fs::read(&state_path).map_err(|e| fail(&state_path, e))?;
    let state: CheckpointState = serde_json::from_slice(&text).map_err(|e| fail(&state_path, e))?;
    for g in groups.iter_mut() {
        load_group(ckpt, g)?;
    }
    let has_best = groups
        .first()
        .is_some_and(|g| ckpt.join(g.name).join(BEST).is_file());
    let best = if has_best {
        let read = |g: &Group<'_>| read_tensors(&ckpt.join(g.name).join(BEST));
        Some(groups.iter().map(read).collect::<TrainResult<Vec<_>>>()?)
    } else {
        None
    };
    Ok((state, best))
}

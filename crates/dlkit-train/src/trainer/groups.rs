//! Named (module, optimiser) groups: what a training step trains, and what checkpoints store
//! under each group's name (`model/`, or `generator/` and `discriminator/`).

use crate::error::{TrainError, TrainResult};
use dlkit_data::epoch_seed;
use dlkit_nn::{Module, Optimizer};
use std::path::Path;

/// One module and the optimiser that updates its parameters, under a name that is unique
/// within the step and usable as a folder name (letters, digits, `_`, `-`).
pub struct Group<'a> {
    pub name: &'a str,
    pub module: &'a mut dyn Module,
    pub optimizer: &'a mut dyn Optimizer,
}

impl<'a> Group<'a> {
    pub fn new(
        name: &'a str,
        module: &'a mut dyn Module,
        optimizer: &'a mut dyn Optimizer,
    ) -> Self {
        Group {
            name,
            module,
            optimizer,
        }
    }
}

/// The seed of group `index`'s random streams (dropout masks) in `epoch`:
/// `epoch_seed(seed ^ 0x5EED_D0D0 ^ index · 0x9E37_79B9_7F4A_7C15, epoch)` (wrapping
/// product), so group 0 draws what a single-model run always drew and every group its own.
pub fn group_seed(seed: u64, index: usize, epoch: usize) -> u64 {
    let spread = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    epoch_seed(seed ^ 0x5EED_D0D0 ^ spread, epoch as u64)
}

/// Checks that every group name is a valid, distinct folder name (the checkpoint at `path`
/// stores each group in a folder of that name).
pub fn check_names(groups: &[Group<'_>], path: &Path) -> TrainResult<()> {
    let fail = |msg: String| TrainError::Checkpoint {
        path: path.display().to_string(),
        msg,
    };
    for (i, g) in groups.iter().enumerate() {
        let valid = !g.name.is_empty()
            && g.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(fail(format!(
                "group name `{}`: expected letters, digits, `_` or `-` (it names a folder)",
                g.name
            )));
        }
        if groups[..i].iter().any(|h| h.name == g.name) {
            return Err(fail(format!(
                "two groups are named `{}`; expected a distinct name for each",
                g.name
            )));
        }
    }
    Ok(())
}

//! `dlkit gradcheck CONFIG`: the course's gradient check of a config's model (see
//! [`dlkit_train::gradcheck`] for the method and the sampling of large models).

use std::path::PathBuf;

use dlkit_core::gradcheck::{EPSILON, THRESHOLD};
use dlkit_train::{Gradcheck, GradcheckOptions, LoadedConfig};

use crate::error::CliResult;

pub struct GradcheckArgs {
    pub config: PathBuf,
    pub examples: usize,
    pub max_params: usize,
    pub seed: u64,
}

pub fn gradcheck(args: &GradcheckArgs) -> CliResult<()> {
    let options = GradcheckOptions {
        examples: args.examples,
        max_params: args.max_params,
        seed: args.seed,
    };
    let check = Gradcheck::new(LoadedConfig::from_file(&args.config)?, options)?;
    println!("config: {}", check.config_name);
    println!(
        "model in f64 on {} training examples, loss {}{}: {} parameters in {} tensors",
        check.examples,
        check.loss.name(),
        check.regularizer.map_or(String::new(), |r| format!(
            " + {:?} penalty (lambda {})",
            r.norm, r.lambda
        )),
        check.parameters,
        check.tensors()
    );
    if check.subset {
        println!(
            "checking a random subset of {} parameters (more than --max-params {}; seed {}; \
             see `dlkit gradcheck --help`)",
            check.checked, args.max_params, args.seed
        );
    } else {
        println!("checking all {} parameters", check.checked);
    }
    let report = check.run()?;
    println!(
        "{:<24}{:>10}{:>10}{:>16}",
        "parameter", "size", "checked", "relative diff"
    );
    for t in &report.tensors {
        println!(
            "{:<24}{:>10}{:>10}{:>16.3e}",
            t.name, t.size, t.checked, t.relative_difference
        );
    }
    println!(
        "relative difference {:.3e} (epsilon {EPSILON:e}, threshold {THRESHOLD:e}): {}",
        report.relative_difference,
        if report.passes { "PASS" } else { "FAIL" }
    );
    Ok(report.check()?)
}

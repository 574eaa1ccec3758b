//! Run study (a), `examples/studies/moons.toml`, in-process with two workers (12 of its 30
//! trials), print each trial as it ends, and write the report and best.toml: what `dlkit tune`
//! does, through the library.
//!
//! Run: `cargo run --release -p dlkit-tune --example moons_study`; `cargo test` runs it too and
//! asserts the figures.

use std::path::{Path, PathBuf};

use dlkit_tune::report::{best, describe_params, write_report};
use dlkit_tune::run::{open_study, run_workers, Event, TuneOptions};
use dlkit_tune::Study;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Returns the best trial's dev accuracy and the path of the report.
fn tune(out: &Path) -> Result<(f64, PathBuf)> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let study = Study::from_file(&repo.join("examples/studies/moons.toml"))?;
    let opts = TuneOptions {
        workers: 2,
        threads: Some(1),
        trials: Some(12),
        ..TuneOptions::new(out.to_path_buf())
    };
    let opened = open_study(&study, &opts)?;
    let print = |e: &Event| {
        if let Event::Finished { trial, end } = e {
            let params = describe_params(&study.tune.params, &trial.params);
            println!(
                "trial {:>2} {:?} {:?}: {params}",
                trial.number, end.state, end.value
            );
        }
    };
    let trials = run_workers(&study, &opened, &opts, &print)?;
    let files = write_report(&study, opened.storage.url(), &trials, out)?;
    let top = best(&study, &trials).ok_or("no trial completed")?;
    Ok((top.value.ok_or("the best trial has a value")?, files.report))
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (dev, report) = tune(dir.path())?;
    println!("best dev accuracy {dev:.4}; report {}", report.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn twelve_trials_beat_the_untuned_configs_dev_accuracy() {
        let dir = tempfile::tempdir().unwrap();
        let (dev, report) = super::tune(dir.path()).unwrap();
        // The untuned config (examples/moons_untuned.toml) reaches 0.765 on dev.
        assert!(dev > 0.9, "best dev accuracy {dev}");
        assert!(report.exists() && dir.path().join("best.toml").exists());
    }
}

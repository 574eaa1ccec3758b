//! `dlkit bench [WORKLOAD...]`: the workloads of BENCHMARKS.md from the `dlkit-benches`
//! library, timed as `cargo bench -p dlkit-benches` times them.

use std::time::Duration;

use dlkit_benches::{find, format_table, registry, run_workload, Settings};

use crate::error::{CliError, CliResult};

pub struct BenchArgs {
    pub workloads: Vec<String>,
    pub threads: Option<Vec<usize>>,
    pub reps: Option<usize>,
    pub min_time_ms: Option<u64>,
    pub json: bool,
}

pub fn bench(args: &BenchArgs) -> CliResult<()> {
    let mut workloads = Vec::new();
    for key in &args.workloads {
        workloads.push(find(key).ok_or_else(|| {
            let known: Vec<String> = registry()
                .iter()
                .map(|w| format!("{} ({})", w.id, w.name))
                .collect();
            CliError::input(format!(
                "unknown workload {key:?}; expected one of {}",
                known.join(", ")
            ))
        })?);
    }
    if workloads.is_empty() {
        workloads = registry();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = args.threads.clone().unwrap_or_else(|| vec![1, cores]);
    threads.dedup();
    if threads.contains(&0) {
        return Err(CliError::input(
            "--threads: thread counts must be at least 1",
        ));
    }
    let mut settings = Settings::default();
    if let Some(r) = args.reps {
        settings.reps = r;
    }
    if let Some(ms) = args.min_time_ms {
        settings.min_rep_time = Duration::from_millis(ms);
    }
    for w in &workloads {
        let mut all = Vec::new();
        for &t in &threads {
            let ms = run_workload(w, t, &settings)
                .map_err(|e| CliError::runtime(format!("workload {}: {e}", w.id)))?;
            if args.json {
                for m in &ms {
                    println!("{}", m.to_json_line());
                }
            }
            all.extend(ms);
        }
        if !args.json {
            println!(
                "{} {}: median of {} reps, warm-up excluded, {} cores available",
                w.id,
                w.name,
                settings.reps.max(5),
                cores
            );
            println!("{}", format_table(&all));
        }
    }
    Ok(())
}

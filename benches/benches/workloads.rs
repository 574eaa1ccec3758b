//! Runs the workloads of `BENCHMARKS.md` with 1 thread and with all cores, and prints a table.
//!
//! ```text
//! cargo bench -p dlkit-benches                          # every workload, table
//! cargo bench -p dlkit-benches -- W6 --json             # W6 only, one JSON object per line
//! cargo bench -p dlkit-benches -- --threads 1,2 --reps 7 --min-time-ms 300
//! cargo bench -p dlkit-benches -- W1 W2 W3 --full      # whole schedules, not a fraction
//! ```

use dlkit_benches::{find, format_table, registry, run_workload, BenchError, Settings};
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), BenchError> {
    let mut settings = Settings::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1, cores];
    let mut json = false;
    let mut workloads = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bench" => {} // passed by `cargo bench`
            "--json" => json = true,
            "--full" => settings.full = true,
            "--reps" => settings.reps = value("--reps")?.parse()?,
            "--min-time-ms" => {
                settings.min_rep_time = Duration::from_millis(value("--min-time-ms")?.parse()?)
            }
            "--threads" => {
                threads = value("--threads")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            key if !key.starts_with('-') => {
                workloads.push(find(key).ok_or_else(|| format!("unknown workload {key:?}"))?)
            }
            other => return Err(format!("unknown option {other:?}").into()),
        }
    }
    if workloads.is_empty() {
        workloads = registry();
    }
    threads.dedup();
    if json {
        println!(
            "{{\"source\":\"dlkit\",\"kind\":\"info\",\"cores\":{cores},\"avx512f\":{}}}",
            avx512f()
        );
    }

    for w in &workloads {
        let mut all = Vec::new();
        for &t in &threads {
            let ms = run_workload(w, t, &settings)?;
            if json {
                for m in &ms {
                    println!("{}", m.to_json_line());
                }
            }
            all.extend(ms);
        }
        if !json {
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

/// Whether the CPU has AVX-512F (the gemm crate's `x86-v4` kernels need it).
fn avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

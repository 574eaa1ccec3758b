//! `dlkit`: train, evaluate, predict, diagnose, summarise, error-analyse, gradient-check and
//! benchmark models from TOML configs. Every error is printed as `error: <message>`; the exit
//! code is 2 for bad input (a config, a data or model file, arguments) and 1 for a failure
//! while running.

mod analyze;
mod bench;
mod error;
mod gradcheck;
mod inspect;
mod train;
mod tune;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use dlkit_train::error_analysis::ErrorSet;

use crate::error::CliResult;

/// mimalloc keeps freed blocks for reuse: a training step frees and allocates buffers of the
/// same megabyte sizes over and over, which the system allocator returns to the kernel and
/// faults in again (a third of the time went to the kernel on the SIGNS example).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "dlkit",
    version,
    about = "Train, evaluate and diagnose deep-learning models from TOML configs",
    long_about = "Train, evaluate and diagnose deep-learning models from TOML configs.\n\n\
                  `dlkit train` with no config trains the course's 4-layer cat classifier \
                  (examples/cat_4layer.toml) on data/catvnoncat."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train the model a config describes; write a run folder (model, metrics, plots, report).
    Train {
        /// The TOML config (default: the built-in examples/cat_4layer.toml; with --resume,
        /// the run folder's config.toml).
        config: Option<PathBuf>,
        /// The run folder (default: a new runs/<UTC time>).
        #[arg(long, value_name = "DIR")]
        run_dir: Option<PathBuf>,
        /// Continue from the checkpoint in --run-dir (written with [train] checkpoint_every).
        #[arg(long, requires = "run_dir")]
        resume: bool,
        /// Print only the results, no progress.
        #[arg(long, short)]
        quiet: bool,
        /// Replace the config's [model] seed and [train] seed (initial weights, mini-batch
        /// order, dropout masks) with this one; the data and its split stay as configured.
        #[arg(long, conflicts_with = "resume")]
        seed: Option<u64>,
    },
    /// Evaluate a saved model on a labelled data file: accuracy, precision/recall/F1,
    /// confusion matrix.
    Eval {
        /// A run folder, a model folder or a model.json.
        model: PathBuf,
        /// The data: .h5, .csv, .npz, .mat, an IDX image file, or a folder of images.
        data: PathBuf,
        /// A config whose [data] section says how to read DATA (format, dataset names).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the predicted class and its probability for each example of an input file.
    Predict {
        /// A run folder, a model folder or a model.json.
        model: PathBuf,
        /// An image (.jpg, .png), a folder of images, .h5, .npy, .npz, .csv, .mat or IDX.
        input: PathBuf,
        /// The dataset (h5), array (npz) or variable (mat) holding the inputs.
        #[arg(long, value_name = "NAME")]
        x: Option<String>,
    },
    /// Print the bias/variance diagnosis of a run folder again.
    Diagnose {
        /// A run folder written by `dlkit train` (or its diagnosis.json).
        run: PathBuf,
    },
    /// Print a model's layers: name, output shape, parameters and forward FLOPs per example,
    /// with the totals (trainable and frozen parameters, batch-norm buffers).
    ///
    /// FLOPs count 2 per multiply-add of the forward pass (the rules are printed below the
    /// table).
    Summary {
        /// A TOML config (the input shape comes from its data), a run folder, a model folder or
        /// a model.json.
        config_or_model: PathBuf,
    },
    /// Error analysis of a run: the most confidently misclassified examples of its dev set
    /// (else its test set) drawn in errors.png, the most frequent confusions, and a section
    /// of report.md linking them.
    Errors {
        /// A run folder written by `dlkit train`.
        run: PathBuf,
        /// How many misclassified examples to draw.
        #[arg(long, default_value_t = 16)]
        n: usize,
        /// The set to analyse (default: dev if the run has one, else test).
        #[arg(long, value_enum)]
        set: Option<SetArg>,
    },
    /// Gradient-check the config's model in f64 on a few examples (PASS below 1e-7).
    ///
    /// Models with more than --max-params parameters are checked on a random subset: the
    /// budget is shared evenly among the parameter tensors (small tensors are checked
    /// whole), entries are drawn uniformly without replacement (seeded by --seed), and the
    /// relative difference is taken over those entries.
    Gradcheck {
        config: PathBuf,
        /// Training examples to evaluate the cost on.
        #[arg(long, default_value_t = 8)]
        examples: usize,
        /// Check every parameter up to this many; a random subset of this size above it
        /// (0: always all).
        #[arg(long, default_value_t = 2000)]
        max_params: usize,
        /// Seeds the choice of the subset.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Search hyperparameters: train the trials of the [tune] table of a config (or of a
    /// study file naming its base config), print each as it ends, and write the best
    /// trial's config (best.toml), the report and its plots.
    ///
    /// Studies live in a storage shared by workers: SQLite by default
    /// (<out>/study.db), or PostgreSQL for workers on several machines. Other `dlkit tune`
    /// processes join a running study with --resume and the same --storage.
    Tune {
        /// A config with a [tune] table, or a study file whose [tune] config names one.
        study: PathBuf,
        /// The folder of the trials' run folders, the report and best.toml (default:
        /// tunes/<study name>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// `sqlite:PATH` or a path (default: <out>/study.db), or
        /// `postgresql://USER@HOST:PORT/DATABASE`.
        #[arg(long, value_name = "URL")]
        storage: Option<String>,
        /// The study's name in the storage (default: the study file's name).
        #[arg(long, value_name = "NAME")]
        study_name: Option<String>,
        /// Trials trained at once by this process.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Threads of each trial (default: the cores divided among the workers).
        #[arg(long)]
        threads: Option<usize>,
        /// Replace [tune] trials.
        #[arg(long)]
        trials: Option<u64>,
        /// Replace [tune] seed (the sampler's draws).
        #[arg(long)]
        seed: Option<u64>,
        /// Replace [tune] sampler by this one with its default options: random, grid,
        /// coarse_to_fine or tpe.
        #[arg(long, value_name = "NAME")]
        sampler: Option<String>,
        /// Continue the study if it exists in the storage (or join its running workers).
        #[arg(long)]
        resume: bool,
        /// Seconds without a heartbeat after which a running trial is failed and its
        /// parameters queued again.
        #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
        heartbeat_timeout: f64,
        /// Print only the best trial and the report's path.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run the benchmark workloads of BENCHMARKS.md (W1, W2, W3, W6, ...; all by default).
    Bench {
        /// Workload ids or names (W6 or sgemm).
        workloads: Vec<String>,
        /// Thread counts, comma separated (default: 1 and all cores).
        #[arg(long, value_delimiter = ',')]
        threads: Option<Vec<usize>>,
        /// Timed repetitions per case (at least 5).
        #[arg(long)]
        reps: Option<usize>,
        /// Shortest time of one repetition, in milliseconds.
        #[arg(long)]
        min_time_ms: Option<u64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

/// The sets `dlkit errors` analyses.
#[derive(Clone, Copy, ValueEnum)]
enum SetArg {
    Dev,
    Test,
}

impl From<SetArg> for ErrorSet {
    fn from(s: SetArg) -> ErrorSet {
        match s {
            SetArg::Dev => ErrorSet::Dev,
            SetArg::Test => ErrorSet::Test,
        }
    }
}

fn run(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Train {
            config,
            run_dir,
            resume,
            quiet,
            seed,
        } => train::train(&train::TrainArgs {
            config,
            run_dir,
            resume,
            quiet,
            seed,
        }),
        Command::Eval {
            model,
            data,
            config,
        } => inspect::eval(&model, &data, config.as_deref()),
        Command::Predict { model, input, x } => inspect::predict(&model, &input, x.as_deref()),
        Command::Diagnose { run } => inspect::diagnose(&run),
        Command::Summary { config_or_model } => analyze::summary(&config_or_model),
        Command::Errors { run, n, set } => analyze::errors(&run, n, set.map(Into::into)),
        Command::Gradcheck {
            config,
            examples,
            max_params,
            seed,
        } => gradcheck::gradcheck(&gradcheck::GradcheckArgs {
            config,
            examples,
            max_params,
            seed,
        }),
        Command::Tune {
            study,
            out,
            storage,
            study_name,
            workers,
            threads,
            trials,
            seed,
            sampler,
            resume,
            heartbeat_timeout,
            quiet,
        } => tune::tune(&tune::TuneArgs {
            study,
            out,
            storage,
            name: study_name,
            workers,
            threads,
            trials,
            seed,
            sampler,
            resume,
            heartbeat_timeout,
            quiet,
        }),
        Command::Bench {
            workloads,
            threads,
            reps,
            min_time_ms,
            json,
        } => bench::bench(&bench::BenchArgs {
            workloads,
            threads,
            reps,
            min_time_ms,
            json,
        }),
    }
}

fn main() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

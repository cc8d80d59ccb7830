//! The command-line grammar.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Train character-level transformers on the names corpus with any mix of objectives.
#[derive(Debug, Parser)]
#[command(name = "xp", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// An experiment file and overrides of its fields.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment (TOML), e.g. experiments/four_losses.toml.
    pub experiment: PathBuf,
    /// Overrides of its fields.
    #[command(flatten)]
    pub set: Overrides,
}

/// Where a sweep's runs or a tune's trials train, and Slurm's options.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// Here (`local`), or as Slurm job arrays (`slurm`, sbatch --array).
    #[arg(long, value_enum, default_value = "local")]
    pub backend: crate::sweep::Backend,
    /// Slurm partition (--backend slurm).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm time limit of each task, e.g. 1:00:00 (--backend slurm).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs of each Slurm task (default: the runs' train.threads, at least 1).
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
}

impl BackendArgs {
    /// `sbatch`'s options.
    pub fn slurm(&self) -> xp_study::slurm::SlurmOptions {
        xp_study::slurm::SlurmOptions {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
        }
    }
}

/// Overrides of an experiment's fields.
#[derive(Debug, Clone, Args)]
pub struct Overrides {
    /// Override a field: --set train.steps=500 --set objectives.MLM.mask_prob=0.2
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Train on this device (cpu, cuda, cuda:N); same as --set train.device=...
    #[arg(long)]
    pub device: Option<String>,
}

impl Overrides {
    /// The overrides, `--device` included.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.overrides.clone();
        if let Some(device) = &self.device {
            all.push(format!("train.device=\"{device}\""));
        }
        all
    }
}

impl ExperimentArgs {
    /// The overrides, `--device` included.
    pub fn all_overrides(&self) -> Vec<String> {
        self.set.all()
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train from an experiment; writes metrics, figures, the best checkpoint and
    /// resume points. Ctrl-C (or SIGTERM) stops at the next step with a resume point.
    Run {
        /// The experiment (TOML), e.g. experiments/four_losses.toml.
        #[arg(required_unless_present = "resume", conflicts_with = "resume")]
        experiment: Option<PathBuf>,
        /// Overrides of its fields.
        #[command(flatten)]
        set: Overrides,
        /// Run directory (default: runs/NAME, or runs/NAME-2.. if taken).
        #[arg(long, short, conflicts_with = "resume")]
        out: Option<PathBuf>,
        /// Continue the run in RUN_DIR from its last resume point, with the experiment
        /// it was started with (`--set train.steps=N` extends a finished run).
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
        /// Plain progress lines instead of a progress bar.
        #[arg(long)]
        plain: bool,
        /// Pause at step STEP of the run: write a resume point there and end (exit 0);
        /// `--resume` continues with exactly the numbers of a run never paused.
        #[arg(long, value_name = "STEP")]
        pause_at: Option<usize>,
    },
    /// Run every point of a sweep (a base experiment and axes of values), each seed,
    /// here (`--jobs` at a time) or as one Slurm job array; started again, it skips
    /// finished runs and resumes the rest. `--status DIR` says where each run stands.
    Sweep {
        /// The sweep (TOML), e.g. experiments/reference_study.toml.
        #[arg(required_unless_present = "status")]
        sweep: Option<PathBuf>,
        /// Where each run of the sweep in DIR stands (done, running, queued, failed,
        /// stopped, pending), from its folder and Slurm's queue; runs nothing.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["dry_run", "overrides", "device", "only"])]
        status: Option<PathBuf>,
        /// Fields of every run (`--set`), and the device they train on (`--device`;
        /// with `--jobs N`, N runs share one GPU).
        #[command(flatten)]
        set: Overrides,
        /// Print the runs and the estimated cost; run nothing.
        #[arg(long)]
        dry_run: bool,
        /// The sweep's folder (default: runs/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once (default: cores / train.threads here; on Slurm, no limit of
        /// ours: the array's tasks run as the cluster allows).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only this point (repeat for more); its folder name, as --dry-run lists.
        #[arg(long, value_name = "POINT")]
        only: Vec<String>,
        /// Where the runs train: here, or as one Slurm job array (sbatch --array).
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Search a space of experiments for the best model: trials sampled (random, then
    /// TPE), each paused at rungs of steps, the best third promoted (asynchronous
    /// successive halving), here or as Slurm job arrays; then the best few retrained
    /// with fresh seeds. Started again, it continues where it stopped.
    Tune {
        /// The tune (TOML), e.g. experiments/tune_cls.toml.
        #[arg(required_unless_present = "status")]
        tune: Option<PathBuf>,
        /// Where the search in DIR stands: each trial's rung, state and score, the best.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["overrides", "device", "budget", "dry_run"])]
        status: Option<PathBuf>,
        /// Fields of every trial (`--set`), and the device they train on (`--device`;
        /// with `--jobs N`, N trials share one GPU).
        #[command(flatten)]
        set: Overrides,
        /// The tune's folder (default: runs/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Trials trained at once (a wave); default: cores / train.threads.
        #[arg(long)]
        jobs: Option<usize>,
        /// Training steps in all (default: the file's `budget`).
        #[arg(long)]
        budget: Option<usize>,
        /// Print the plan (rungs, budget, about how many trials) and the first
        /// trial's experiment; run nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where the trials train: here, or a Slurm job array per wave.
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// What a Slurm task of `xp sweep --backend slurm` runs: the run on line INDEX of
    /// TASKS, started or resumed.
    #[command(hide = true)]
    SweepTask {
        /// The submission's task list.
        tasks: PathBuf,
        /// The array task's index ($SLURM_ARRAY_TASK_ID).
        index: usize,
    },
    /// Compare finished runs (seeds of one point pooled): test loss and accuracy per
    /// objective as mean, sd and 95% confidence interval, steps to best, wall time.
    Compare {
        /// Run folders or sweep folders (runs/SWEEP holds POINT/seed-N runs).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// A Markdown table.
        #[arg(long, conflicts_with_all = ["csv", "json"])]
        markdown: bool,
        /// Long-form CSV rows: point, seed, split, objective, metric, value.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// The long-form rows as JSON.
        #[arg(long)]
        json: bool,
        /// Also compare every other point with this one, on their common seeds:
        /// difference in CLS test accuracy with a bootstrap interval, McNemar's test.
        #[arg(long, value_name = "POINT")]
        against: Option<String>,
    },
    /// Check that every parameter gets a gradient from each objective.
    Check {
        /// The experiment.
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
    /// Train the first steps on the CPU and on a GPU (dropout off) and compare losses.
    Parity {
        /// The experiment; `--device` is the device compared with the CPU (default cuda).
        #[command(flatten)]
        experiment: ExperimentArgs,
        /// Steps to compare.
        #[arg(long, default_value_t = 50)]
        steps: usize,
        /// Largest relative difference allowed between two losses.
        #[arg(long, default_value_t = 1e-3)]
        tolerance: f64,
        /// Also write every step's losses on both devices as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// List the registered objectives, their fields and defaults.
    Objectives,
    /// Report what a run will see of its data before it trains: per file and class what
    /// is kept and what is dropped and why, the alphabet, the lengths, the split; or
    /// write the built-in corpus out.
    Data {
        /// The experiment whose data to report (default: the corpus built into xp, or
        /// the folder $XP_DATA_DIR names).
        experiment: Option<PathBuf>,
        /// Override a field: --set data.path=words.csv --set data.normalize=nfc
        #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "write")]
        set: Vec<String>,
        /// The whole report as JSON (the run folder's data.json).
        #[arg(long, conflicts_with = "write")]
        json: bool,
        /// A folder of class files; same as --set data.dir=DIR.
        #[arg(long, conflicts_with = "write")]
        dir: Option<PathBuf>,
        /// Write the 18 files of the built-in corpus into this folder.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Write a trained run (encoder and every head) as one ONNX model.
    Export {
        /// Write ONNX (the format xp exports).
        #[arg(long)]
        onnx: bool,
        /// The run directory, e.g. runs/four_losses.
        run: PathBuf,
        /// Output file (default: exported/NAME.onnx).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Then compare ONNX Runtime with candle on the run's test split, objective by
        /// objective; fail when they differ.
        #[arg(long)]
        check: bool,
        /// Fail, writing nothing, when an objective has no ONNX export.
        #[arg(long)]
        strict: bool,
        /// Also export each encoder pass's attention weights, (layers, batch, heads,
        /// seq, seq): outputs attention, attention_causal, attention_pairs.
        #[arg(long)]
        attention: bool,
    },
    /// Draw a finished run's figures again (metrics, total loss, confusion matrices)
    /// from its files; for a tune's folder, the search's figures.
    Figures {
        /// The run directory, e.g. runs/four_losses (or a tune's, runs/tune_cls).
        run: PathBuf,
        /// Label the confusion cells with counts of names instead of the row's percent.
        #[arg(long)]
        counts: bool,
    },
    /// Draw every layer's and head's attention map for names: one PNG per name, with
    /// the predicted language in its title.
    Attention {
        /// A run folder (exported in memory) or a model exported with --attention.
        model: PathBuf,
        /// Names to draw; pair objectives read `A|B` (or the name cut in half).
        #[arg(required = true)]
        names: Vec<String>,
        /// Whose encoder pass to read: cls, mlm (bidirectional), la (causal), nsp or
        /// sop (pairs).
        #[arg(long, default_value = "cls")]
        objective: String,
        /// Folder of the figures (default: RUN/attention, or ./attention for a model).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Serve a model over HTTP: a JSON API (classify, fill, generate, attention) and a
    /// page at /, on ONNX Runtime. SIGINT or SIGTERM finishes the requests in flight
    /// and exits.
    Serve {
        /// An exported model (.onnx), or a run folder (exported in memory, with
        /// attention maps).
        #[arg(long, short)]
        model: PathBuf,
        /// Address to listen on (port 0: a free port, printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// ONNX Runtime sessions shared by the requests (default: the cores).
        #[arg(long)]
        sessions: Option<usize>,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 64 * 1024)]
        max_body: usize,
        /// Most names in one classify request.
        #[arg(long, default_value_t = 256)]
        max_names: usize,
        /// Most names in one generate request.
        #[arg(long, default_value_t = 64)]
        max_generate: usize,
        /// How long a classify batch waits for more requests, in milliseconds (0:
        /// no batching across requests).
        #[arg(long, default_value_t = 2)]
        batch_window_ms: u64,
    },
    /// Predict with an exported ONNX model through ONNX Runtime.
    Predict(PredictArgs),
    /// Evaluate a run's checkpoint again, over one or more draws of the objectives'
    /// random transforms (masking, cuts, swaps): mean, spread and range per objective.
    Eval {
        /// The run directory, e.g. runs/four_losses.
        run: PathBuf,
        /// Splits to evaluate.
        #[arg(long, value_delimiter = ',', default_value = "test")]
        splits: Vec<String>,
        /// Draws of the transforms (the first is the one the run reported).
        #[arg(long, default_value_t = 1)]
        draws: usize,
    },
    /// Measure speed; prints a table, optionally writes it as JSON.
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: BenchKind,
        /// Also write the table as JSON here.
        #[arg(long, global = true)]
        json: Option<PathBuf>,
    },
}

/// What `xp bench` measures.
#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// Training: milliseconds per step (forward, backward, update) and per batch of
    /// each objective's transform, for each experiment and batch size.
    Train {
        /// Experiments to time.
        #[arg(default_values = ["experiments/cls_only.toml", "experiments/four_losses.toml"])]
        experiments: Vec<PathBuf>,
        /// Batch sizes to time.
        #[arg(long, value_delimiter = ',', default_value = "32,256")]
        batch_sizes: Vec<usize>,
        /// Steps per timed run.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Timed runs (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Override experiment fields, as in `xp run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// CLS inference: names/s in batches and single-name latency, ONNX Runtime against
    /// candle in-process, on the corpus's names.
    Serve {
        /// The exported model.
        #[arg(long, short)]
        model: PathBuf,
        /// The run it was exported from (for candle).
        #[arg(long)]
        run: PathBuf,
        /// Names per batch.
        #[arg(long, default_value_t = 256)]
        batch_size: usize,
        /// Timed passes over the corpus (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

/// `xp predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The exported model.
    #[arg(long, short)]
    pub model: PathBuf,
    /// Names to classify, or inputs with [MASK]s to fill (default: standard input,
    /// one per line).
    pub names: Vec<String>,
    /// The objective to serve: a class objective (default: the first, e.g. cls),
    /// mlm to fill [MASK]s, la to sample names.
    #[arg(long)]
    pub objective: Option<String>,
    /// How many classes or characters to show.
    #[arg(long, short = 'k', default_value_t = 3)]
    pub top_k: usize,
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Names per ONNX Runtime call.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Sampling (la): how many names.
    #[arg(long, default_value_t = 10)]
    pub count: usize,
    /// Sampling (la): softmax temperature.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f32,
    /// Sampling (la): random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling (la): the start of every name.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Sampling (la): the length of every name (default: random within the corpus's).
    #[arg(long)]
    pub length: Option<usize>,
}

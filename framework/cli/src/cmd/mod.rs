//! One file per command. Each defines its arguments (`Args`) and `run(args)`, which
//! resolves them (the experiment read, its data stated: [`crate::resolve`]), calls
//! the library and prints. A command imports no other command.
//!
//! Adding a command is a file here and a line in [`commands!`] below.

/// Declares each command's module and the [`Command`] enum of their arguments, and
/// dispatches each to its module's `run`.
macro_rules! commands {
    ($($(#[$attr:meta])* $variant:ident($module:ident),)*) => {
        $(pub mod $module;)*

        /// The commands.
        #[derive(Debug, clap::Subcommand)]
        pub enum Command {
            $($(#[$attr])* $variant($module::Args),)*
        }

        impl Command {
            /// Runs the command.
            pub fn run(self) -> anyhow::Result<()> {
                match self {
                    $(Command::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

commands! {
    /// Train from an experiment; writes metrics, figures, the best checkpoint and
    /// resume points. Ctrl-C (or SIGTERM) stops at the next step with a resume point.
    Run(run),
    /// Run every point of a sweep (a base experiment and axes of values), each seed,
    /// here (`--jobs` at a time) or as one Slurm job array; started again, it skips
    /// finished runs and resumes the rest. `--status DIR` says where each run stands.
    Sweep(sweep),
    /// Search a space of experiments for the best model: trials sampled (random, then
    /// TPE), each paused at rungs of steps, the best third promoted (asynchronous
    /// successive halving), here or as Slurm job arrays; then the best few retrained
    /// with fresh seeds. Started again, it continues where it stopped.
    Tune(tune),
    /// What a Slurm task of `xp sweep --backend slurm` runs: the run on line INDEX of
    /// TASKS, started or resumed.
    #[command(hide = true)]
    SweepTask(sweep_task),
    /// Compare finished runs (seeds of one point pooled): test loss and accuracy per
    /// objective as mean, sd and 95% confidence interval, steps to best, wall time.
    Compare(compare),
    /// Mix finished runs of one data and seed into one classifier: class probabilities
    /// averaged with weights fitted on the validation split alone, evaluated on test;
    /// a folder that `xp compare` and `xp export` read as a run's.
    Ensemble(ensemble),
    /// Check that every parameter gets a gradient from each objective.
    Check(check),
    /// Train the first steps on the CPU and on a GPU (dropout off) and compare losses.
    Parity(parity),
    /// List the registered objectives, their fields and defaults.
    Objectives(objectives),
    /// Report what a run will see of its data before it trains: per file and class what
    /// is kept and what is dropped and why, the alphabet, the lengths, the split; or
    /// write the built-in corpus out.
    Data(data),
    /// Write a trained run (encoder and every head) as one ONNX model.
    Export(export),
    /// Draw a finished run's figures again (metrics, total loss, confusion matrices)
    /// from its files; for a tune's folder, the search's figures.
    Figures(figures),
    /// Draw every layer's and head's attention map for names: one PNG per name, with
    /// the predicted language in its title.
    Attention(attention),
    /// Serve a model over HTTP: a JSON API (classify, fill, generate, attention) and a
    /// page at /, on ONNX Runtime. SIGINT or SIGTERM finishes the requests in flight
    /// and exits.
    Serve(serve),
    /// Predict with an exported ONNX model through ONNX Runtime.
    Predict(predict),
    /// Evaluate a run's checkpoint again, over one or more draws of the objectives'
    /// random transforms (masking, cuts, swaps): mean, spread and range per objective.
    Eval(eval),
    /// Measure speed; prints a table, optionally writes it as JSON.
    Bench(bench),
}

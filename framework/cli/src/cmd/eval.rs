//! `xp eval`: a run's checkpoint evaluated again, over one or more draws of the
//! objectives' random transforms. MLM's masking (and, with it, the 15% of batches
//! shown unmasked or with random characters), NSP's cuts and swaps and LA's nothing:
//! a single evaluation is one draw, and the spread over draws says how much of a
//! difference between two runs is the draw rather than the model.

use crate::resolve::{set_threads, with_corpus};
use anyhow::{bail, Result};
use std::path::PathBuf;
use xp_framework::train::{evaluate, Session};

/// `xp eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory, e.g. runs/four_losses.
    run: PathBuf,
    /// Splits to evaluate.
    #[arg(long, value_delimiter = ',', default_value = "test")]
    splits: Vec<String>,
    /// Draws of the transforms (the first is the one the run reported).
    #[arg(long, default_value_t = 1)]
    draws: usize,
}

/// Mean and standard deviation of `values`.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let (mean, sd, _) = xp_study::compare::mean_sd_ci(values);
    (mean, sd)
}

/// Runs `xp eval`: the run evaluated on its splits, `draws` times (draw 0 is the
/// run's own).
pub fn run(args: Args) -> Result<()> {
    let (run, splits, draws) = (args.run.as_path(), &args.splits, args.draws);
    if draws == 0 {
        bail!("--draws must be at least 1");
    }
    let device = candle_core::Device::Cpu;
    let (experiment, info, model) = xp_framework::run::load(run, &device)?;
    set_threads(experiment.train.threads);
    let seed = experiment.seed;
    let batch_size = experiment.train.eval_batch_size;
    let session = Session::open(with_corpus(experiment))?;
    if session.info.vocab != info.vocab || session.info.labels != info.labels {
        bail!(
            "the data at {} is not the data {} was trained on (other tokens or labels): point [data] at that data",
            session.report.source,
            run.display()
        );
    }
    for split in splits {
        let Some(indices) = session.sets.get(split) else {
            bail!("unknown split `{split}`: use train, valid or test")
        };
        let results = (0..draws as u64)
            .map(|k| {
                evaluate(
                    &model,
                    &session.dataset,
                    indices,
                    batch_size,
                    seed + k,
                    false,
                )
            })
            .collect::<xp_framework::error::Result<Vec<_>>>()?;
        println!(
            "{} on {split} ({} names), {draws} draw{} of the transforms:",
            run.display(),
            indices.len(),
            if draws == 1 { "" } else { "s" }
        );
        println!(
            "{:<10} {:>18} {:>18} {:>17}",
            "objective", "loss", "accuracy", "accuracy range"
        );
        for (o, (name, _)) in results[0].objectives.iter().enumerate() {
            let pick = |f: fn(&xp_framework::train::Metric) -> f64| -> Vec<f64> {
                results.iter().map(|r| f(&r.objectives[o].1)).collect()
            };
            let (loss, acc) = (pick(|m| m.loss), pick(|m| m.accuracy));
            let ((lm, ls), (am, asd)) = (mean_sd(&loss), mean_sd(&acc));
            let (lo, hi) = acc
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            println!("{name:<10} {lm:>9.4} ± {ls:<6.4} {am:>9.4} ± {asd:<6.4} {lo:>8.4}-{hi:.4}");
        }
        let totals: Vec<f64> = results.iter().map(|r| r.total).collect();
        let (tm, ts) = mean_sd(&totals);
        println!("{:<10} {tm:>9.4} ± {ts:<6.4}", "total");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mean_sd;

    #[test]
    fn mean_and_sample_standard_deviation() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[0.7]), (0.7, 0.0));
    }
}

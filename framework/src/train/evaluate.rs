//! Evaluation of a whole split: eval mode, fixed transform seed, so that two
//! evaluations of the same weights give the same numbers; batches run in parallel on
//! the thread pool.

use super::{SplitMetrics, Tally};
use crate::data::Dataset;
use crate::error::Result;
use crate::model::Model;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rayon::prelude::*;
use xp_models::Mode;

/// Loss and accuracy of every objective on the names at `indices`, in batches of
/// `batch_size`; keeps predictions of objectives with class names when `keep`.
pub fn evaluate(
    model: &Model,
    data: &Dataset,
    indices: &[usize],
    batch_size: usize,
    seed: u64,
    keep: bool,
) -> Result<SplitMetrics> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let keep_for: Vec<bool> = model
        .objectives
        .iter()
        .map(|a| keep && a.objective.class_names().is_some())
        .collect();
    // Transforms in order (one generator), then the batches on the thread pool.
    let prepared: Vec<_> = indices
        .chunks(batch_size)
        .map(|chunk| model.prepare(&data.batch(chunk), &mut rng))
        .collect();
    let per_batch = prepared
        .par_iter()
        .map(|p| {
            let outputs = model.forward(p, &Mode::eval())?;
            let mut tallies = vec![Tally::default(); outputs.len()];
            for ((tally, out), keep) in tallies.iter_mut().zip(&outputs).zip(&keep_for) {
                tally.add(out, *keep)?;
            }
            Ok(tallies)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut tallies = vec![Tally::default(); model.objectives.len()];
    for batch in per_batch {
        for (total, part) in tallies.iter_mut().zip(batch) {
            total.absorb(part);
        }
    }
    let names: Vec<String> = model.objectives.iter().map(|a| a.name.clone()).collect();
    let weights: Vec<f64> = model.objectives.iter().map(|a| a.settings.weight).collect();
    Ok(SplitMetrics::from_tallies(&names, &weights, tallies))
}

//! Evaluation of a whole split: eval mode, fixed transform seed, so that two
//! evaluations of the same weights give the same numbers.

use super::{SplitMetrics, Tally};
use crate::data::Dataset;
use crate::error::Result;
use crate::model::Model;
use rand::rngs::SmallRng;
use rand::SeedableRng;
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
    let mut tallies = vec![Tally::default(); model.objectives.len()];
    let keep_for: Vec<bool> = model
        .objectives
        .iter()
        .map(|a| keep && a.objective.class_names().is_some())
        .collect();
    let mode = Mode::eval();
    for chunk in indices.chunks(batch_size) {
        let batch = data.batch(chunk);
        let prepared = model.prepare(&batch, &mut rng);
        let outputs = model.forward(&prepared, &mode)?;
        for ((tally, out), keep) in tallies.iter_mut().zip(&outputs).zip(&keep_for) {
            tally.add(out, *keep)?;
        }
    }
    let names: Vec<String> = model.objectives.iter().map(|a| a.name.clone()).collect();
    let weights: Vec<f64> = model.objectives.iter().map(|a| a.settings.weight).collect();
    Ok(SplitMetrics::from_tallies(&names, &weights, tallies))
}

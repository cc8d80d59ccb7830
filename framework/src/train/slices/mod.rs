//! Data parallelism on the CPU: a batch is cut into `train.threads` slices of rows,
//! each slice runs forward and backward on its own thread, and their gradients are
//! summed. An objective's loss is a mean over its targets, so each slice's loss counts
//! with the slice's share of those targets: the summed gradient is the whole batch's.
//! Only the dropout draws (one seed per slice) and float rounding differ from one
//! pass over the whole batch.

use crate::model::ObjectiveOutput;
use crate::objective::Prepared;
use candle_core::backprop::GradStore;
use candle_core::{Device, Result, Tensor, Var};
use rayon::prelude::*;

/// A batch cut into slices of rows.
#[derive(Debug)]
pub struct Slices {
    /// Per slice, every objective's rows.
    pub parts: Vec<Vec<Prepared>>,
    /// Per slice, every objective's share of the batch's targets.
    pub shares: Vec<Vec<f64>>,
}

impl Slices {
    /// Cuts every objective's rows into `n` near-equal slices. One slice when `n` is 1,
    /// or when some slice would hold no target of some objective.
    pub fn new(prepared: &[Prepared], n: usize) -> Self {
        if n > 1 {
            if let Some(slices) = Self::cut(prepared, n) {
                return slices;
            }
        }
        Self {
            parts: vec![prepared.to_vec()],
            shares: vec![vec![1.0; prepared.len()]],
        }
    }

    fn cut(prepared: &[Prepared], n: usize) -> Option<Self> {
        let parts: Vec<Vec<Prepared>> = (0..n)
            .map(|i| {
                prepared
                    .iter()
                    .map(|p| p.slice_rows(p.rows() * i / n..p.rows() * (i + 1) / n))
                    .collect()
            })
            .collect();
        let shares = parts
            .iter()
            .map(|part| {
                part.iter()
                    .zip(prepared)
                    .map(|(slice, whole)| {
                        (!slice.targets.is_empty())
                            .then(|| slice.targets.len() as f64 / whole.targets.len() as f64)
                    })
                    .collect::<Option<Vec<f64>>>()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { parts, shares })
    }

    /// Number of slices.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// True when there is no slice (never: a batch is at least one slice).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// How many slices a step on `device` uses when `train.threads` is `threads`
/// (0: one per core). Other devices than the CPU take the batch whole.
pub fn slice_count(threads: usize, device: &Device) -> usize {
    if !device.is_cpu() {
        return 1;
    }
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// The gradients of every store added up, for each of `vars`.
pub fn sum_gradients(stores: Vec<GradStore>, vars: &[Var]) -> Result<GradStore> {
    let mut stores = stores.into_iter();
    let mut total = stores
        .next()
        .ok_or_else(|| candle_core::Error::Msg("no gradients to sum".into()))?;
    let rest: Vec<GradStore> = stores.collect();
    if rest.is_empty() {
        return Ok(total);
    }
    // Each parameter's sum on the pool (added in slice order), stored in order.
    let sums = vars
        .par_iter()
        .map(|var| {
            let mut sum = total.get(var.as_tensor()).cloned();
            for store in &rest {
                if let Some(grad) = store.get(var.as_tensor()) {
                    sum = Some(match sum {
                        Some(t) => (t + grad)?,
                        None => grad.clone(),
                    });
                }
            }
            Ok(sum)
        })
        .collect::<Result<Vec<Option<Tensor>>>>()?;
    for (var, sum) in vars.iter().zip(sums) {
        if let Some(sum) = sum {
            total.insert(var.as_tensor(), sum);
        }
    }
    Ok(total)
}

/// The slices' outputs as the whole batch's: each objective's losses weighted by the
/// slices' shares, logits and targets concatenated in slice order.
pub fn merge_outputs(
    mut outputs: Vec<Vec<ObjectiveOutput>>,
    shares: &[Vec<f64>],
) -> Result<Vec<ObjectiveOutput>> {
    if outputs.len() == 1 {
        return Ok(outputs.swap_remove(0));
    }
    let objectives = outputs.first().map_or(0, Vec::len);
    (0..objectives)
        .map(|o| {
            let mut loss: Option<Tensor> = None;
            for (slice, share) in outputs.iter().zip(shares) {
                let term = (slice[o].loss.detach() * share[o])?;
                loss = Some(match loss {
                    Some(l) => (l + term)?,
                    None => term,
                });
            }
            let cat = |pick: fn(&ObjectiveOutput) -> &Tensor| {
                let parts: Vec<&Tensor> = outputs.iter().map(|s| pick(&s[o])).collect();
                Tensor::cat(&parts, 0)
            };
            Ok(ObjectiveOutput {
                loss: loss.ok_or_else(|| candle_core::Error::Msg("no slice".into()))?,
                logits: cat(|out| &out.logits)?,
                targets: cat(|out| &out.targets)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;

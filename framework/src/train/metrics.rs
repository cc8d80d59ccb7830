//! Loss and accuracy per objective, accumulated over batches.

use crate::model::ObjectiveOutput;
use candle_core::{DType, Result, D};
use serde::Serialize;

/// A running sum of one objective's loss and accuracy, weighted by targets.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    loss_sum: f64,
    correct: f64,
    count: f64,
    /// `(predicted, true)` pairs, kept when asked for (confusion matrices).
    pub predictions: Vec<(u32, u32)>,
}

/// Mean loss and accuracy of one objective on one split.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Metric {
    /// Mean loss per target.
    pub loss: f64,
    /// Share of targets predicted right.
    pub accuracy: f64,
}

impl Tally {
    /// Adds a batch's output; keeps its predictions when `keep`.
    pub fn add(&mut self, out: &ObjectiveOutput, keep: bool) -> Result<()> {
        let loss = out.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let predicted = out.logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
        let targets = out.targets.to_vec1::<u32>()?;
        let n = targets.len() as f64;
        self.loss_sum += loss * n;
        self.count += n;
        self.correct += predicted
            .iter()
            .zip(&targets)
            .filter(|(p, t)| p == t)
            .count() as f64;
        if keep {
            self.predictions.extend(predicted.into_iter().zip(targets));
        }
        Ok(())
    }

    /// Adds another tally's sums (and predictions, after this one's).
    pub fn absorb(&mut self, other: Tally) {
        self.loss_sum += other.loss_sum;
        self.correct += other.correct;
        self.count += other.count;
        self.predictions.extend(other.predictions);
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0.0
    }

    /// The means so far.
    pub fn metric(&self) -> Metric {
        let n = self.count.max(1.0);
        Metric {
            loss: self.loss_sum / n,
            accuracy: self.correct / n,
        }
    }
}

/// Every objective's metric on one split, and the weighted total loss.
#[derive(Debug, Clone, Serialize)]
pub struct SplitMetrics {
    /// `(objective, metric)` in objective order.
    pub objectives: Vec<(String, Metric)>,
    /// `sum(weight * loss)`.
    pub total: f64,
    /// `(objective, (predicted, true) pairs)` for objectives with class names.
    #[serde(skip)]
    pub predictions: Vec<(String, Vec<(u32, u32)>)>,
}

impl SplitMetrics {
    /// From per-objective tallies and weights.
    pub fn from_tallies(names: &[String], weights: &[f64], tallies: Vec<Tally>) -> Self {
        let objectives: Vec<(String, Metric)> = names
            .iter()
            .cloned()
            .zip(tallies.iter().map(Tally::metric))
            .collect();
        let total = objectives
            .iter()
            .zip(weights)
            .map(|((_, m), w)| m.loss * w)
            .sum();
        let predictions = names
            .iter()
            .cloned()
            .zip(tallies)
            .filter(|(_, t)| !t.predictions.is_empty())
            .map(|(n, t)| (n, t.predictions))
            .collect();
        Self {
            objectives,
            total,
            predictions,
        }
    }
}

//! Loss and accuracy per objective, accumulated over batches.

use crate::error::XpError;
use crate::model::{Model, ObjectiveOutput};
use candle_core::{DType, Result, D};
use serde::{Deserialize, Serialize};

/// A running sum of one objective's loss and accuracy, weighted by targets.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    loss_sum: f64,
    correct: f64,
    count: f64,
    /// Each target's prediction, kept when asked for (reports, paired tests, ensembles).
    pub predictions: Predictions,
}

/// What a class objective predicted for each target of a split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    /// `(predicted, true)` per target.
    pub pairs: Vec<(u32, u32)>,
    /// The class probabilities (softmax of the logits), one row of `classes` per target.
    pub probabilities: Vec<Vec<f32>>,
}

impl Predictions {
    /// True when nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Adds `other`'s targets after these.
    pub fn extend(&mut self, other: Predictions) {
        self.pairs.extend(other.pairs);
        self.probabilities.extend(other.probabilities);
    }
}

/// Mean loss and accuracy of one objective on one split.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
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
            let logits = out.logits.to_dtype(DType::F32)?;
            self.predictions.extend(Predictions {
                probabilities: candle_nn::ops::softmax_last_dim(&logits)?.to_vec2::<f32>()?,
                pairs: predicted.into_iter().zip(targets).collect(),
            });
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

    /// `(loss sum, correct, count)`, weighted by targets: what a resume point keeps.
    pub fn sums(&self) -> [f64; 3] {
        [self.loss_sum, self.correct, self.count]
    }

    /// A tally holding `sums` (see [`Tally::sums`]).
    pub fn from_sums([loss_sum, correct, count]: [f64; 3]) -> Self {
        Self {
            loss_sum,
            correct,
            count,
            predictions: Predictions::default(),
        }
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// `(objective, metric)` in objective order; written as an object keyed by
    /// objective.
    #[serde(serialize_with = "as_object", deserialize_with = "from_object")]
    pub objectives: Vec<(String, Metric)>,
    /// `sum(weight * loss)`.
    pub total: f64,
    /// `(objective, its predictions)` for class objectives, where kept.
    #[serde(skip, default)]
    pub predictions: Vec<(String, Predictions)>,
}

/// Writes `(key, value)` pairs as an object, in their order.
pub fn as_object<S: serde::Serializer, T: Serialize>(
    pairs: &[(String, T)],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(pairs.len()))?;
    for (key, value) in pairs {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// Reads an object as `(key, value)` pairs, in the order written.
pub fn from_object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<(String, T)>, D::Error> {
    struct Pairs<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Pairs<T> {
        type Value = Vec<(String, T)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    deserializer.deserialize_map(Pairs(std::marker::PhantomData))
}

impl SplitMetrics {
    /// The figure `monitor` names, as a score where lower is better.
    pub fn score(&self, monitor: &crate::config::Monitor) -> f64 {
        let rows = self
            .objectives
            .iter()
            .map(|(n, m)| (n.as_str(), m.loss, m.accuracy));
        monitor.score(self.total, rows)
    }

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

/// The running train losses since the last evaluation.
#[derive(Debug, Clone)]
pub struct TrainWindow {
    names: Vec<String>,
    weights: Vec<f64>,
    tallies: Vec<Tally>,
}

impl TrainWindow {
    /// An empty window over `model`'s objectives.
    pub fn new(model: &Model) -> Self {
        let names = model.objectives.iter().map(|a| a.name.clone()).collect();
        let weights = model.objectives.iter().map(|a| a.settings.weight).collect();
        Self::with_objectives(names, weights)
    }

    /// An empty window over objectives `names` weighted by `weights`.
    pub fn with_objectives(names: Vec<String>, weights: Vec<f64>) -> Self {
        let tallies = vec![Tally::default(); names.len()];
        Self {
            names,
            weights,
            tallies,
        }
    }

    /// Adds a step's outputs, in objective order.
    pub fn add(&mut self, outputs: &[ObjectiveOutput]) -> Result<()> {
        for (tally, out) in self.tallies.iter_mut().zip(outputs) {
            tally.add(out, false)?;
        }
        Ok(())
    }

    /// Each objective's mean loss so far; an error when one is not finite after
    /// `step` steps.
    pub fn losses(&self, step: usize) -> std::result::Result<Vec<(String, f64)>, XpError> {
        let losses: Vec<(String, f64)> = self
            .names
            .iter()
            .cloned()
            .zip(self.tallies.iter().map(|t| t.metric().loss))
            .collect();
        if losses.iter().any(|(_, l)| !l.is_finite()) {
            return Err(XpError::Run(format!(
                "loss became {losses:?} at step {step}: lower train.lr or raise train.grad_clip"
            )));
        }
        Ok(losses)
    }

    /// Each objective's sums (see [`Tally::sums`]).
    pub fn sums(&self) -> Vec<[f64; 3]> {
        self.tallies.iter().map(Tally::sums).collect()
    }

    /// Puts back what [`TrainWindow::sums`] gave.
    pub fn restore(&mut self, sums: &[[f64; 3]]) {
        self.tallies = sums.iter().copied().map(Tally::from_sums).collect();
    }

    /// The window's metrics; the window starts again empty.
    pub fn take(&mut self) -> SplitMetrics {
        let empty = vec![Tally::default(); self.names.len()];
        let tallies = std::mem::replace(&mut self.tallies, empty);
        SplitMetrics::from_tallies(&self.names, &self.weights, tallies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn output(loss: f32, logits: &[[f32; 2]], targets: &[u32]) -> Result<ObjectiveOutput> {
        Ok(ObjectiveOutput {
            loss: Tensor::new(loss, &Device::Cpu)?,
            logits: Tensor::new(logits.concat(), &Device::Cpu)?.reshape((logits.len(), 2))?,
            targets: Tensor::new(targets, &Device::Cpu)?,
        })
    }

    #[test]
    fn the_window_averages_by_targets_and_starts_again_after_take() -> Result<()> {
        let mut w = TrainWindow::with_objectives(vec!["A".into(), "B".into()], vec![1.0, 0.5]);
        w.add(&[
            output(1.0, &[[1.0, 0.0]], &[0])?,
            output(2.0, &[[1.0, 0.0], [0.0, 1.0]], &[1, 1])?,
        ])?;
        w.add(&[
            output(3.0, &[[0.0, 1.0]], &[0])?,
            output(4.0, &[[0.0, 1.0], [0.0, 1.0]], &[1, 1])?,
        ])?;
        let losses = w
            .losses(2)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        assert_eq!(losses, [("A".to_owned(), 2.0), ("B".to_owned(), 3.0)]);
        let m = w.take();
        assert_eq!(m.objectives[0].1.accuracy, 0.5);
        assert_eq!(m.objectives[1].1.accuracy, 0.75);
        assert_eq!(m.total, 2.0 + 0.5 * 3.0);
        assert!(w.take().objectives.iter().all(|(_, m)| m.loss == 0.0));
        Ok(())
    }

    #[test]
    fn a_loss_that_is_not_finite_names_the_step() -> Result<()> {
        let mut w = TrainWindow::with_objectives(vec!["A".into()], vec![1.0]);
        w.add(&[output(f32::NAN, &[[1.0, 0.0]], &[0])?])?;
        let err = w.losses(7).expect_err("NaN is refused");
        assert!(err.to_string().contains("at step 7"), "{err}");
        Ok(())
    }
}

//! An exponential moving average of the weights (`train.ema`, Polyak averaging):
//! evaluations, early stopping and checkpoints use the averaged weights, which sit
//! nearer the middle of the region the last steps wander over and usually score
//! better on held-out names than the last step's weights.

use candle_core::{Result, Tensor, Var};
use rayon::prelude::*;

/// The name of the averages' tensors in a resume point.
const AVERAGE: &str = "average";

/// What a weight average keeps in a resume point's state besides its tensors.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct AverageState {
    /// Updates folded in (none when the run does not average).
    pub average_updates: Option<usize>,
}

/// The averaged copy of every parameter.
pub struct WeightAverage {
    decay: f64,
    updates: usize,
    /// Each parameter and its average (or, while swapped in, its live value).
    shadow: Vec<(Var, Tensor)>,
}

impl WeightAverage {
    /// An average of `vars` (the parameters that train) with `decay` per step,
    /// starting at their current values; `None` when `decay` is 0 (averaging off).
    pub fn new(vars: Vec<Var>, decay: f64) -> Result<Option<Self>> {
        if decay == 0.0 {
            return Ok(None);
        }
        let shadow = vars
            .into_iter()
            .map(|var| {
                let copy = var.as_tensor().detach().copy()?;
                Ok((var, copy))
            })
            .collect::<Result<_>>()?;
        Ok(Some(Self {
            decay,
            updates: 0,
            shadow,
        }))
    }

    /// Folds the current weights in. The decay warms up as `(1 + t) / (10 + t)` so
    /// that the first steps' weights fade fast.
    pub fn update(&mut self) -> Result<()> {
        self.updates += 1;
        let t = self.updates as f64;
        let decay = self.decay.min((1.0 + t) / (10.0 + t));
        self.shadow.par_iter_mut().try_for_each(|(var, avg)| {
            // Detached, or each average would hold on to the one before it.
            let live = var.as_tensor().detach();
            *avg = ((avg.detach() * decay)? + (live * (1.0 - decay))?)?;
            Ok(())
        })
    }

    /// Its state for a resume point: the updates folded in, and the averages as
    /// tensors named `average/NAME` (`names`: the parameters' names, in order; call it
    /// with the live weights in place).
    pub fn save(&self, names: &[String]) -> Result<(AverageState, Vec<(String, Tensor)>)> {
        let tensors = names
            .iter()
            .zip(&self.shadow)
            .map(|(name, (_, a))| Ok((format!("{AVERAGE}/{name}"), a.copy()?)))
            .collect::<Result<_>>()?;
        let state = AverageState {
            average_updates: Some(self.updates),
        };
        Ok((state, tensors))
    }

    /// Puts back what [`WeightAverage::save`] gave (nothing when the point was written
    /// without averaging).
    pub fn load(
        &mut self,
        state: &AverageState,
        names: &[String],
        tensor: impl Fn(&str) -> Result<Tensor>,
    ) -> Result<()> {
        let Some(updates) = state.average_updates else {
            return Ok(());
        };
        let averages = names
            .iter()
            .map(|name| tensor(&format!("{AVERAGE}/{name}")))
            .collect::<Result<_>>()?;
        self.restore(updates, averages)
    }

    /// Puts back `updates` and the `averages` in parameter order.
    fn restore(&mut self, updates: usize, averages: Vec<Tensor>) -> Result<()> {
        if averages.len() != self.shadow.len() {
            candle_core::bail!(
                "{} averages for {} parameters",
                averages.len(),
                self.shadow.len()
            )
        }
        for ((var, avg), saved) in self.shadow.iter_mut().zip(averages) {
            *avg = saved.reshape(var.shape())?.to_device(var.device())?;
        }
        self.updates = updates;
        Ok(())
    }

    /// Exchanges the averaged and the live weights: call it before evaluating or
    /// saving the average, and again after, to train on.
    pub fn swap(&mut self) -> Result<()> {
        for (var, other) in &mut self.shadow {
            let live = var.as_tensor().detach().copy()?;
            var.set(other)?;
            *other = live;
        }
        Ok(())
    }
}

/// Runs `f` with the averaged weights in place when averaging is on (evaluations and
/// checkpoints see the average), then puts the live weights back to train on.
pub fn with_average<T>(
    average: &mut Option<WeightAverage>,
    f: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<T> {
    let Some(average) = average else {
        return f();
    };
    average.swap()?;
    let result = f();
    average.swap()?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamStore;
    use candle_core::Device;

    #[test]
    fn the_average_follows_the_weights_and_swaps_in_and_out() -> Result<()> {
        let params = ParamStore::new(1);
        let vb = params.var_builder(&Device::Cpu);
        let w = vb.get_with_hints(2, "w", candle_nn::Init::Const(0.0))?;
        let var = &params.vars()[0].1;
        let vars = || params.vars().into_iter().map(|(_, v)| v).collect();
        let mut avg = WeightAverage::new(vars(), 0.5)?.expect("averaging on");
        assert!(WeightAverage::new(vars(), 0.0)?.is_none());
        // Warm-up: decay min(0.5, 2/11) at the first update.
        var.set(&Tensor::new(&[11f32, 22.0], &Device::Cpu)?)?;
        avg.update()?;
        let d = 2.0 / 11.0;
        let want = [11.0 * (1.0 - d), 22.0 * (1.0 - d)];
        avg.swap()?;
        let got = w.to_vec1::<f32>()?;
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
        avg.swap()?;
        assert_eq!(w.to_vec1::<f32>()?, [11.0, 22.0]);
        Ok(())
    }
}

//! Adam and AdamW, the warm-up/cosine learning-rate schedule, and gradient clipping.
//!
//! Adam (PyTorch `Adam`): `g += wd * p`, then the Adam moments. AdamW: the moments on
//! the raw gradient and `p -= lr * wd * p` (decoupled). Bias-corrected, eps 1e-8.
//!
//! Where the update runs: CPU f32 parameters with the fused kernels, one host loop per
//! parameter; CUDA f32 parameters, two launches for all of them (`cuda`, built with the
//! `cuda` feature); anything else, candle tensor ops per parameter.

#[cfg(feature = "cuda")]
mod cuda;
// The layout is the CUDA optimiser's; its tests run on every build.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
mod flat;

use crate::config::{OptimizerKind, TrainConfig};
use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, Var};
use rayon::prelude::*;
use xp_models::Kernels;

/// The names of the moments' tensors in a resume point (Adam's and AdamW's alike).
const MOMENT_M: &str = "adam.m";
const MOMENT_V: &str = "adam.v";

/// What an optimiser keeps in a resume point's state besides its tensors.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OptimizerState {
    /// Updates done.
    pub optimizer_steps: i32,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// One parameter's Adam moments.
enum Moments {
    /// CPU f32 parameters: plain vectors, updated in one pass per parameter (as one
    /// loop it is several times faster than a dozen tensor ops, each a full pass).
    Host { m: Vec<f32>, v: Vec<f32> },
    /// Elsewhere: tensors beside the parameter, updated with tensor ops.
    Tensors { m: Tensor, v: Tensor },
}

struct Slot {
    var: Var,
    moments: Moments,
}

/// The constants of one update.
struct Update {
    kind: OptimizerKind,
    weight_decay: f64,
    lr: f64,
    grad_scale: f64,
    /// Bias corrections `1 - beta^t`.
    c1: f64,
    c2: f64,
}

/// The optimiser state of every parameter.
pub struct Optimizer {
    kind: OptimizerKind,
    weight_decay: f64,
    steps: i32,
    vars: Vec<Var>,
    /// Each parameter's moments, on the host or as tensors (empty with `cuda`).
    slots: Vec<Slot>,
    /// All parameters' moments in two flat buffers on a CUDA device.
    #[cfg(feature = "cuda")]
    cuda: Option<cuda::FlatAdam>,
}

/// Whether `vars` all sit on one CUDA device in f32, where the one-launch update runs.
#[cfg(feature = "cuda")]
fn one_cuda_device(vars: &[Var]) -> bool {
    vars.first().is_some_and(|first| {
        first.device().is_cuda()
            && vars
                .iter()
                .all(|v| v.dtype() == DType::F32 && v.device().same_device(first.device()))
    })
}

impl Optimizer {
    /// Zero moments for `vars`; with the fused kernels, CPU f32 parameters are
    /// updated by one host loop each; f32 parameters on one CUDA device by one launch.
    pub fn new(
        vars: Vec<Var>,
        kind: OptimizerKind,
        weight_decay: f64,
        kernels: Kernels,
    ) -> Result<Self> {
        #[cfg(feature = "cuda")]
        if one_cuda_device(&vars) {
            let flat = cuda::FlatAdam::new(vars.clone(), vars[0].device())?;
            let mut optimizer = Self::with_slots(kind, weight_decay, vars, Vec::new());
            optimizer.cuda = Some(flat);
            return Ok(optimizer);
        }
        let slots = vars
            .iter()
            .cloned()
            .map(|var| {
                let host = kernels.is_fused() && Kernels::fused_runs_on(var.device(), var.dtype());
                let moments = if host {
                    let n = var.elem_count();
                    Moments::Host {
                        m: vec![0.0; n],
                        v: vec![0.0; n],
                    }
                } else {
                    Moments::Tensors {
                        m: var.zeros_like()?,
                        v: var.zeros_like()?,
                    }
                };
                Ok(Slot { var, moments })
            })
            .collect::<Result<_>>()?;
        Ok(Self::with_slots(kind, weight_decay, vars, slots))
    }

    fn with_slots(
        kind: OptimizerKind,
        weight_decay: f64,
        vars: Vec<Var>,
        slots: Vec<Slot>,
    ) -> Self {
        Self {
            kind,
            weight_decay,
            steps: 0,
            vars,
            slots,
            #[cfg(feature = "cuda")]
            cuda: None,
        }
    }

    /// Updates done so far.
    pub fn steps(&self) -> i32 {
        self.steps
    }

    /// Each parameter's first and second moments, in the order of the `vars` given to
    /// [`Optimizer::new`].
    pub fn moments(&self) -> Result<Vec<(Tensor, Tensor)>> {
        #[cfg(feature = "cuda")]
        if let Some(flat) = &self.cuda {
            return flat.moments();
        }
        self.slots
            .iter()
            .map(|slot| match &slot.moments {
                Moments::Host { m, v } => {
                    let (shape, device) = (slot.var.shape(), slot.var.device());
                    Ok((
                        Tensor::from_slice(m, shape, device)?,
                        Tensor::from_slice(v, shape, device)?,
                    ))
                }
                Moments::Tensors { m, v } => Ok((m.copy()?, v.copy()?)),
            })
            .collect()
    }

    /// Its state for a resume point: the update count, and each parameter's moments
    /// as tensors it names itself (`adam.m/NAME`, `adam.v/NAME`; `names` are the
    /// parameters' names, in the order of the `vars` given to [`Optimizer::new`]).
    pub fn save(&self, names: &[String]) -> Result<(OptimizerState, Vec<(String, Tensor)>)> {
        let mut tensors = Vec::new();
        for (name, (m, v)) in names.iter().zip(self.moments()?) {
            tensors.push((format!("{MOMENT_M}/{name}"), m));
            tensors.push((format!("{MOMENT_V}/{name}"), v));
        }
        let state = OptimizerState {
            optimizer_steps: self.steps,
        };
        Ok((state, tensors))
    }

    /// Puts back what [`Optimizer::save`] gave: `tensor` finds a saved tensor by the
    /// name the optimiser gave it.
    pub fn load(
        &mut self,
        state: &OptimizerState,
        names: &[String],
        tensor: impl Fn(&str) -> Result<Tensor>,
    ) -> Result<()> {
        let moment = |kind: &str, name: &str| tensor(&format!("{kind}/{name}"));
        let moments = names
            .iter()
            .map(|n| Ok((moment(MOMENT_M, n)?, moment(MOMENT_V, n)?)))
            .collect::<Result<Vec<_>>>()?;
        self.restore(state.optimizer_steps, moments)
    }

    /// Puts back what [`Optimizer::steps`] and [`Optimizer::moments`] gave.
    pub fn restore(&mut self, steps: i32, moments: Vec<(Tensor, Tensor)>) -> Result<()> {
        if moments.len() != self.vars.len() {
            candle_core::bail!(
                "{} moment pairs for {} parameters",
                moments.len(),
                self.vars.len()
            )
        }
        self.steps = steps;
        #[cfg(feature = "cuda")]
        if let Some(flat) = &mut self.cuda {
            return flat.restore(moments);
        }
        for (slot, (m, v)) in self.slots.iter_mut().zip(moments) {
            let (m, v) = (m.reshape(slot.var.shape())?, v.reshape(slot.var.shape())?);
            slot.moments = match slot.moments {
                Moments::Host { .. } => Moments::Host {
                    m: m.flatten_all()?.to_vec1()?,
                    v: v.flatten_all()?.to_vec1()?,
                },
                Moments::Tensors { .. } => Moments::Tensors {
                    m: m.to_device(slot.var.device())?,
                    v: v.to_device(slot.var.device())?,
                },
            };
        }
        Ok(())
    }

    /// One update at learning rate `lr`, the gradients clipped to the global norm
    /// `max_norm` (0: no clipping). Returns the gradient norm before clipping; when it is
    /// not finite, no weight changes (and the step does not count). Parameters without
    /// gradient are left alone.
    pub fn step(&mut self, grads: &GradStore, lr: f64, max_norm: f64) -> Result<f64> {
        self.steps += 1;
        let mut update = Update {
            kind: self.kind,
            weight_decay: self.weight_decay,
            lr,
            grad_scale: 1.0,
            c1: 1.0 - BETA1.powi(self.steps),
            c2: 1.0 - BETA2.powi(self.steps),
        };
        #[cfg(feature = "cuda")]
        if let Some(flat) = &mut self.cuda {
            let norm = flat.step(grads, &update, max_norm)?;
            if !norm.is_finite() {
                self.steps -= 1;
            }
            return Ok(norm);
        }
        let (norm, factor) = clip_factor(grads, &self.vars, max_norm)?;
        if !norm.is_finite() {
            self.steps -= 1;
            return Ok(norm);
        }
        update.grad_scale = factor;
        self.slots.par_iter_mut().try_for_each(|slot| {
            let Some(g) = grads.get(&slot.var) else {
                return Ok(());
            };
            match &mut slot.moments {
                Moments::Host { m, v } => update.host(&slot.var, g, m, v),
                Moments::Tensors { m, v } => update.tensors(&slot.var, g, m, v),
            }
        })?;
        Ok(norm)
    }
}

impl Update {
    /// The weight decay as an addition to the gradient (Adam) and as a decoupled
    /// shrinking `lr * wd` (AdamW): one of them is zero.
    fn decay_terms(&self) -> (f32, f32) {
        match self.kind {
            OptimizerKind::Adam => (self.weight_decay as f32, 0.0),
            OptimizerKind::Adamw => (0.0, (self.lr * self.weight_decay) as f32),
        }
    }

    /// The update as one loop over the values.
    fn host(&self, var: &Var, g: &Tensor, m: &mut [f32], v: &mut [f32]) -> Result<()> {
        let g = g.flatten_all()?.to_vec1::<f32>()?;
        let mut p = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        let (c1, c2, eps) = (self.c1 as f32, self.c2 as f32, EPS as f32);
        let (lr, scale) = (self.lr as f32, self.grad_scale as f32);
        let (l2, decoupled) = self.decay_terms();
        for (((p, g), m), v) in p.iter_mut().zip(&g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = g * scale + *p * l2;
            *m = *m * b1 + g * (1.0 - b1);
            *v = *v * b2 + g * g * (1.0 - b2);
            let step = (*m / c1) / ((*v / c2).sqrt() + eps);
            *p = *p - step * lr - *p * decoupled;
        }
        var.set(&Tensor::from_vec(p, var.shape(), var.device())?)
    }

    /// The update as tensor ops on the parameter's device.
    fn tensors(&self, var: &Var, g: &Tensor, m: &mut Tensor, v: &mut Tensor) -> Result<()> {
        // Detached: the update must not record a graph, or every step's tensors
        // would stay reachable from the next step's moments.
        let p = &var.as_tensor().detach();
        let mut g = (g.detach() * self.grad_scale)?;
        if self.kind == OptimizerKind::Adam && self.weight_decay > 0.0 {
            g = (g + (p * self.weight_decay)?)?;
        }
        *m = ((&*m * BETA1)? + (&g * (1.0 - BETA1))?)?;
        *v = ((&*v * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?;
        let update = ((&*m / self.c1)? / ((&*v / self.c2)?.sqrt()? + EPS)?)?;
        let mut next = (p - (update * self.lr)?)?;
        if self.kind == OptimizerKind::Adamw && self.weight_decay > 0.0 {
            next = (next - (p * (self.lr * self.weight_decay))?)?;
        }
        var.set(&next)
    }
}

/// The learning rate at 0-based `step`: linear warm-up to `lr` over `warmup` steps,
/// then cosine decay to zero at the last step.
pub fn learning_rate(cfg: &TrainConfig, step: usize) -> f64 {
    if step < cfg.warmup {
        return cfg.lr * (step + 1) as f64 / cfg.warmup as f64;
    }
    let span = cfg.steps.saturating_sub(cfg.warmup).max(1) as f64;
    let progress = ((step - cfg.warmup) as f64 / span).min(1.0);
    cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// The global L2 norm of the gradients of `vars`, and the factor that clips it to
/// `max_norm` (1 when `max_norm` is 0 or the norm is within it).
fn clip_factor(grads: &GradStore, vars: &[Var], max_norm: f64) -> Result<(f64, f64)> {
    // Each parameter's sum of squares on the pool, then added in order: the same
    // norm on every run.
    let squares = vars
        .par_iter()
        .map(|var| match grads.get(var) {
            Some(g) => g.sqr()?.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>(),
            None => Ok(0.0),
        })
        .collect::<Result<Vec<f64>>>()?;
    let sum: f64 = squares.iter().sum();
    let norm = sum.sqrt();
    let factor = if max_norm > 0.0 && norm > max_norm {
        max_norm / (norm + 1e-6)
    } else {
        1.0
    };
    Ok((norm, factor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let cfg = TrainConfig {
            steps: 1000,
            warmup: 100,
            lr: 1.0,
            ..Default::default()
        };
        assert!((learning_rate(&cfg, 0) - 0.01).abs() < 1e-12);
        assert!((learning_rate(&cfg, 99) - 1.0).abs() < 1e-12);
        assert!((learning_rate(&cfg, 100) - 1.0).abs() < 1e-12);
        assert!(learning_rate(&cfg, 550) < 0.51 && learning_rate(&cfg, 550) > 0.49);
        assert!(learning_rate(&cfg, 1000).abs() < 1e-12);
    }

    #[test]
    fn adam_first_step_moves_each_weight_by_lr() -> Result<()> {
        let var = Var::new(&[1f32, -2.0, 3.0], &Device::Cpu)?;
        let loss = (var.as_tensor() * 5.0)?.sum_all()?;
        let grads = loss.backward()?;
        let mut opt = Optimizer::new(vec![var.clone()], OptimizerKind::Adam, 0.0, Kernels::Fused)?;
        opt.step(&grads, 0.1, 0.0)?;
        let v = var.as_tensor().to_vec1::<f32>()?;
        for (got, want) in v.iter().zip([0.9f32, -2.1, 2.9]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        let (norm, factor) = clip_factor(&grads, &[var], 1.0)?;
        assert!((norm - 75f64.sqrt()).abs() < 1e-4 && (factor * norm - 1.0).abs() < 1e-4);
        Ok(())
    }

    #[test]
    fn a_gradient_that_is_not_finite_changes_nothing() -> Result<()> {
        let var = Var::new(&[1f32, 2.0], &Device::Cpu)?;
        let loss = (var.as_tensor() * f64::NAN)?.sum_all()?;
        let grads = loss.backward()?;
        let mut opt = Optimizer::new(vec![var.clone()], OptimizerKind::Adam, 0.0, Kernels::Fused)?;
        let norm = opt.step(&grads, 0.1, 1.0)?;
        assert!(norm.is_nan());
        assert_eq!(var.as_tensor().to_vec1::<f32>()?, [1.0, 2.0]);
        assert_eq!(opt.steps(), 0);
        Ok(())
    }
}

//! How much memory a run needs, estimated before its first step from the longest text,
//! the batch, the model and its objectives; a run that would not fit is refused with the
//! figure and the settings to turn, instead of being killed by the system mid-run.
//!
//! The estimate counts what training holds at its peak: per layer and encoder pass the
//! attention weights of every head over every pair of positions (with the fused CPU
//! kernels, each row's softmax instead when the weights would pass
//! [`STORED_WEIGHTS`]; with the composed ops their dropout mask and gradients too), the
//! look-ahead mask of a causal pass, the row activations of the layer and the heads'
//! logits, each twice (forward, and their gradients in the backward pass); and
//! the parameters with their gradients, the optimiser's two moments, the weight average
//! and the best checkpoint's copy. `docs/guide/experiments.md` compares it with measured
//! peaks.

use crate::config::{Experiment, KernelChoice};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::objective::Prepared;
use crate::stack::distinct_inputs;
use crate::train::slice_count;
use candle_core::Device;
use xp_models::STORED_WEIGHTS;

const F32: f64 = 4.0;
const GB: f64 = 1e9;
/// The process itself: its code, the allocator's pools, the data.
const PROCESS: f64 = 0.15 * GB;

/// What a run is estimated to need at its peak, in bytes, and of what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// All of it.
    pub total: f64,
    /// The attention weights (and masks) of every layer and pass.
    pub attention: f64,
    /// Everything else of the batch: row activations, logits.
    pub activations: f64,
    /// Parameters and what the optimiser keeps of them.
    pub parameters: f64,
    /// Positions per row.
    pub seq_len: usize,
    /// Encoder passes per step (one per objective at most).
    pub passes: usize,
    /// Encoder passes under a causal mask.
    pub causal_passes: usize,
    /// Whether training keeps every attention weight (short texts), or each row's
    /// softmax and computes them again (long texts, the fused CPU kernels).
    pub weights_kept: bool,
}

/// The estimate for `experiment` over data `info` with `model` (its first stage), whose
/// objectives read `sample` (a batch of the data) as `prepared`: objectives that read
/// the same input share one encoder pass. A later stage's objectives count one pass
/// each.
pub fn estimate(
    experiment: &Experiment,
    info: &DataInfo,
    model: &Model,
    prepared: &[Prepared],
) -> Estimate {
    let m = &experiment.model;
    let b = experiment.train.batch_size as f64;
    // Pairs and segments add a `[SEP]`; rows start with `[CLS]`.
    let seq_len = info.max_len + 2;
    let l = seq_len as f64;
    let (first, causal) = distinct_inputs(prepared);
    let later = experiment
        .stages()
        .map(|stages| {
            stages
                .iter()
                .skip(1)
                .map(|s| s.experiment.objectives.len())
                .max()
        })
        .ok()
        .flatten()
        .unwrap_or(0);
    let passes = first.max(later).max(1);
    let heads = m.heads as f64;
    let weights = b * l * l * heads;
    let fused = experiment.train.kernels != KernelChoice::Composed;
    // The fused kernel decides for each slice of the batch (one per thread).
    let slices = slice_count(experiment.train.threads, &Device::Cpu)
        .min(b as usize)
        .max(1);
    let slice_weights = (b / slices as f64).ceil() * l * l * heads;
    let weights_kept = !fused || slice_weights <= STORED_WEIGHTS as f64;
    // Per layer and pass, what attention holds at the peak.
    let per_pass_attention = if fused {
        // The fused kernel keeps the weights up to STORED_WEIGHTS (each row's softmax
        // past it), draws its dropout where it applies it and goes back row by row.
        F32 * if weights_kept {
            weights
        } else {
            2.0 * b * l * heads
        }
    } else {
        // The softmax weights and the dropout mask on them, and their gradients.
        2.0 * F32 * weights * if m.dropout > 0.0 { 2.0 } else { 1.0 }
    };
    // The look-ahead mask of a causal pass (one per text, for every head), with its
    // gradient.
    let causal_masks = 2.0 * F32 * b * l * l;
    let attention =
        m.layers as f64 * (passes as f64 * per_pass_attention + causal as f64 * causal_masks);
    let (d, ffn, vocab) = (m.dim as f64, m.ffn_dim as f64, info.vocab.len() as f64);
    let rows = F32 * b * l * (12.0 * d + 3.0 * ffn) * m.layers as f64;
    let logits = F32 * b * l * (vocab + d) * 3.0;
    let activations = passes as f64 * (rows + logits);
    let parameters = 6.0 * F32 * model.params.count() as f64;
    let total = attention + 2.0 * activations + parameters + PROCESS;
    Estimate {
        total,
        attention,
        activations: 2.0 * activations,
        parameters,
        seq_len,
        passes,
        causal_passes: causal,
        weights_kept,
    }
}

impl Estimate {
    /// `about 1.2 GB at the peak (attention 0.9 GB)`, for the line a run starts with.
    pub fn describe(&self) -> String {
        format!(
            "about {:.2} GB at the peak (attention {:.2} GB)",
            self.total / GB,
            self.attention / GB
        )
    }
}

/// Refuses a run on the CPU whose [`estimate`] exceeds the memory the machine has free
/// (or `train.memory_gb`, when set); other devices are not checked.
pub fn check(
    experiment: &Experiment,
    info: &DataInfo,
    model: &Model,
    prepared: &[Prepared],
    device: &Device,
) -> Result<()> {
    if !matches!(device, Device::Cpu) {
        return Ok(());
    }
    let budget = match experiment.train.memory_gb {
        gb if gb > 0.0 => Some((gb * GB, "train.memory_gb")),
        _ => available().map(|bytes| (bytes, "available on this machine")),
    };
    let Some((budget, what)) = budget else {
        return Ok(());
    };
    let e = estimate(experiment, info, model, prepared);
    if e.total <= budget {
        return Ok(());
    }
    let m = &experiment.model;
    let b = experiment.train.batch_size;
    let mut what_attention = match e.weights_kept {
        true => format!(
            "{b} texts x {} heads x {}^2 positions x {} layers x {} encoder pass(es)",
            m.heads, e.seq_len, m.layers, e.passes
        ),
        false => "each row's softmax, the weights computed again in the backward pass".into(),
    };
    if e.causal_passes > 0 {
        what_attention += &format!(
            "; the look-ahead masks of {} causal pass(es), {b} texts x {}^2 positions",
            e.causal_passes, e.seq_len
        );
    }
    Err(XpError::Run(format!(
        "this run needs about {:.1} GB and {:.1} GB is {what}: attention alone needs {:.1} GB ({what_attention}), the other activations {:.1} GB, as the longest kept text has {} tokens. Lower data.max_len (longer texts are then dropped or cut, as data.too_long says), train.batch_size, or the model's model.heads, model.layers or model.dim; or set train.memory_gb if the estimate is wrong for this machine",
        e.total / GB,
        budget / GB,
        e.attention / GB,
        e.activations / GB,
        info.max_len,
    )))
}

/// The memory free for this process, in bytes: the system's available memory, or what
/// its control group still allows where that is less. `None` where neither can be read.
pub fn available() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let system = kb * 1024.0;
    let cgroup = || -> Option<f64> {
        let read = |f: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{f}")).ok();
        let max: f64 = read("memory.max")?.trim().parse().ok()?;
        let current: f64 = read("memory.current")?.trim().parse().ok()?;
        Some(max - current)
    };
    Some(cgroup().map_or(system, |left| left.min(system)))
}

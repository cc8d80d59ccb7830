//! The gradient check: every parameter that a loss should reach gets a non-zero
//! gradient from it. candle has ops that silently record no backward pass, so this
//! is the test that notices a broken graph.
//!
//! From the total loss: every parameter. From each objective alone: its own head, and,
//! unless it is detached, every encoder parameter (segment embeddings only for
//! objectives that read segments).

use crate::error::{Result, XpError};
use crate::model::Model;
use crate::objective::NameBatch;
use candle_core::backprop::GradStore;
use candle_core::Var;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use xp_models::Mode;

/// Parameters that got no gradient, per loss.
#[derive(Debug, Clone, Default)]
pub struct GradReport {
    /// `(loss name, parameters without gradient)`, for the losses with offenders.
    pub offenders: Vec<(String, Vec<String>)>,
    /// Number of losses checked.
    pub losses: usize,
    /// Number of parameters.
    pub params: usize,
}

impl GradReport {
    /// Ok when every expected gradient arrived, else the offenders by name.
    pub fn into_result(self) -> Result<Self> {
        if self.offenders.is_empty() {
            return Ok(self);
        }
        let lines: Vec<String> = self
            .offenders
            .iter()
            .map(|(loss, names)| format!("  {loss}: no gradient for {}", names.join(", ")))
            .collect();
        Err(XpError::GradientCheck(lines.join("\n")))
    }
}

/// Checks the gradients of `model` on `batch` (no dropout).
pub fn gradient_check(model: &Model, batch: &NameBatch, seed: u64) -> Result<GradReport> {
    // The transforms of training: the graph checked is the one that trains.
    let batch = batch.clone().training();
    let prepared = model.prepare(&batch, &mut SmallRng::seed_from_u64(seed));
    // Frozen parameters are meant to get no gradient.
    let vars = model.trainable();
    let outputs = model.forward(&prepared, &Mode::eval())?;
    let mut report = GradReport {
        params: vars.len(),
        ..Default::default()
    };

    let grads = model.total_loss(&outputs)?.backward()?;
    report.check("total", &grads, vars.iter());
    for ((active, out), p) in model.objectives.iter().zip(&outputs).zip(&prepared) {
        let grads = out.loss.backward()?;
        let head = format!("heads.{}.", active.name);
        let expected = vars.iter().filter(|(name, _)| {
            name.starts_with(&head)
                || (!active.settings.detach
                    && !model.frozen.encoder
                    && name.starts_with("encoder.")
                    && (p.input.segments.is_some() || !name.starts_with("encoder.seg_emb")))
        });
        report.check(&active.name, &grads, expected);
    }
    Ok(report)
}

impl GradReport {
    fn check<'a>(
        &mut self,
        loss: &str,
        grads: &GradStore,
        expected: impl Iterator<Item = &'a (String, Var)>,
    ) {
        self.losses += 1;
        let missing: Vec<String> = expected
            .filter(|(_, var)| !has_gradient(grads, var))
            .map(|(name, _)| name.clone())
            .collect();
        if !missing.is_empty() {
            self.offenders.push((loss.to_owned(), missing));
        }
    }
}

fn has_gradient(grads: &GradStore, var: &Var) -> bool {
    grads
        .get(var)
        .and_then(|g| g.abs().ok()?.max_all().ok()?.to_scalar::<f32>().ok())
        .is_some_and(|m| m > 0.0)
}

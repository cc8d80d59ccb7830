//! An export written to its file, and the verdict of its check: what `xp export` and
//! the Python package's `Run.export` do alike.

use super::check::{ObjectiveCheck, INT8_ACCURACY_DROP, INT8_TOLERANCE, TOLERANCE};
use super::{export_run, ExportOptions, OnnxExport, WeightFormat};
use crate::config::Experiment;
use crate::error::{Result, XpError};
use std::path::{Path, PathBuf};

/// An export on disk.
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// The run's experiment.
    pub experiment: Experiment,
    /// What the file holds.
    pub export: OnnxExport,
}

impl Written {
    /// Each output and the objective it serves, `cls_logits (CLS)`.
    pub fn outputs(&self) -> Vec<String> {
        self.export
            .objectives
            .iter()
            .map(|(name, o)| match &o.attention {
                Some(attention) => format!("{} and {attention} ({name})", o.output),
                None => format!("{} ({name})", o.output),
            })
            .collect()
    }
}

/// Exports the finished run in `run` ([`export_run`]) to `output` (default:
/// `exported/NAME.onnx`), its folder created; with `strict`, writes nothing when an
/// objective has no ONNX export.
pub fn write_run(
    run: &Path,
    output: Option<&Path>,
    options: ExportOptions,
    strict: bool,
) -> Result<Written> {
    let (experiment, export) = export_run(run, options)?;
    if strict && !export.skipped.is_empty() {
        return Err(XpError::Run(format!(
            "nothing written: {} has no ONNX export (--strict); give its head an export (see docs/guide/objectives.md), or export without --strict to leave it out",
            export.skipped.join(", ")
        )));
    }
    let path = output.map_or_else(
        || Path::new("exported").join(format!("{}.onnx", experiment.name)),
        Path::to_path_buf,
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| XpError::write(dir, e))?;
    }
    crate::files::write_atomic(&path, &export.bytes)?;
    Ok(Written {
        path,
        experiment,
        export,
    })
}

/// Fails, naming the objectives, when a check of an export in `weights` did not pass.
pub fn verdict(checks: &[ObjectiveCheck], weights: WeightFormat) -> Result<()> {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.objective.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(XpError::Run(match weights {
        WeightFormat::Int8 => format!(
            "the int8 export is further from f32 than allowed (probabilities within {INT8_TOLERANCE}, test accuracy at most {INT8_ACCURACY_DROP} lower) for {}: serve the f32 export of this run",
            failed.join(", ")
        ),
        WeightFormat::F32 => format!(
            "ONNX Runtime differs from candle by more than {:e} for {}: the export of that head does not compute what its candle head does",
            TOLERANCE,
            failed.join(", ")
        ),
    }))
}

impl ObjectiveCheck {
    /// The figures of the comparison: the largest difference, or an int8 export's
    /// distance from f32.
    pub fn describe(&self) -> String {
        let Some(q) = &self.quantized else {
            let attention = self
                .attention_worst
                .map_or(String::new(), |w| format!(", attention {w:.1e}"));
            return format!(
                "{} test names, max |xp - onnxruntime| = {:.1e}{attention}",
                self.names, self.worst
            );
        };
        let accuracy = q.accuracies().map_or(String::new(), |(f32_acc, int8_acc)| {
            format!(", test accuracy f32 {f32_acc:.4}, int8 {int8_acc:.4}")
        });
        format!(
            "{} test names, int8 against f32: max |p| difference {:.1e}, same answer {:.2}% of {} rows{accuracy}",
            self.names,
            q.probability_worst,
            100.0 * q.same_answer as f64 / q.rows.max(1) as f64,
            q.rows
        )
    }
}

//! `[init] from = "runs/NAME"`: a run that starts from another run's best checkpoint.

use crate::config::{ConfigError, Experiment, InitConfig, ModelConfig};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::params::ParamStore;
use crate::run::RunFiles;

/// Copies into `model` the parts `init` names from the best checkpoint of the run
/// `init.from`, after checking that the run exists, has a checkpoint, was trained on
/// the same vocabulary, and that its tensors fit.
pub fn apply(
    init: &InitConfig,
    config: &ModelConfig,
    model: &Model,
    info: &DataInfo,
) -> Result<Vec<String>> {
    let from = &init.from;
    let refuse = |field: &str, reason: String| XpError::Config(ConfigError::invalid(field, reason));
    let files = RunFiles::at(from);
    let checkpoint = files.checkpoint();
    if !checkpoint.is_file() {
        return Err(refuse(
            "init.from",
            format!(
                "{} has no {}: name the folder of a finished run (runs/NAME)",
                from.display(),
                RunFiles::CHECKPOINT
            ),
        ));
    }
    let theirs = crate::run::load_info(&files)?;
    if theirs.vocab != info.vocab || theirs.labels != info.labels {
        return Err(refuse(
            "init.from",
            format!(
                "{} was trained on another vocabulary ({} tokens and {} languages there, {} and {} here): start from a run of the same corpus and data.min_len/max_len",
                from.display(),
                theirs.vocab.len(),
                theirs.labels.len(),
                info.vocab.len(),
                info.labels.len()
            ),
        ));
    }
    let source = ParamStore::load(&checkpoint, &model.device)?;
    let parts = chosen_parts(init, model, &source)?;
    let wanted = |name: &str| {
        parts.iter().any(|part| match part.as_str() {
            "encoder" => name.starts_with("encoder."),
            head => name.starts_with(&format!("heads.{head}.")),
        })
    };
    let missing: Vec<String> = model
        .params
        .vars()
        .into_iter()
        .map(|(name, _)| name)
        // Segment embeddings of a source that trained no pair objective start fresh.
        .filter(|name| wanted(name) && !name.starts_with("encoder.seg_emb"))
        .filter(|name| !source.vars().iter().any(|(n, _)| n == name))
        .collect();
    let copied = model.params.copy_matching(&source, wanted);
    match (copied, missing.is_empty()) {
        (Ok(copied), true) => Ok(copied),
        (result, _) => {
            let mut problems = Vec::new();
            if let Err(e) = result {
                problems.push(e.to_string());
            }
            if !missing.is_empty() {
                problems.push(format!("missing there: {}", missing.join(", ")));
            }
            Err(refuse(
                "init.from",
                format!(
                    "the checkpoint of {} does not fit this model ({}){}",
                    from.display(),
                    problems.join("; "),
                    differing_fields(from, config)
                ),
            ))
        }
    }
}

/// The parts to copy: `init.parts`, checked, or the encoder and the heads of the
/// model's objectives that the source has.
fn chosen_parts(init: &InitConfig, model: &Model, source: &ParamStore) -> Result<Vec<String>> {
    let has_head = |name: &str| {
        let prefix = format!("heads.{name}.");
        source.vars().iter().any(|(n, _)| n.starts_with(&prefix))
    };
    let ours: Vec<&str> = model.objectives.iter().map(|a| a.name.as_str()).collect();
    let Some(parts) = &init.parts else {
        let heads = ours.iter().filter(|n| has_head(n)).map(|n| n.to_string());
        return Ok(std::iter::once("encoder".to_owned()).chain(heads).collect());
    };
    for part in parts {
        let problem = if part == "encoder" {
            continue;
        } else if !ours.contains(&part.as_str()) {
            format!(
                "`{part}` is neither `encoder` nor an objective this run trains first ({})",
                ours.join(", ")
            )
        } else if !has_head(part) {
            format!(
                "{} has no {part} head: leave it out of init.parts, and it starts fresh",
                init.from.display()
            )
        } else {
            continue;
        };
        return Err(XpError::Config(ConfigError::invalid("init.parts", problem)));
    }
    Ok(parts.clone())
}

/// `; fields that differ: model.dim (128 there, 256 here)`, from the source run's
/// experiment, or nothing when none differs or it cannot tell.
fn differing_fields(from: &std::path::Path, ours: &ModelConfig) -> String {
    let Ok(theirs) = Experiment::load_recorded(&RunFiles::at(from).experiment(), &[]) else {
        return String::new();
    };
    let table = |m: &ModelConfig| toml::Table::try_from(m).unwrap_or_default();
    let (theirs, ours) = (table(&theirs.model), table(ours));
    let differ: Vec<String> = ours
        .iter()
        .filter_map(|(key, value)| {
            let other = theirs.get(key)?;
            (other != value).then(|| format!("model.{key} ({other} there, {value} here)"))
        })
        .collect();
    match differ.is_empty() {
        true => String::new(),
        false => format!("; fields that differ: {}", differ.join(", ")),
    }
}

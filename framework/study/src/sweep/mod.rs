//! Sweeps: a base experiment and axes of values, expanded to a grid of runs.
//!
//! ```toml
//! name = "reference_study"
//! base = "four_losses.toml"          # relative to the sweep file
//! [axes]
//! objectives = [["CLS", "MLM"], ["CLS", "MLM", "LA", "NSP"]]
//! "model.norm_first" = [false, true]
//! "objectives.CLS.detach" = [false, true]
//! seed = [1, 2, 3]                   # repeats of every point
//! [set]                              # fixed overrides for every point
//! "train.steps" = 20000
//! [[exclude]]                        # points (partial assignments) left out
//! "model.norm_first" = true
//! "objectives.CLS.detach" = true
//! ```
//!
//! A point is one assignment of the axes other than `seed`; each point runs once per
//! seed. `[[include]]` adds points outside the grid (a value for every axis).

pub mod hparams;
pub mod local;
mod runs;
mod status;
mod submit;

pub use runs::{experiment_file, log_file, run_arguments, write_experiment};
pub use status::{status, RunStatus, Status, StatusError, SWEEP_FILE};
pub use submit::{steps_per_second, submit, task, Submitted};

use serde::Deserialize;
use std::path::{Path, PathBuf};
use xp_framework::config::{
    apply_override, line_of_keys, with_suggestion, ConfigError, Experiment,
};
use xp_framework::objective::find;

/// The sweep file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    /// Default: the file's stem.
    name: Option<String>,
    base: PathBuf,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    exclude: Vec<toml::Table>,
    #[serde(default)]
    include: Vec<toml::Table>,
}

/// One run of a sweep: a point and a seed.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The point's name (its axis values, seeds pooled), a folder name.
    pub point: String,
    /// The seed.
    pub seed: u64,
    /// The point's value of every axis, then `seed`: the run's hyperparameters.
    pub hparams: Vec<(String, toml::Value)>,
    /// The run's experiment, resolved.
    pub experiment: Experiment,
}

impl SweepRun {
    /// The run's folder inside the sweep's: `POINT/seed-N`.
    pub fn dir(&self, sweep_dir: &Path) -> PathBuf {
        sweep_dir
            .join(&self.point)
            .join(format!("seed-{}", self.seed))
    }
}

/// A sweep expanded.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep's name (its folder under `runs/`).
    pub name: String,
    /// Every run, point by point, seeds in order.
    pub runs: Vec<SweepRun>,
    /// The sweep as resolved: the file with its base's path made absolute and the
    /// command line's overrides added, for the sweep folder.
    pub resolved: String,
}

/// One assignment of the axes: `(axis, value)` in axis order.
type Assignment = Vec<(String, toml::Value)>;

/// The axes other than `seed`: `(axis, values)` in axis order.
type Axes = Vec<(String, Vec<toml::Value>)>;

impl Sweep {
    /// Reads the sweep at `path`; `overrides` (`key=value`) apply to every point.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let file: SweepFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            message: with_suggestion(e.to_string().trim_end(), &[]),
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).join(&file.base);
        let base_text = std::fs::read_to_string(&base).map_err(|source| ConfigError::Read {
            path: base.clone(),
            source,
        })?;
        let mut base_doc: toml::Table =
            toml::from_str(&base_text).map_err(|e| ConfigError::Parse {
                origin: base.display().to_string(),
                message: e.to_string(),
            })?;
        xp_framework::data::rebase_paths(&mut base_doc, base.parent().unwrap_or(Path::new(".")));
        let name = match &file.name {
            Some(name) => name.clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into()),
        };
        let resolved = resolve(&file, &name, &base, overrides)?;
        let sources = Sources {
            sweep: (&origin, &text),
            base: (&base.display().to_string(), &base_text),
            file: &file,
            overrides,
        };
        let (axes, seeds) = axes(&file.axes, &base_doc)?;
        let mut points = grid(&axes);
        points.retain(|p| !file.exclude.iter().any(|e| matches(p, e)));
        for extra in &file.include {
            let point = included(&axes, extra)?;
            if !points.contains(&point) {
                points.push(point);
            }
        }
        let mut runs: Vec<SweepRun> = Vec::new();
        for point in &points {
            let point_name = point_name(point);
            for &seed in &seeds {
                let experiment =
                    point_experiment(&base_doc, point, seed, &point_name, &file.set, overrides)
                        .map_err(|e| sources.place(e))?;
                // A point that only differs in a field of an objective it does not
                // train is the same run as an earlier one.
                let same = |r: &SweepRun| {
                    let mut other = r.experiment.clone();
                    other.name.clone_from(&experiment.name);
                    other == experiment
                };
                if !runs.iter().any(same) {
                    let mut hparams = point.clone();
                    hparams.push(("seed".into(), toml::Value::Integer(seed as i64)));
                    runs.push(SweepRun {
                        point: point_name.clone(),
                        seed,
                        hparams,
                        experiment,
                    });
                }
            }
        }
        Ok(Self {
            name,
            runs,
            resolved,
        })
    }

    /// The distinct points, in order.
    pub fn points(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for run in &self.runs {
            if names.last() != Some(&run.point.as_str()) {
                names.push(&run.point);
            }
        }
        names
    }
}

/// Where a sweep's runs get their fields: the sweep file (its axes and `[set]`), its
/// base experiment, and the command line.
struct Sources<'a> {
    sweep: (&'a str, &'a str),
    base: (&'a str, &'a str),
    file: &'a SweepFile,
    overrides: &'a [String],
}

impl Sources<'_> {
    /// `error` placed where its field was written: the `--set` that gave it, else the
    /// line of the sweep file's axis or `[set]` key that covers it, else its line in
    /// the base experiment.
    fn place(&self, error: ConfigError) -> ConfigError {
        let Some(field) = error.field().map(str::to_owned) else {
            return error;
        };
        let covers = |key: &str| field == key || field.starts_with(&format!("{key}."));
        let (origin, text) = self.sweep;
        let by_override = self
            .overrides
            .iter()
            .any(|o| covers(o.split_once('=').map_or(o.as_str(), |(k, _)| k).trim()));
        if by_override {
            return error.locate(origin, text, self.overrides);
        }
        for (section, table) in [("axes", &self.file.axes), ("set", &self.file.set)] {
            if let Some(key) = table.keys().find(|k| covers(k)) {
                let place = match line_of_keys(text, &[section, key]) {
                    Some(line) => format!("{origin}, line {line}"),
                    None => origin.to_owned(),
                };
                return error.at(place);
            }
        }
        let (origin, text) = self.base;
        error.locate(origin, text, &[])
    }
}

/// The sweep file with an absolute base and the command line's overrides in `[set]`.
fn resolve(
    file: &SweepFile,
    name: &str,
    base: &Path,
    overrides: &[String],
) -> Result<String, ConfigError> {
    let mut doc = toml::Table::new();
    doc.insert("name".into(), toml::Value::String(name.to_owned()));
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    doc.insert(
        "base".into(),
        toml::Value::String(base.display().to_string()),
    );
    doc.insert("axes".into(), toml::Value::Table(file.axes.clone()));
    let mut set = file.set.clone();
    for o in overrides {
        let (key, value) = o
            .split_once('=')
            .ok_or_else(|| ConfigError::Override(o.clone()))?;
        let mut probe = toml::Table::new();
        apply_override(&mut probe, &format!("v={value}"))?;
        if let Some(v) = probe.remove("v") {
            set.insert(key.trim().to_owned(), v);
        }
    }
    doc.insert("set".into(), toml::Value::Table(set));
    let list = |tables: &[toml::Table]| {
        toml::Value::Array(tables.iter().cloned().map(toml::Value::Table).collect())
    };
    if !file.exclude.is_empty() {
        doc.insert("exclude".into(), list(&file.exclude));
    }
    if !file.include.is_empty() {
        doc.insert("include".into(), list(&file.include));
    }
    toml::to_string(&doc).map_err(|e| ConfigError::invalid("(sweep)", e.to_string()))
}

/// The axes other than `seed` with their values, and the seeds (the base's seed
/// when there is no `seed` axis).
fn axes(table: &toml::Table, base: &toml::Table) -> Result<(Axes, Vec<u64>), ConfigError> {
    let mut axes = Vec::new();
    let mut seeds = None;
    for (key, values) in table {
        let field = format!("axes.\"{key}\"");
        let values = values.as_array().ok_or_else(|| {
            ConfigError::invalid(&field, "an axis is a list of values, e.g. [false, true]")
        })?;
        if values.is_empty() {
            return Err(ConfigError::invalid(
                &field,
                "the axis is empty: give at least one value",
            ));
        }
        match key.as_str() {
            "seed" => {
                let list = values
                    .iter()
                    .map(|v| v.as_integer().and_then(|i| u64::try_from(i).ok()))
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| ConfigError::invalid(&field, "seeds are whole numbers >= 0"))?;
                seeds = Some(list);
            }
            "objectives" => {
                for set in values {
                    for name in objective_names(set, &field)? {
                        find(name)?;
                    }
                }
                axes.push((key.clone(), values.clone()));
            }
            _ => axes.push((key.clone(), values.clone())),
        }
    }
    let base_seed = base
        .get("seed")
        .and_then(toml::Value::as_integer)
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(1234);
    Ok((axes, seeds.unwrap_or(vec![base_seed])))
}

/// The objective names of one value of the `objectives` axis.
pub(crate) fn objective_names<'a>(
    set: &'a toml::Value,
    field: &str,
) -> Result<Vec<&'a str>, ConfigError> {
    let names = set.as_array().and_then(|a| {
        a.iter()
            .map(toml::Value::as_str)
            .collect::<Option<Vec<&str>>>()
    });
    match names {
        Some(n) if !n.is_empty() => Ok(n),
        _ => Err(ConfigError::invalid(
            field,
            "each value is a non-empty list of objective names, e.g. [\"CLS\", \"MLM\"]",
        )),
    }
}

/// Every assignment of `axes`, the first axis varying slowest.
fn grid(axes: &Axes) -> Vec<Assignment> {
    axes.iter().fold(vec![Vec::new()], |points, (key, values)| {
        points
            .iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut next = p.clone();
                    next.push((key.clone(), v.clone()));
                    next
                })
            })
            .collect()
    })
}

/// Whether `point` has every value `partial` names.
fn matches(point: &Assignment, partial: &toml::Table) -> bool {
    partial
        .iter()
        .all(|(k, v)| point.iter().any(|(pk, pv)| pk == k && pv == v))
}

/// The point an `[[include]]` table describes: a value for every axis.
fn included(axes: &Axes, table: &toml::Table) -> Result<Assignment, ConfigError> {
    if let Some(extra) = table.keys().find(|k| !axes.iter().any(|(a, _)| a == *k)) {
        return Err(ConfigError::invalid(
            &format!("include.\"{extra}\""),
            "an included point gives values for the sweep's axes only",
        ));
    }
    axes.iter()
        .map(|(key, _)| {
            let value = table.get(key).ok_or_else(|| {
                ConfigError::invalid(
                    &format!("include.\"{key}\""),
                    "an included point needs a value for every axis",
                )
            })?;
            Ok((key.clone(), value.clone()))
        })
        .collect()
}

/// A readable folder name for `point`: `CLS+MLM_norm_first=true_CLS.detach=false`.
fn point_name(point: &Assignment) -> String {
    if point.is_empty() {
        return "base".into();
    }
    point
        .iter()
        .map(|(k, v)| axis_label(k, v))
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|c| match c {
            '/' | '\\' | ' ' | '"' | '\'' => '-',
            c => c,
        })
        .collect()
}

/// One axis value for people: a set of objectives as `CLS+MLM`, a recipe of stages
/// as `MLM+LA+NSP_then_CLS-freeze-encoder`, else `key=value` (the key without its
/// section).
pub fn axis_label(key: &str, value: &toml::Value) -> String {
    match (key, value) {
        ("objectives", toml::Value::Array(names)) => joined(names, "+"),
        ("stages", toml::Value::Array(stages)) => stages
            .iter()
            .map(|stage| {
                let objectives = stage.get("objectives");
                let mut label = match objectives {
                    Some(toml::Value::Array(names)) => joined(names, "+"),
                    Some(toml::Value::Table(t)) => t.keys().cloned().collect::<Vec<_>>().join("+"),
                    _ => "?".into(),
                };
                if let Some(toml::Value::Array(frozen)) = stage.get("freeze") {
                    if !frozen.is_empty() {
                        label = format!("{label}-freeze-{}", joined(frozen, "+"));
                    }
                }
                label
            })
            .collect::<Vec<_>>()
            .join("_then_"),
        (key, value) => {
            let key = ["model.", "train.", "data.", "objectives."]
                .iter()
                .find_map(|p| key.strip_prefix(p))
                .unwrap_or(key);
            let value = match value {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{key}={value}")
        }
    }
}

/// The strings of `items` joined by `sep`.
fn joined(items: &[toml::Value], sep: &str) -> String {
    items
        .iter()
        .filter_map(toml::Value::as_str)
        .collect::<Vec<_>>()
        .join(sep)
}

/// The experiment of `point` with `seed`: the base, the point's values, `[set]`,
/// then the command line's overrides.
pub(crate) fn point_experiment(
    base: &toml::Table,
    point: &Assignment,
    seed: u64,
    name: &str,
    set: &toml::Table,
    overrides: &[String],
) -> Result<Experiment, ConfigError> {
    let mut doc = base.clone();
    for (key, value) in point {
        if key == "objectives" {
            let field = "axes.objectives";
            let mut chosen = toml::Table::new();
            let own = doc.get("objectives").and_then(toml::Value::as_table);
            for name in objective_names(value, field)? {
                let table = own.and_then(|t| t.get(name)).cloned();
                chosen.insert(
                    name.to_owned(),
                    table.unwrap_or(toml::Value::Table(toml::Table::new())),
                );
            }
            doc.insert("objectives".into(), toml::Value::Table(chosen));
        } else if applies(&doc, key) {
            apply_override(&mut doc, &format!("{key}={value}"))?;
        }
    }
    for (key, value) in set {
        if let Some(owner) = set_key_owner(key) {
            return Err(ConfigError::invalid(
                &format!("set.{key}"),
                format!("`{key}` cannot be set here: {owner}"),
            ));
        }
        apply_override(&mut doc, &format!("{key}={value}"))?;
    }
    doc.insert("seed".into(), toml::Value::Integer(seed as i64));
    let run_name = format!("{name}-seed-{seed}");
    doc.insert("name".into(), toml::Value::String(run_name.clone()));
    let text = toml::to_string(&doc).map_err(|e| ConfigError::invalid("(point)", e.to_string()))?;
    Experiment::parse_unplaced(&text, &format!("sweep point {run_name}"), overrides)
}

/// Where the value of `key` comes from when `[set]` cannot give it (each run's seed
/// and name are the sweep's or the tune's own), `None` for an ordinary field.
fn set_key_owner(key: &str) -> Option<&'static str> {
    match key {
        "seed" => Some(
            "a sweep's runs take their seeds from its `seed` axis (or the base's `seed`), a \
             tune's trials from the base experiment's `seed` and its final runs from \
             `[final] seeds`; set it there",
        ),
        "name" => Some("each run is named after its point (or trial) and seed"),
        _ => None,
    }
}

/// Whether `key` belongs in `doc`: a field of an objective the point does not train
/// (`objectives.CLS.detach` without CLS) is left out rather than adding it.
fn applies(doc: &toml::Table, key: &str) -> bool {
    let Some(rest) = key.strip_prefix("objectives.") else {
        return true;
    };
    let objective = rest.split('.').next().unwrap_or(rest);
    doc.get("objectives")
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.contains_key(objective))
}

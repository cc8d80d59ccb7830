//! A tune's folder: the tune file it started with (kept, with the command line's
//! overrides and budget, so that a search started again is the same search), the
//! journal, the trials, and the search's figures.

use super::{figures, Journal, Search, Tune, TuneError};
use std::path::{Path, PathBuf};

/// The copy of the tune file a search keeps.
const SOURCE_FILE: &str = "tune.toml";
/// The search's figures, in the folder.
const FIGURES: [&str; 2] = ["best_vs_compute.png", "score_by_field.png"];

/// A tune's folder.
#[derive(Debug, Clone)]
pub struct TuneFolder {
    dir: PathBuf,
}

/// What keeping the tune file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// The first start: the file is kept now.
    New,
    /// The same search started again.
    Same,
    /// The same search with another budget: it goes on, longer or shorter.
    Budget,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> TuneError {
    move |source| TuneError::Io { what, source }
}

impl TuneFolder {
    /// The folder `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether it holds a search (its kept tune file and the journal).
    pub fn is_tune(&self) -> bool {
        self.dir.join(SOURCE_FILE).is_file() && self.dir.join(Journal::FILE).is_file()
    }

    /// Keeps the tune file at `path` and its `overrides` at the first start; refuses
    /// to go on with another file or other overrides.
    pub fn keep_source(
        &self,
        path: &Path,
        overrides: &[String],
        tune: &Tune,
    ) -> Result<Kept, TuneError> {
        let text =
            std::fs::read_to_string(path).map_err(io(format!("cannot read {}", path.display())))?;
        let header = KeptHeader::write(path, overrides, tune.schedule.budget);
        let kept = format!("{header}\n{text}");
        let file = self.dir.join(SOURCE_FILE);
        let write = || {
            xp_framework::files::write_atomic(&file, kept.as_bytes())
                .map_err(|e| TuneError::Folder(e.to_string()))
        };
        match std::fs::read_to_string(&file) {
            Ok(before)
                if before.lines().skip(1).eq(kept.lines().skip(1))
                    && KeptHeader::parse(&before).overrides
                        == KeptHeader::parse(&kept).overrides =>
            {
                if before == kept {
                    return Ok(Kept::Same);
                }
                write()?;
                Ok(Kept::Budget)
            }
            Ok(_) => Err(TuneError::Folder(format!(
                "{} holds a search of another tune file or other overrides (see {}): continue it with what it started with, or give another --out",
                self.dir.display(),
                file.display()
            ))),
            Err(_) => write().map(|()| Kept::New),
        }
    }

    /// The tune the folder's search started with (its kept file and overrides), with
    /// the budget it runs to.
    pub fn tune(&self) -> Result<Tune, TuneError> {
        let source = self.dir.join(SOURCE_FILE);
        let text = std::fs::read_to_string(&source).map_err(|_| {
            TuneError::Folder(format!(
                "{} is not a tune's folder (no {SOURCE_FILE}): give the folder `xp tune` made",
                self.dir.display()
            ))
        })?;
        let header = KeptHeader::parse(&text);
        let overrides: Vec<String> = serde_json::from_str(header.overrides).unwrap_or_default();
        let path = header.path;
        let mut tune = Tune::load(Path::new(path), &overrides).map_err(|e| {
            TuneError::Folder(format!(
                "cannot read the tune file the search started with ({path}): {e}"
            ))
        })?;
        if let Some(budget) = header.budget {
            tune.schedule.budget = budget;
        }
        Ok(tune)
    }

    /// The journal's events.
    pub fn journal(&self) -> Result<Vec<super::Event>, TuneError> {
        Journal::read(&self.dir).map_err(io(format!(
            "cannot read the journal of {}",
            self.dir.display()
        )))
    }

    /// The search so far, replayed from the journal.
    pub fn search(&self, tune: &Tune) -> Result<Search, TuneError> {
        let events = self.journal()?;
        Ok(Search::replay(&events, &tune.schedule))
    }

    /// Draws the search's figures; returns the files and what could not be drawn.
    pub fn draw_figures(
        &self,
        tune: &Tune,
        search: &Search,
    ) -> Result<(Vec<PathBuf>, Vec<String>), TuneError> {
        let events = self.journal()?;
        let [compute, fields] = FIGURES.map(|f| self.dir.join(f));
        let drawn = [
            (
                compute.clone(),
                xp_framework::run::draw(&compute, |p| figures::best_vs_compute(p, tune, &events)),
            ),
            (
                fields.clone(),
                xp_framework::run::draw(&fields, |p| figures::score_by_field(p, tune, search)),
            ),
        ];
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        for (path, result) in drawn {
            match result {
                Ok(()) => files.push(path),
                Err(e) => warnings.push(format!("{} not drawn: {e}", path.display())),
            }
        }
        Ok((files, warnings))
    }
}

/// The first line of a kept tune file: `# PATH (overrides: [...], budget: N)`.
struct KeptHeader<'a> {
    path: &'a str,
    /// The overrides as written (a JSON list of strings).
    overrides: &'a str,
    budget: Option<usize>,
}

impl<'a> KeptHeader<'a> {
    fn write(path: &Path, overrides: &[String], budget: usize) -> String {
        format!(
            "# {} (overrides: {overrides:?}, budget: {budget})",
            path.display()
        )
    }

    /// The header of the kept file `text` (empty parts where it is not one).
    fn parse(text: &'a str) -> Self {
        let first = text.lines().next().unwrap_or_default();
        let (path, settings) = first
            .trim_start_matches("# ")
            .split_once(" (overrides: ")
            .unwrap_or_default();
        let (overrides, budget) = settings.split_once(", budget: ").unwrap_or((settings, ""));
        Self {
            path,
            overrides,
            budget: budget.trim_end_matches(')').parse().ok(),
        }
    }
}

/// About how many trials a schedule's budget pays for, and about how many of them reach
/// the last rung.
pub fn expected_trials(tune: &Tune) -> (f64, f64) {
    let s = &tune.schedule;
    // A trial at rung r costs its steps there; about 1/eta^r of the trials get there.
    let per_trial: f64 = (0..s.rungs.len())
        .map(|r| s.cost(r) as f64 / (s.eta as f64).powi(r as i32))
        .sum();
    let trials = s.budget as f64 / per_trial;
    (
        trials,
        trials / (s.eta as f64).powi(s.rungs.len() as i32 - 1),
    )
}

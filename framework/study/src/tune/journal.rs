//! The search's state on disk: `tune.jsonl`, one event a line, only ever appended
//! (and flushed to disk) before what it records goes on. Read back, it gives the
//! search where it stood: every trial sampled, every job started and every result.

use super::tpe::Sample;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new trial and its sampled fields.
    Trial {
        /// Its number, from 1.
        id: usize,
        /// The sampled fields.
        sample: Sample,
    },
    /// Trial `id` starts training to rung `rung` (0-based).
    Start {
        /// The trial.
        id: usize,
        /// The rung it trains to.
        rung: usize,
    },
    /// Trial `id` reached rung `rung` with `score` (the monitored validation figure,
    /// lower is better: accuracies negated).
    Rung {
        /// The trial.
        id: usize,
        /// The rung.
        rung: usize,
        /// Its best monitored validation figure so far.
        score: f64,
        /// Whether its patience ran out (it trains no further).
        stopped_early: bool,
    },
    /// Trial `id` failed on its way to rung `rung`.
    Failed {
        /// The trial.
        id: usize,
        /// The rung it was training to.
        rung: usize,
        /// Why (the run's error).
        reason: String,
    },
}

/// The journal file.
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal's file name in the tune's folder.
    pub const FILE: &'static str = "tune.jsonl";

    /// The events of the journal in `dir`, read only (a search may be writing it): a
    /// last line not whole yet is left out.
    pub fn read(dir: &Path) -> std::io::Result<Vec<Event>> {
        Ok(Self::whole_events(dir)?.0)
    }

    /// The whole lines' events, and their length in bytes, and the file's length.
    fn whole_events(dir: &Path) -> std::io::Result<(Vec<Event>, usize, usize)> {
        let text = match std::fs::read_to_string(dir.join(Self::FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut events = Vec::new();
        let mut whole = 0;
        for line in text.split_inclusive('\n') {
            match serde_json::from_str(line.trim_end()) {
                Ok(event) if line.ends_with('\n') => {
                    events.push(event);
                    whole += line.len();
                }
                _ => break,
            }
        }
        Ok((events, whole, text.len()))
    }

    /// The journal of the tune in `dir`, to continue its search, and its events so far
    /// (a last line cut short by a kill is dropped, and cut off the file).
    pub fn open(dir: &Path) -> std::io::Result<(Self, Vec<Event>)> {
        let path = dir.join(Self::FILE);
        let (events, whole, len) = Self::whole_events(dir)?;
        if whole < len {
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.set_len(whole as u64)?;
        }
        Ok((Self { path }, events))
    }

    /// Appends `event` and flushes it to disk.
    pub fn append(&self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_back_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, events) = Journal::open(dir.path()).unwrap();
        assert!(events.is_empty());
        let written = [
            Event::Trial {
                id: 1,
                sample: Sample::from([("train.lr".into(), toml::Value::Float(1e-3))]),
            },
            Event::Start { id: 1, rung: 0 },
            Event::Rung {
                id: 1,
                rung: 0,
                score: -0.5,
                stopped_early: false,
            },
        ];
        for e in &written {
            journal.append(e).unwrap();
        }
        let path = dir.path().join(Journal::FILE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"event\":\"start\",\"id\":");
        std::fs::write(&path, &text).unwrap();
        let (_, events) = Journal::open(dir.path()).unwrap();
        assert_eq!(events, written);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
    }
}

//! Which corpus a command reads: `[data] dir`, else `$XP_DATA_DIR`, else the corpus
//! built into xp; and `xp data`, which says what that corpus holds and writes the built-in
//! one out.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use xp_framework::config::{DataConfig, Experiment};
use xp_framework::data::{language_files, Corpus, CorpusSource};

/// The corpus `data` names: its folder, else `$XP_DATA_DIR` (when the experiment does
/// not ask for the built-in corpus), else the built-in corpus. A folder must hold
/// language files.
pub fn resolve(data: &DataConfig) -> Result<CorpusSource> {
    let dir = match (&data.dir, data.embedded) {
        (Some(dir), _) => Some(dir.clone()),
        (None, true) => None,
        (None, false) => std::env::var_os("XP_DATA_DIR").map(PathBuf::from),
    };
    match dir {
        Some(dir) => {
            language_files(&dir)?;
            Ok(CorpusSource::Dir(dir))
        }
        None => Ok(CorpusSource::Embedded),
    }
}

/// `experiment` with its corpus stated ([`resolve`]), as the run records it.
pub fn with_corpus(mut experiment: Experiment) -> Result<Experiment> {
    let source = resolve(&experiment.data)?;
    experiment.data.set_source(&source);
    Ok(experiment)
}

/// `xp data [--dir DIR]`: where the corpus is and what it holds, per language.
pub fn show(dir: Option<PathBuf>) -> Result<()> {
    let data = DataConfig {
        dir,
        ..DataConfig::default()
    };
    let source = resolve(&data)?;
    let all = Corpus::load(&source, 1, usize::MAX).with_context(|| format!("reading {source}"))?;
    let kept = Corpus::load(&source, data.min_len, data.max_len)?;
    crate::commands::warn(&all.warnings);
    println!("corpus: {source}");
    println!("{}", provenance(&source)?);
    println!(
        "{:<12} {:>7} {:>9} {:>11}",
        "language", "names", "distinct", "kept 4..11"
    );
    let (counts, kept_counts) = (all.counts(), kept.counts());
    for (label, name) in all.labels.iter().enumerate() {
        let distinct: std::collections::HashSet<&str> = all
            .examples
            .iter()
            .filter(|e| e.label as usize == label)
            .map(|e| e.name.as_str())
            .collect();
        println!(
            "{name:<12} {:>7} {:>9} {:>11}",
            counts[label],
            distinct.len(),
            kept_counts[label]
        );
    }
    println!(
        "{:<12} {:>7} {:>9} {:>11}",
        "all",
        all.examples.len(),
        "",
        kept.examples.len()
    );
    println!("vocabulary (4..11): {} tokens", kept.vocab.len());
    Ok(())
}

/// Where the files come from, and for a folder whether they are the published ones.
fn provenance(source: &CorpusSource) -> Result<String> {
    let files = source.files()?;
    let differing: Vec<String> = files
        .iter()
        .filter(|f| known_sum(&f.language) != Some(hex_sha256(&f.bytes)))
        .map(|f| format!("{}.txt", f.language))
        .collect();
    let origin = xp_corpus::ORIGIN;
    Ok(match (source, differing.is_empty()) {
        (CorpusSource::Embedded, _) => format!("{} files built into xp: {origin}", files.len()),
        (CorpusSource::Dir(_), true) => {
            format!(
                "{} files, byte for byte the published ones ({origin})",
                files.len()
            )
        }
        (CorpusSource::Dir(_), false) => format!(
            "{} files; not the published copy ({origin}): {} differ or are not part of it",
            files.len(),
            differing.join(", ")
        ),
    })
}

fn known_sum(language: &str) -> Option<String> {
    xp_corpus::FILES
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, sum)| (*sum).to_owned())
}

fn hex_sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `xp data --write DIR`: the built-in corpus as 18 files in `dir`. A file of the same
/// name that holds other bytes is never overwritten.
pub fn write(dir: &Path) -> Result<()> {
    let files = xp_corpus::files()?;
    for file in &files {
        let path = dir.join(format!("{}.txt", file.language));
        match std::fs::read(&path) {
            Ok(bytes) if bytes != file.bytes => bail!(
                "{} exists and differs from the built-in file: move it away, or write to another folder",
                path.display()
            ),
            _ => {}
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in &files {
        let path = dir.join(format!("{}.txt", file.language));
        xp_framework::files::write_atomic(&path, &file.bytes)?;
    }
    println!(
        "wrote the {} files of the built-in corpus to {} (set [data] dir, or XP_DATA_DIR, to read them from there)",
        files.len(),
        dir.display()
    );
    Ok(())
}

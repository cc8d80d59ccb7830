//! `xp data [EXPERIMENT]`: what a run will see of its data; or the built-in corpus
//! written out.

use crate::resolve;
use crate::table::{Align, Table};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xp_framework::config::{apply_override, parse_table, DataConfig, Experiment};
use xp_framework::data::{prepare, thousands, DataReport, Dropped, Listing, SplitOrigin, Tally};

/// `xp data`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment whose data to report (default: the corpus built into xp, or
    /// the folder $XP_DATA_DIR names).
    experiment: Option<PathBuf>,
    /// Override a field: --set data.path=words.csv --set data.normalize=nfc
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "write")]
    set: Vec<String>,
    /// The whole report as JSON (the run folder's data.json).
    #[arg(long, conflicts_with = "write")]
    json: bool,
    /// A folder of class files; same as --set data.dir=DIR.
    #[arg(long, conflicts_with = "write")]
    dir: Option<PathBuf>,
    /// Write the 18 files of the built-in corpus into this folder.
    #[arg(long, value_name = "DIR")]
    write: Option<PathBuf>,
    /// Also write every kept text with its label and split, as the run reads them, to
    /// this CSV file (columns split, label, text[, id]): the same split for other tools.
    #[arg(long, value_name = "FILE", conflicts_with = "write")]
    split_csv: Option<PathBuf>,
}

/// Runs `xp data`.
pub fn run(mut args: Args) -> Result<()> {
    if let Some(dir) = &args.write {
        return write(dir);
    }
    let dir = args.dir.map(|d| format!("data.dir={:?}", d.display().to_string()));
    args.set.extend(dir);
    show(
        args.experiment.as_deref(),
        &args.set,
        args.json,
        args.split_csv.as_deref(),
    )
}

/// `xp data [EXPERIMENT] [--set k=v] [--json]`: what a run of `experiment` (else of
/// the default data) will see of its data.
fn show(
    experiment: Option<&Path>,
    overrides: &[String],
    json: bool,
    split_csv: Option<&Path>,
) -> Result<()> {
    let (data, seed) = match experiment {
        Some(path) => {
            let exp = resolve::with_corpus(Experiment::load(path, overrides)?);
            (exp.data, exp.seed)
        }
        None => (resolve::data(data_only(overrides)?), Experiment::DEFAULT_SEED),
    };
    let prepared = prepare(&data, seed)?;
    if let Some(path) = split_csv {
        write_split_csv(&prepared, path)?;
    }
    let report = prepared.report();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    resolve::warn(&report.warnings);
    print!("{}", describe(&report, &prepared.corpus.listing)?);
    Ok(())
}

/// The `[data]` of `overrides` alone (`--set data.path=words.csv`).
fn data_only(overrides: &[String]) -> Result<DataConfig> {
    let mut doc = toml::Table::new();
    for o in overrides {
        apply_override(&mut doc, o)?;
    }
    if let Some(other) = doc.keys().find(|k| *k != "data") {
        bail!("`{other}`: without an experiment, xp data takes [data] fields only (--set data.FIELD=VALUE)");
    }
    let table = match doc.remove("data") {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let data: DataConfig = parse_table(&table, "data")?;
    data.validate()?;
    Ok(data)
}

/// The report for a person.
fn describe(r: &DataReport, listing: &Listing) -> Result<String> {
    let mut out = format!("data: {}\n", r.source);
    out.push_str(&format!("{}\n", provenance(listing)?));
    let max = r.max_len.map_or("no limit".to_owned(), |m| m.to_string());
    out.push_str(&format!(
        "read as: {}; alphabet of {}; kept lengths {}..{max} tokens\n\n",
        r.normalization_words,
        match r.alphabet {
            xp_framework::data::Alphabet::Train => "the training split, [UNK] for the rest",
            xp_framework::data::Alphabet::All => "every kept text (no [UNK])",
        },
        r.min_len
    ));
    out.push_str(&tallies(r));
    if !r.not_read.is_empty() {
        out.push_str("\nnot read:\n");
        for n in &r.not_read {
            out.push_str(&format!("  {}: {}\n", n.path.display(), n.why));
        }
    }
    let l = &r.lengths;
    out.push_str(&format!(
        "\nlengths (tokens): min {}, median {}, 90% {}, 99% {}, max {}, mean {:.1}\n",
        l.min, l.p50, l.p90, l.p99, l.max, l.mean
    ));
    out.push_str(&split(r));
    out.push_str(&repeats(r));
    out.push_str(&alphabet(r));
    Ok(out)
}

/// Per file and class: read, kept, and dropped by reason.
fn tallies(r: &DataReport) -> String {
    let reasons: Vec<Dropped> = Dropped::ALL
        .into_iter()
        .filter(|d| r.total.dropped.contains_key(d))
        .collect();
    let mut header = vec!["file", "class", "read", "kept"];
    header.extend(reasons.iter().map(|d| d.words()));
    let truncated = r.total.truncated > 0;
    if truncated {
        header.push("truncated");
    }
    let mut align = vec![Align::Left, Align::Left];
    align.resize(header.len(), Align::Right);
    let mut table = Table::new(&header, &align);
    let cells = |file: String, class: String, t: &Tally| {
        let mut row = vec![file, class, thousands(t.read), thousands(t.kept)];
        row.extend(
            reasons
                .iter()
                .map(|d| thousands(t.dropped.get(d).copied().unwrap_or(0))),
        );
        if truncated {
            row.push(thousands(t.truncated));
        }
        row
    };
    for c in &r.classes {
        let file = Path::new(&c.file)
            .file_name()
            .map_or(c.file.clone(), |f| f.to_string_lossy().into_owned());
        let class = c
            .class
            .clone()
            .unwrap_or_else(|| match r.labels.is_empty() {
                true => "(unlabeled)".into(),
                false => "?".into(),
            });
        table.row(cells(file, class, &c.tally));
    }
    table.row(cells(
        "all".into(),
        format!("{} classes", r.labels.len()),
        &r.total,
    ));
    table.render()
}

fn split(r: &DataReport) -> String {
    let s = &r.split;
    let origin = match s.origin {
        SplitOrigin::Seeded => "xp's seeded split, stratified by label".to_owned(),
        SplitOrigin::Given {
            cut_valid,
            cut_test,
        } => {
            let mut o = "the data's own split".to_owned();
            if cut_valid {
                o.push_str("; validation cut from its training texts (data.valid)");
            }
            if cut_test {
                o.push_str("; test cut from its training texts (data.test)");
            }
            o
        }
    };
    let share = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    format!(
        "split: {} train, {} valid, {} test ({origin}); texts also in train: {} of valid ({:.1}%), {} of test ({:.1}%)\n",
        thousands(s.train),
        thousands(s.valid),
        thousands(s.test),
        thousands(s.valid_in_train),
        share(s.valid_in_train, s.valid),
        thousands(s.test_in_train),
        share(s.test_in_train, s.test),
    )
}

fn repeats(r: &DataReport) -> String {
    let p = &r.repeats;
    let mut out = format!(
        "repeats: {} texts written more than once under one label ({} extra copies); {} texts under two or more labels ({} records)\n",
        thousands(p.duplicated_texts),
        thousands(p.extra_copies),
        thousands(p.conflicting_texts),
        thousands(p.conflicting_records),
    );
    for c in &p.conflicts {
        out.push_str(&format!("  {:?}: {}\n", c.text, c.labels.join(", ")));
    }
    out
}

/// Tokens shown by name before the rest are only counted (all are in `--json`).
const SHOWN_TOKENS: usize = 80;

fn alphabet(r: &DataReport) -> String {
    let mut out = format!(
        "\nalphabet: {} tokens, {} ids with the specials; most frequent first (count; flags):\n",
        r.tokens.len(),
        r.vocab_size
    );
    let flagged = |t: &&xp_framework::data::TokenCount| !t.flags.is_empty();
    let shown: Vec<&xp_framework::data::TokenCount> = r
        .tokens
        .iter()
        .take(SHOWN_TOKENS)
        .chain(r.tokens.iter().skip(SHOWN_TOKENS).filter(flagged))
        .collect();
    let mut line = String::new();
    for t in &shown {
        let shown_as = match t
            .token
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace())
        {
            true => t.token.clone(),
            false => t.code_points.clone(),
        };
        let flags = match t.flags.is_empty() {
            true => String::new(),
            false => format!("; {}", t.flags.join(", ")),
        };
        let cell = format!("{shown_as} {}{flags}", thousands(t.total()));
        if !line.is_empty() && line.len() + cell.len() > 90 {
            out.push_str(&format!("  {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("   ");
        }
        line.push_str(&cell);
    }
    if !line.is_empty() {
        out.push_str(&format!("  {line}\n"));
    }
    if r.tokens.len() > shown.len() {
        out.push_str(&format!(
            "  ... and {} more (xp data --json lists every token)\n",
            r.tokens.len() - shown.len()
        ));
    }
    if r.unknown.valid + r.unknown.test > 0 {
        out.push_str(&format!(
            "unknown: {} tokens of valid and {} of test are not in the training texts and read as [UNK]: {}\n",
            thousands(r.unknown.valid),
            thousands(r.unknown.test),
            r.unknown.tokens.join(" ")
        ));
    }
    out
}

/// Where the files come from, and whether they are the published names corpus.
fn provenance(listing: &Listing) -> Result<String> {
    let origin = xp_corpus::ORIGIN;
    let mut published = 0;
    for file in &listing.files {
        let name = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let stem = name.as_deref().and_then(|n| n.strip_suffix(".txt"));
        // Only a file named like one of the corpus is read again, to hash it.
        if let Some(sum) = stem.and_then(known_sum) {
            if sum == xp_framework::files::sha256_hex(&file.bytes()?) {
                published += 1;
            }
        }
    }
    let n = listing.files.len();
    Ok(match (listing.files.first().map(|f| &f.origin), published) {
        (Some(xp_framework::data::Origin::Embedded(_)), _) => {
            format!("{n} files built into xp: {origin}")
        }
        (_, p) if p == n && n == xp_corpus::FILES.len() => {
            format!("{n} files, byte for byte the published names corpus ({origin})")
        }
        (_, 0) => format!("{n} file(s)"),
        (_, p) => format!("{n} files, {p} of them byte for byte files of the published names corpus ({origin})"),
    })
}

fn known_sum(language: &str) -> Option<String> {
    xp_corpus::FILES
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, sum)| (*sum).to_owned())
}

/// Every kept text of `prepared` in split order (train, valid, test) with its split and
/// label, written to `path` as CSV.
fn write_split_csv(prepared: &xp_framework::data::Prepared, path: &Path) -> Result<()> {
    let corpus = &prepared.corpus;
    let ids = corpus.examples.iter().any(|e| e.id.is_some());
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["split", "label", "text"];
    if ids {
        header.push("id");
    }
    out.write_record(&header)?;
    let mut written = 0;
    for (split, indices) in prepared.sets.named() {
        for &i in indices {
            let e = &corpus.examples[i];
            let label = corpus.labels.get(e.label as usize).map_or("", String::as_str);
            let mut row = vec![split, label, e.text.as_str()];
            if ids {
                row.push(e.id.as_deref().unwrap_or(""));
            }
            out.write_record(&row)?;
            written += 1;
        }
    }
    let bytes = out.into_inner().context("cannot write the split")?;
    xp_framework::files::write_atomic(path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {} ({written} texts)", path.display());
    Ok(())
}

/// `xp data --write DIR`: the built-in corpus as 18 files in `dir`. A file of the same
/// name that holds other bytes is never overwritten.
fn write(dir: &Path) -> Result<()> {
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

//! FASTA: a `>header` line, then the sequence over any number of lines (whitespace
//! inside it dropped); `;` lines are comments. The id is the header's first word; the
//! label, where `[data.fasta]` says, a field of the header or a pattern's capture.

use super::{split_lines, FileRecords, Record, Unreadable};
use crate::config::FastaConfig;
use crate::source::{Role, SourceFile};
use crate::DataError;
use regex::Regex;

/// The regular expression of `data.fasta.label_pattern`, which needs a capture group.
pub fn label_regex(pattern: &str) -> Result<Regex, DataError> {
    let invalid = |reason: String| DataError::Invalid {
        field: "data.fasta.label_pattern".into(),
        reason,
    };
    let regex =
        Regex::new(pattern).map_err(|e| invalid(format!("not a regular expression: {e}")))?;
    if regex.captures_len() < 2 {
        return Err(invalid(format!(
            "{pattern:?} has no capture group: put the label in parentheses, e.g. \"OS=(.+?) OX=\""
        )));
    }
    Ok(regex)
}

/// The records of a FASTA file.
pub fn read(
    file: &SourceFile,
    bytes: &[u8],
    config: &FastaConfig,
) -> Result<FileRecords, DataError> {
    let pattern = config
        .label_pattern
        .as_deref()
        .map(label_regex)
        .transpose()?;
    let labels = !matches!(file.role, Role::Class(_)) && config.labels();
    let mut out = FileRecords {
        unlabeled: (!labels).then(|| {
            format!(
                "{} is FASTA without a label rule: set data.fasta.label_field or data.fasta.label_pattern",
                file.path.display()
            )
        }),
        ..FileRecords::default()
    };
    let mut current: Option<(Record, bool)> = None;
    let finish = |out: &mut FileRecords, current: Option<(Record, bool)>| {
        if let Some((record, readable)) = current {
            match readable {
                true => out.records.push(record),
                false => out.unreadable.push(Unreadable {
                    line: record.line,
                    reason: "not UTF-8 text".into(),
                }),
            }
        }
    };
    for (line, raw) in split_lines(bytes) {
        let text = std::str::from_utf8(raw);
        if let Some(header) = raw.strip_prefix(b">") {
            finish(&mut out, current.take());
            let header = String::from_utf8_lossy(header).into_owned();
            let label = labels
                .then(|| label_of(&header, config, pattern.as_ref()))
                .flatten();
            let record = Record {
                text: String::new(),
                label,
                split: None,
                id: header.split_whitespace().next().map(str::to_owned),
                line,
            };
            current = Some((record, text.is_ok()));
            continue;
        }
        if raw.starts_with(b";") || raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match current.as_mut() {
            Some((record, readable)) => match text {
                Ok(t) => record.text.extend(t.chars().filter(|c| !c.is_whitespace())),
                Err(_) => *readable = false,
            },
            None => out.unreadable.push(Unreadable {
                line,
                reason: "sequence before the first `>` header".into(),
            }),
        }
    }
    finish(&mut out, current);
    Ok(out)
}

/// The label a header gives under `config`.
fn label_of(header: &str, config: &FastaConfig, pattern: Option<&Regex>) -> Option<String> {
    if let Some(regex) = pattern {
        return regex
            .captures(header)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned());
    }
    let n = config.label_field?.checked_sub(1)?;
    let field = match config.separator.as_deref() {
        Some(sep) => header.split(sep).nth(n),
        None => header.split_whitespace().nth(n),
    };
    field.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Format;
    use crate::source::Origin;

    fn file(role: Role) -> SourceFile {
        SourceFile {
            path: "p.fasta".into(),
            format: Format::Fasta,
            role,
            origin: Origin::Disk,
        }
    }

    const UNIPROT: &str = ">sp|P69905|HBA_HUMAN Hemoglobin alpha OS=Homo sapiens OX=9606\nMVLSPADKTN\nVKAAWGKVGA\n;comment\n>sp|P01942|HBA_MOUSE Hemoglobin alpha OS=Mus musculus OX=10090\nMVLSGEDKSN IKAAWGKIGG\n\n>sp|X|EMPTY none\n";

    #[test]
    fn sequences_span_lines_and_labels_come_from_a_field() {
        let config = FastaConfig {
            label_field: Some(3),
            separator: Some("|".into()),
            label_pattern: None,
        };
        let out = read(&file(Role::Mixed), UNIPROT.as_bytes(), &config).unwrap_or_default();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = out
            .records
            .iter()
            .map(|r| (r.text.as_str(), r.label.as_deref(), r.id.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "MVLSPADKTNVKAAWGKVGA",
                    Some("HBA_HUMAN Hemoglobin alpha OS=Homo sapiens OX=9606"),
                    Some("sp|P69905|HBA_HUMAN")
                ),
                (
                    "MVLSGEDKSNIKAAWGKIGG",
                    Some("HBA_MOUSE Hemoglobin alpha OS=Mus musculus OX=10090"),
                    Some("sp|P01942|HBA_MOUSE")
                ),
                ("", Some("EMPTY none"), Some("sp|X|EMPTY")),
            ]
        );
        assert_eq!(out.records[1].line, 5);
    }

    #[test]
    fn a_pattern_captures_the_label() {
        let config = FastaConfig {
            label_pattern: Some("OS=(.+?) OX=".into()),
            ..FastaConfig::default()
        };
        let out = read(&file(Role::Mixed), UNIPROT.as_bytes(), &config).unwrap_or_default();
        let labels: Vec<Option<&str>> = out.records.iter().map(|r| r.label.as_deref()).collect();
        assert_eq!(labels, [Some("Homo sapiens"), Some("Mus musculus"), None]);
        assert!(label_regex("OS=.+").is_err());
    }

    #[test]
    fn without_a_rule_the_file_is_unlabeled_and_stray_lines_are_named() {
        let out = read(
            &file(Role::Mixed),
            b"ACGT\n>r1\nAC\nGT\n",
            &FastaConfig::default(),
        )
        .unwrap_or_default();
        assert_eq!(out.records[0].text, "ACGT");
        assert_eq!(out.unreadable[0].line, 1);
        assert!(out.unlabeled.is_some());
    }
}

//! CSV and TSV with a header row, read with the `csv` crate: quoted fields, commas,
//! tabs and line ends inside quotes, `\r\n` line ends.

use super::{line_of, split_value, FileRecords, Record, Unreadable, Wanted};
use crate::config::Columns;
use crate::source::SourceFile;
use crate::DataError;

/// The records of a table whose fields are separated by `delimiter`.
pub fn read(
    file: &SourceFile,
    bytes: &[u8],
    delimiter: u8,
    columns: &Columns,
) -> Result<FileRecords, DataError> {
    let layout = |reason: String| DataError::Layout {
        path: file.path.clone(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| layout(format!("its header row does not read: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let wanted = Wanted::new(columns);
    let find = |(name, named): (&str, bool), field: &str| -> Result<Option<usize>, DataError> {
        match (header.iter().position(|h| h == name), named) {
            (Some(i), _) => Ok(Some(i)),
            (None, false) => Ok(None),
            (None, true) => Err(layout(format!(
                "no column `{name}` (data.columns.{field}); its columns: {}",
                header.join(", ")
            ))),
        }
    };
    let text = find(wanted.text, "text")?.ok_or_else(|| {
        layout(format!(
            "no column `{}` for the texts; its columns: {}: name the text column with data.columns.text",
            wanted.text.0,
            header.join(", ")
        ))
    })?;
    let (label, split, id) = (
        find(wanted.label, "label")?,
        find(wanted.split, "split")?,
        find(wanted.id, "id")?,
    );
    let mut out = FileRecords {
        unlabeled: label.is_none().then(|| {
            format!(
                "{} has no column `{}` (its columns: {}): name the label column with data.columns.label",
                file.path.display(),
                wanted.label.0,
                header.join(", ")
            )
        }),
        ..FileRecords::default()
    };
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                out.unreadable.push(Unreadable {
                    line: e.position().map_or(0, |p| start_line(bytes, p)),
                    reason: reason(&e),
                });
                continue;
            }
        };
        let line = row.position().map_or(0, |p| start_line(bytes, p));
        let cell = |i: Option<usize>| i.and_then(|i| row.get(i)).filter(|v| !v.is_empty());
        let split = match cell(split) {
            Some(value) => Some(split_value(value).ok_or_else(|| DataError::BadSplit {
                path: file.path.clone(),
                line,
                value: value.to_owned(),
            })?),
            None => None,
        };
        out.records.push(Record {
            text: cell(Some(text)).unwrap_or_default().to_owned(),
            label: cell(label).map(str::to_owned),
            split,
            id: cell(id).map(str::to_owned),
            line,
        });
    }
    Ok(out)
}

/// The 1-based line where the record at `position` starts (the `csv` crate's own line
/// count runs one behind after `\r\n` line ends).
fn start_line(bytes: &[u8], position: &csv::Position) -> usize {
    let mut at = position.byte() as usize;
    while bytes.get(at).is_some_and(|b| *b == b'\r' || *b == b'\n') {
        at += 1;
    }
    line_of(bytes, at)
}

/// A row's error in words.
fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Format;
    use crate::source::{Origin, Role};

    fn file() -> SourceFile {
        SourceFile {
            path: "words.csv".into(),
            format: Format::Csv,
            role: Role::Mixed,
            origin: Origin::Disk,
        }
    }

    #[test]
    fn quotes_commas_and_line_ends_inside_fields_read_as_written() {
        let lf = "id,text,label\n1,\"Gómez, Jr.\",\"Spanish, old\"\n2,\"two\nlines\",Zulu\n3,short\n4,ok,Zulu\n";
        for csv in [lf.to_owned(), lf.replace('\n', "\r\n")] {
            rows_read_as_written(&csv);
        }
    }

    fn rows_read_as_written(csv: &str) {
        // A line end inside quotes is part of the text, as written.
        let embedded_line_end = match csv.contains('\r') {
            true => "two\r\nlines",
            false => "two\nlines",
        };
        let out = read(&file(), csv.as_bytes(), b',', &Columns::default()).unwrap_or_default();
        let texts: Vec<(&str, Option<&str>, usize)> = out
            .records
            .iter()
            .map(|r| (r.text.as_str(), r.label.as_deref(), r.line))
            .collect();
        assert_eq!(
            texts,
            [
                ("Gómez, Jr.", Some("Spanish, old"), 2),
                (embedded_line_end, Some("Zulu"), 3),
                ("ok", Some("Zulu"), 6)
            ]
        );
        assert_eq!(out.records[0].id.as_deref(), Some("1"));
        assert_eq!(out.unreadable.len(), 1);
        assert_eq!(out.unreadable[0].line, 5);
        assert!(
            out.unreadable[0]
                .reason
                .contains("2 fields where the header has 3"),
            "{:?}",
            out.unreadable
        );
    }

    #[test]
    fn a_missing_column_is_named_with_the_columns_there() {
        let tsv = "seq\tfamily\nMKV\tkinase\n";
        let err = read(&file(), tsv.as_bytes(), b'\t', &Columns::default()).err();
        assert!(err.is_some_and(|e| e
            .to_string()
            .contains("no column `text` for the texts; its columns: seq, family")));
        let columns = Columns {
            text: Some("seq".into()),
            ..Columns::default()
        };
        let out = read(&file(), tsv.as_bytes(), b'\t', &columns).unwrap_or_default();
        assert_eq!(out.records[0].label, None);
        assert!(out
            .unlabeled
            .is_some_and(|u| u.contains("no column `label`")));
        let named = Columns {
            label: Some("fam".into()),
            ..columns
        };
        let err = read(&file(), tsv.as_bytes(), b'\t', &named).err();
        assert!(err.is_some_and(|e| e
            .to_string()
            .contains("no column `fam` (data.columns.label)")));
    }

    #[test]
    fn a_split_column_is_read_and_a_bad_value_named() {
        let csv = "text,label,split\na,x,train\nb,y,Validation\nc,x,test\n";
        let out = read(&file(), csv.as_bytes(), b',', &Columns::default()).unwrap_or_default();
        let splits: Vec<Option<SplitName>> = out.records.iter().map(|r| r.split).collect();
        use crate::split::SplitName;
        assert_eq!(
            splits,
            [
                Some(SplitName::Train),
                Some(SplitName::Valid),
                Some(SplitName::Test)
            ]
        );
        let err = read(&file(), b"text,split\na,tst\n", b',', &Columns::default()).err();
        assert!(err.is_some_and(|e| e.to_string().contains("line 2: split \"tst\"")));
    }
}

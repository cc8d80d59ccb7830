//! JSON lines: one object per line, the text, label, split and id under their keys.

use super::{split_lines, split_value, FileRecords, Record, Unreadable, Wanted};
use crate::config::Columns;
use crate::source::SourceFile;
use crate::DataError;
use serde_json::{Map, Value};

/// The records of a JSON-lines file; blank lines are skipped.
pub fn read(file: &SourceFile, bytes: &[u8], columns: &Columns) -> Result<FileRecords, DataError> {
    let wanted = Wanted::new(columns);
    let mut out = FileRecords::default();
    let (mut labeled, mut first_keys) = (false, None);
    for (line, raw) in split_lines(bytes) {
        let unreadable = |reason: String| Unreadable { line, reason };
        let Ok(text) = std::str::from_utf8(raw) else {
            out.unreadable.push(unreadable("not UTF-8 text".into()));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                out.unreadable.push(unreadable("not a JSON object".into()));
                continue;
            }
            Err(e) => {
                out.unreadable.push(unreadable(format!("not JSON: {e}")));
                continue;
            }
        };
        first_keys.get_or_insert_with(|| object.keys().cloned().collect::<Vec<_>>().join(", "));
        let Some(body) = value(&object, wanted.text.0) else {
            out.unreadable.push(unreadable(format!(
                "no key `{}` for the text",
                wanted.text.0
            )));
            continue;
        };
        let label = value(&object, wanted.label.0);
        labeled |= label.is_some();
        let split = match value(&object, wanted.split.0) {
            Some(v) => Some(split_value(&v).ok_or_else(|| DataError::BadSplit {
                path: file.path.clone(),
                line,
                value: v.clone(),
            })?),
            None => None,
        };
        out.records.push(Record {
            text: body,
            label,
            split,
            id: value(&object, wanted.id.0),
            line,
        });
    }
    let keys = first_keys.unwrap_or_default();
    if out.records.is_empty() && !out.unreadable.is_empty() && !keys.is_empty() {
        return Err(DataError::Layout {
            path: file.path.clone(),
            reason: format!(
                "no line has the key `{}` for the text (the first line's keys: {keys}): name it with data.columns.text",
                wanted.text.0
            ),
        });
    }
    if !labeled {
        if wanted.label.1 {
            return Err(DataError::Layout {
                path: file.path.clone(),
                reason: format!(
                    "no line has the key `{}` (data.columns.label)",
                    wanted.label.0
                ),
            });
        }
        out.unlabeled = Some(format!(
            "no line of {} has the key `{}` (the first line's keys: {keys}): name the label key with data.columns.label",
            file.path.display(),
            wanted.label.0
        ));
    }
    Ok(out)
}

/// The value under `key` as text: a string as it is, a number or boolean as JSON
/// writes it, nothing for null or a missing key.
fn value(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Format;
    use crate::source::{Origin, Role};

    fn file() -> SourceFile {
        SourceFile {
            path: "seqs.jsonl".into(),
            format: Format::Jsonl,
            role: Role::Mixed,
            origin: Origin::Disk,
        }
    }

    #[test]
    fn objects_give_their_fields_and_bad_lines_are_named() {
        let text = "{\"text\":\"Ærø\",\"label\":\"da\",\"id\":7}\n\n[1]\n{\"text\": \"x\"\n{\"label\":\"de\"}\n{\"text\":\"Øst\",\"label\":null,\"split\":\"dev\"}\n";
        let out = read(&file(), text.as_bytes(), &Columns::default()).unwrap_or_default();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].text, "Ærø");
        assert_eq!(out.records[0].id.as_deref(), Some("7"));
        assert_eq!(out.records[1].label, None);
        assert_eq!(out.records[1].split, Some(crate::split::SplitName::Valid));
        let lines: Vec<usize> = out.unreadable.iter().map(|u| u.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(out.unlabeled.is_none());
    }

    #[test]
    fn a_misnamed_text_key_is_a_clear_error() {
        let err = read(&file(), b"{\"seq\":\"MKV\"}\n", &Columns::default()).err();
        assert!(err.is_some_and(|e| e
            .to_string()
            .contains("no line has the key `text` for the text (the first line's keys: seq)")));
    }
}

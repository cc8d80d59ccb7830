//! Plain text, one record per line: a class file, or unlabeled texts.

use super::{split_lines, FileRecords, Record, Unreadable};

/// Every line of `bytes` (a byte-order mark already gone); a line that is not UTF-8 is
/// unreadable, a blank one an empty text.
pub fn read(bytes: &[u8]) -> FileRecords {
    let mut out = FileRecords {
        unlabeled: Some("a file of plain lines has no labels".into()),
        ..FileRecords::default()
    };
    for (line, raw) in split_lines(bytes) {
        match std::str::from_utf8(raw) {
            Ok(text) => out.records.push(Record {
                text: text.to_owned(),
                label: None,
                split: None,
                id: None,
                line,
            }),
            Err(_) => out.unreadable.push(Unreadable {
                line,
                reason: "not UTF-8 text".into(),
            }),
        }
    }
    if out.records.iter().all(|r| r.text.trim().is_empty()) && out.unreadable.is_empty() {
        out.records.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_characters_and_numbers() {
        let out = read(b"Smit\r\n\nBad\xffName\n  Jan-2 \n");
        let texts: Vec<(usize, &str)> = out
            .records
            .iter()
            .map(|r| (r.line, r.text.as_str()))
            .collect();
        assert_eq!(texts, [(1, "Smit"), (2, ""), (4, "  Jan-2 ")]);
        assert_eq!(
            out.unreadable,
            [Unreadable {
                line: 3,
                reason: "not UTF-8 text".into()
            }]
        );
    }

    #[test]
    fn blank_lines_alone_are_no_records() {
        assert!(read(b"\n  \n").records.is_empty());
        assert!(read(b"").records.is_empty());
    }
}

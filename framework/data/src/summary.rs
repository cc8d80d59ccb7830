//! The report in one line, as `xp run` prints it before training.

use crate::config::Alphabet;
use crate::split::SplitOrigin;
use crate::DataReport;

/// `12345` as `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl DataReport {
    /// What was read, kept, dropped and split, in one line.
    pub fn summary(&self) -> String {
        let t = &self.total;
        let mut dropped: Vec<String> = t
            .dropped
            .iter()
            .map(|(reason, n)| format!("{} {}", thousands(*n), reason.words()))
            .collect();
        if t.truncated > 0 {
            dropped.push(format!("{} truncated and kept", thousands(t.truncated)));
        }
        let dropped = match (t.dropped_total(), dropped.is_empty()) {
            (_, true) => String::new(),
            (0, false) => format!(" ({})", dropped.join(", ")),
            (n, false) => format!(" ({} dropped: {})", thousands(n), dropped.join(", ")),
        };
        let classes = match self.labels.len() {
            0 => "unlabeled".to_owned(),
            n => format!("{n} classes"),
        };
        let unk = match self.alphabet {
            Alphabet::Train => " + [UNK]",
            Alphabet::All => "",
        };
        let alphabet = self.vocab_size - self.specials();
        let origin = match self.split.origin {
            SplitOrigin::Seeded => "seeded".to_owned(),
            SplitOrigin::Given {
                cut_valid,
                cut_test,
            } => {
                let cut: Vec<&str> = [(cut_valid, "valid"), (cut_test, "test")]
                    .into_iter()
                    .filter_map(|(c, n)| c.then_some(n))
                    .collect();
                match cut.is_empty() {
                    true => "the data's own".to_owned(),
                    false => format!("the data's own; {} cut from train", cut.join(" and ")),
                }
            }
        };
        let conflicts = match self.repeats.conflicting_texts {
            0 => String::new(),
            n => format!("; {} texts under two or more labels", thousands(n)),
        };
        let unknown = match self.unknown.valid + self.unknown.test {
            0 => String::new(),
            n => format!("; {} valid/test tokens read as [UNK]", thousands(n)),
        };
        format!(
            "{}: {} read, {} kept{dropped}; {classes}; normalize {}; {alphabet} tokens{unk}{unknown}; split {} / {} / {} ({origin}){conflicts}",
            self.source,
            thousands(t.read),
            thousands(t.kept),
            self.normalization.name(),
            thousands(self.split.train),
            thousands(self.split.valid),
            thousands(self.split.test),
        )
    }

    /// How many ids of the vocabulary are specials.
    fn specials(&self) -> usize {
        xp_format::SPECIALS.len() + usize::from(self.alphabet == Alphabet::Train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

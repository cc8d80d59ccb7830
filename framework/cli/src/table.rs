//! Plain-text tables aligned by display width, so that labels and texts of any script
//! (wide CJK characters, combining marks) line up.

use unicode_width::UnicodeWidthStr;

/// How a column's cells stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Against the left edge (text).
    Left,
    /// Against the right edge (numbers).
    Right,
}

/// Rows of cells, drawn with every column as wide as its widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header, its columns aligned as `align` says.
    pub fn new(header: &[&str], align: &[Align]) -> Self {
        Self {
            align: align.to_vec(),
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, a line per row, columns two spaces apart.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.width())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let align = self.align.get(c).copied().unwrap_or(Align::Left);
                    pad(cell, widths[c], align)
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// `text` padded with spaces to `width` columns of the terminal.
pub fn pad(text: &str, width: usize, align: Align) -> String {
    let fill = " ".repeat(width.saturating_sub(text.width()));
    match align {
        Align::Left => format!("{text}{fill}"),
        Align::Right => format!("{fill}{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_line_up() {
        let mut t = Table::new(&["label", "n"], &[Align::Left, Align::Right]);
        t.row(vec!["日本語".into(), "3".into()]);
        t.row(vec!["Ame\u{301}lie, Jr.".into(), "12".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        let widths: Vec<usize> = lines.iter().map(|l| l.width()).collect();
        assert_eq!(widths, [15, 15, 15], "{lines:?}");
        assert!(lines[1].starts_with("日本語      "));
    }
}

//! Confusion matrix and per-class precision, recall and F1 of a class objective.

use crate::error::{Result, XpError};
use crate::train::Predictions;
use std::path::Path;

/// `matrix[true][predicted]` counts.
pub fn confusion_matrix(pairs: &[(u32, u32)], classes: usize) -> Vec<Vec<usize>> {
    let mut m = vec![vec![0; classes]; classes];
    for &(predicted, truth) in pairs {
        if let Some(row) = m.get_mut(truth as usize) {
            if let Some(cell) = row.get_mut(predicted as usize) {
                *cell += 1;
            }
        }
    }
    m
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Right among those predicted as the class.
    pub precision: f64,
    /// Found among those of the class.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Examples of the class.
    pub support: usize,
}

/// The scores of every class of `matrix`.
pub fn per_class(matrix: &[Vec<usize>]) -> Vec<ClassScores> {
    (0..matrix.len())
        .map(|c| {
            let tp = matrix[c][c] as f64;
            let predicted: usize = matrix.iter().map(|row| row[c]).sum();
            let support: usize = matrix[c].iter().sum();
            let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

/// One text of a split as the predictions file names it: its id, if the data gives
/// ids, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowText {
    /// The id the data gives it.
    pub id: Option<String>,
    /// The text, as the model read it.
    pub text: String,
}

/// Writes `rows` (the header first) as CSV to `path`, atomically.
fn write_csv(path: &Path, rows: impl IntoIterator<Item = Vec<String>>) -> Result<()> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(&row)
            .map_err(|e| XpError::Run(format!("cannot write {}: {e}", path.display())))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| XpError::Run(format!("cannot write {}: {e}", path.display())))?;
    crate::files::write_atomic(path, &bytes)
}

/// `confusion_NAME.csv`: a header of predicted classes, one row per true class.
pub fn write_confusion_csv(path: &Path, classes: &[String], matrix: &[Vec<usize>]) -> Result<()> {
    let header = std::iter::once("true\\predicted".to_owned()).chain(classes.iter().cloned());
    let rows = classes.iter().zip(matrix).map(|(name, row)| {
        std::iter::once(name.clone())
            .chain(row.iter().map(usize::to_string))
            .collect()
    });
    write_csv(path, std::iter::once(header.collect()).chain(rows))
}

/// A `confusion_NAME.csv`: the class names and the counts, a row per true class.
pub fn read_confusion_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<usize>>)> {
    let bad = |why: String| XpError::Run(format!("{}: {why}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let classes: Vec<String> = reader
        .headers()
        .map_err(|e| bad(format!("no header: {e}")))?
        .iter()
        .skip(1)
        .map(str::to_owned)
        .collect();
    let mut matrix = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {} does not read: {e}", i + 1)))?;
        let counts: Vec<usize> = record
            .iter()
            .skip(1)
            .map(|c| c.trim().parse())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(format!("row {} is not counts: {e}", i + 1)))?;
        if counts.len() != classes.len() {
            return Err(bad(format!(
                "row {} has {} counts for {} classes",
                i + 1,
                counts.len(),
                classes.len()
            )));
        }
        matrix.push(counts);
    }
    if matrix.len() != classes.len() {
        return Err(bad(format!(
            "{} rows for {} classes",
            matrix.len(),
            classes.len()
        )));
    }
    Ok((classes, matrix))
}

/// `SPLIT_predictions_NAME.csv`: each target of a split in split order, with its text
/// (and id, where the data gives ids), its true and its predicted class (what a paired
/// test between two runs of one seed reads), and the probability of every class
/// (`p_CLASS`, what an ensemble averages). `texts` are the split's texts in order; a
/// class objective with other targets than one per text writes no text.
pub fn write_predictions_csv(
    path: &Path,
    classes: &[String],
    predictions: &Predictions,
    texts: &[RowText],
) -> Result<()> {
    let name = |c: u32| {
        classes
            .get(c as usize)
            .map_or("?", String::as_str)
            .to_owned()
    };
    let pairs = &predictions.pairs;
    let texts = (texts.len() == pairs.len()).then_some(texts);
    let ids = texts.is_some_and(|t| t.iter().any(|t| t.id.is_some()));
    let mut header = vec!["row".to_owned()];
    if ids {
        header.push("id".into());
    }
    if texts.is_some() {
        header.push("text".into());
    }
    header.extend(["true".to_owned(), "predicted".to_owned()]);
    header.extend(classes.iter().map(|c| format!("{PROBABILITY_PREFIX}{c}")));
    let rows = pairs.iter().enumerate().map(|(row, (predicted, truth))| {
        let mut cells = vec![row.to_string()];
        if let Some(t) = texts.map(|t| &t[row]) {
            if ids {
                cells.push(t.id.clone().unwrap_or_default());
            }
            cells.push(t.text.clone());
        }
        cells.extend([name(*truth), name(*predicted)]);
        let probabilities = predictions.probabilities.get(row).into_iter().flatten();
        cells.extend(probabilities.map(f32::to_string));
        cells
    });
    write_csv(path, std::iter::once(header).chain(rows))
}

/// What the probability columns of a predictions file start with (`p_CLASS`).
pub const PROBABILITY_PREFIX: &str = "p_";

/// A predictions file read back (see [`write_predictions_csv`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionsTable {
    /// The classes, in the order of the probability columns.
    pub classes: Vec<String>,
    /// Each row's text and id; empty when the file has no text column.
    pub texts: Vec<RowText>,
    /// Each row's predicted and true class (indices into `classes`) and probabilities.
    pub predictions: Predictions,
}

/// Reads a `SPLIT_predictions_NAME.csv`, refusing one without probabilities (written
/// by an older xp) or with a class that is not among its columns.
pub fn read_predictions_csv(path: &Path) -> Result<PredictionsTable> {
    let bad = |why: String| XpError::Run(format!("{}: {why}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| {
        bad(format!(
            "cannot read ({e}): the run has no predictions of this split; run it again with this xp"
        ))
    })?;
    let header = reader
        .headers()
        .map_err(|e| bad(format!("no header: {e}")))?
        .clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(truth), Some(predicted)) = (column("true"), column("predicted")) else {
        return Err(bad("no `true` and `predicted` columns".into()));
    };
    let (id, text) = (column("id"), column("text"));
    let first = header
        .iter()
        .position(|h| h.starts_with(PROBABILITY_PREFIX))
        .ok_or_else(|| {
            bad("no class probabilities (written by an older xp): run it again with this xp".into())
        })?;
    let classes: Vec<String> = header
        .iter()
        .skip(first)
        .map(|h| h.strip_prefix(PROBABILITY_PREFIX).unwrap_or(h).to_owned())
        .collect();
    let class_of = |row: usize, name: &str| {
        classes
            .iter()
            .position(|c| c == name)
            .map(|c| c as u32)
            .ok_or_else(|| {
                bad(format!(
                    "row {row}: class `{name}` has no probability column"
                ))
            })
    };
    let mut table = PredictionsTable {
        classes: classes.clone(),
        texts: Vec::new(),
        predictions: Predictions::default(),
    };
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record.map_err(|e| bad(format!("row {row} does not read: {e}")))?;
        let cell = |at: usize| record.get(at).unwrap_or_default();
        let probabilities = (first..header.len())
            .map(|at| cell(at).parse::<f32>())
            .collect::<std::result::Result<Vec<f32>, _>>()
            .map_err(|e| bad(format!("row {row}: a probability does not read: {e}")))?;
        table
            .predictions
            .pairs
            .push((class_of(row, cell(predicted))?, class_of(row, cell(truth))?));
        table.predictions.probabilities.push(probabilities);
        if let Some(text) = text {
            table.texts.push(RowText {
                id: id.map(|at| cell(at).to_owned()).filter(|id| !id.is_empty()),
                text: cell(text).to_owned(),
            });
        }
    }
    Ok(table)
}

/// `classes_NAME.csv`: precision, recall, F1 and support per class.
pub fn write_scores_csv(path: &Path, classes: &[String], scores: &[ClassScores]) -> Result<()> {
    let header = ["class", "precision", "recall", "f1", "support"].map(String::from);
    let rows = classes.iter().zip(scores).map(|(name, s)| {
        vec![
            name.clone(),
            format!("{:.4}", s.precision),
            format!("{:.4}", s.recall),
            format!("{:.4}", s.f1),
            s.support.to_string(),
        ]
    });
    write_csv(path, std::iter::once(header.to_vec()).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_a_known_matrix() {
        let m = confusion_matrix(&[(0, 0), (0, 0), (1, 0), (1, 1), (0, 1)], 2);
        assert_eq!(m, vec![vec![2, 1], vec![1, 1]]);
        let s = per_class(&m);
        assert!((s[0].precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s[0].recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s[1].support, 2);
    }

    #[test]
    fn labels_with_commas_quotes_and_line_ends_survive_the_files(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let classes = vec![
            "a, b".to_owned(),
            "say \"hi\"".to_owned(),
            "日本\n語".to_owned(),
        ];
        let matrix = vec![vec![1, 0, 2], vec![0, 3, 0], vec![4, 0, 5]];
        let path = dir.path().join("confusion_CLS.csv");
        write_confusion_csv(&path, &classes, &matrix)?;
        assert_eq!(read_confusion_csv(&path)?, (classes.clone(), matrix));
        let preds = dir.path().join("test_predictions_CLS.csv");
        let texts = [("x,y", None), ("z", Some("id 2"))].map(|(t, id)| RowText {
            id: id.map(String::from),
            text: t.into(),
        });
        let predictions = Predictions {
            pairs: vec![(0, 1), (2, 2)],
            probabilities: vec![vec![0.5, 0.25, 0.25], vec![0.1, 0.2, 0.7]],
        };
        write_predictions_csv(&preds, &classes, &predictions, &texts)?;
        let mut reader = csv::Reader::from_path(&preds)?;
        assert_eq!(
            reader.headers()?.iter().collect::<Vec<_>>(),
            [
                "row",
                "id",
                "text",
                "true",
                "predicted",
                "p_a, b",
                "p_say \"hi\"",
                "p_日本\n語"
            ]
        );
        let rows: Vec<csv::StringRecord> =
            reader.records().collect::<std::result::Result<_, _>>()?;
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            ["0", "", "x,y", "say \"hi\"", "a, b", "0.5", "0.25", "0.25"]
        );
        let table = read_predictions_csv(&preds)?;
        assert_eq!(table.classes, classes);
        assert_eq!(table.texts, texts);
        assert_eq!(table.predictions, predictions);
        Ok(())
    }
}

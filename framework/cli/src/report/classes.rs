//! Confusion matrix and per-class precision, recall and F1 of a class objective.

use std::fmt::Write;
use std::path::Path;
use xp_framework::Result;

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

/// `confusion_NAME.csv`: a header of predicted classes, one row per true class.
pub fn write_confusion_csv(path: &Path, classes: &[String], matrix: &[Vec<usize>]) -> Result<()> {
    let mut out = format!("true\\predicted,{}\n", classes.join(","));
    for (name, row) in classes.iter().zip(matrix) {
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        let _ = writeln!(out, "{name},{}", cells.join(","));
    }
    xp_framework::files::write_atomic(path, out.as_bytes())
}

/// `test_predictions_NAME.csv`: each test target in split order, its true and its
/// predicted class (what a paired test between two runs of one seed reads).
pub fn write_predictions_csv(path: &Path, classes: &[String], pairs: &[(u32, u32)]) -> Result<()> {
    let name = |c: u32| classes.get(c as usize).map_or("?", String::as_str);
    let mut out = String::from("row,true,predicted\n");
    for (row, (predicted, truth)) in pairs.iter().enumerate() {
        let _ = writeln!(out, "{row},{},{}", name(*truth), name(*predicted));
    }
    xp_framework::files::write_atomic(path, out.as_bytes())
}

/// `classes_NAME.csv`: precision, recall, F1 and support per class.
pub fn write_scores_csv(path: &Path, classes: &[String], scores: &[ClassScores]) -> Result<()> {
    let mut out = String::from("class,precision,recall,f1,support\n");
    for (name, s) in classes.iter().zip(scores) {
        let _ = writeln!(
            out,
            "{name},{:.4},{:.4},{:.4},{}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    xp_framework::files::write_atomic(path, out.as_bytes())
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
}

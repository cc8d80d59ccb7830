//! TF-IDF features of token-id n-grams, the way ONNX's `TfIdfVectorizer` counts them:
//! contiguous windows of `min_n..=max_n` ids over a row with the end marker appended,
//! a window starting at the marker left out (so a padded row counts what its text has).

use std::collections::{HashMap, HashSet};

/// One text's features: `(column, value)` sorted by column, L2-normalised.
pub type SparseRow = Vec<(u32, f32)>;

/// The n-gram vocabulary fitted on training texts, with each n-gram's inverse document
/// frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramFeatures {
    lengths: (usize, usize),
    end: u32,
    grams: Vec<Vec<u32>>,
    idf: Vec<f32>,
    /// Each gram's column: derived from `grams`, which are private so the two agree.
    columns: HashMap<Vec<u32>, u32>,
}

impl NgramFeatures {
    /// The n-grams of `rows` found in at least `min_count` of them, with their IDF.
    pub fn fit(rows: &[&[u32]], lengths: (usize, usize), end: u32, min_count: usize) -> Self {
        let mut texts_with: HashMap<Vec<u32>, usize> = HashMap::new();
        for row in rows {
            let row = with_end(row, end);
            let grams: HashSet<&[u32]> = windows(&row, lengths).collect();
            for g in grams {
                *texts_with.entry(g.to_vec()).or_default() += 1;
            }
        }
        let mut grams: Vec<(Vec<u32>, usize)> = texts_with
            .into_iter()
            .filter(|(_, n)| *n >= min_count)
            .collect();
        grams.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        let texts = rows.len() as f64;
        let idf = grams
            .iter()
            .map(|(_, n)| (((1.0 + texts) / (1.0 + *n as f64)).ln() + 1.0) as f32)
            .collect();
        Self::new(
            lengths,
            end,
            grams.into_iter().map(|(g, _)| g).collect(),
            idf,
        )
    }

    /// Features of saved `grams` and `idf` (sorted by length then ids, as fitted).
    pub fn new(lengths: (usize, usize), end: u32, grams: Vec<Vec<u32>>, idf: Vec<f32>) -> Self {
        let columns = grams
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect();
        Self {
            lengths,
            end,
            grams,
            idf,
            columns,
        }
    }

    /// Shortest and longest n-gram.
    pub fn lengths(&self) -> (usize, usize) {
        self.lengths
    }

    /// The id appended to every row as its end (the padding id: a padded row's first
    /// pad is its end).
    pub fn end(&self) -> u32 {
        self.end
    }

    /// The n-grams, by length then ids; a gram's position is its column.
    pub fn grams(&self) -> &[Vec<u32>] {
        &self.grams
    }

    /// `ln((1 + texts) / (1 + texts with the gram)) + 1` per column (scikit-learn's
    /// smoothed IDF).
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.grams.len()
    }

    /// Whether no n-gram was kept.
    pub fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }

    /// The features of one row of token ids (its end marker not yet appended).
    pub fn transform(&self, row: &[u32]) -> SparseRow {
        let mut counts: HashMap<u32, f32> = HashMap::new();
        let row = with_end(row, self.end);
        for w in windows(&row, self.lengths) {
            if let Some(&c) = self.columns.get(w) {
                *counts.entry(c).or_default() += 1.0;
            }
        }
        let mut features: SparseRow = counts
            .into_iter()
            .map(|(c, n)| (c, n * self.idf[c as usize]))
            .collect();
        features.sort_by_key(|(c, _)| *c);
        let norm = features.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut features {
                *v /= norm;
            }
        }
        features
    }
}

fn with_end(row: &[u32], end: u32) -> Vec<u32> {
    let mut r = Vec::with_capacity(row.len() + 1);
    r.extend_from_slice(row);
    r.push(end);
    r
}

/// The windows of `lengths` over `row` that do not start at its last id (the end).
fn windows(row: &[u32], (min, max): (usize, usize)) -> impl Iterator<Item = &[u32]> {
    let starts = row.len().saturating_sub(1);
    (0..starts).flat_map(move |s| (min..=max).filter_map(move |n| row.get(s..s + n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_windows_with_the_end_marker_but_not_from_it() {
        let rows: Vec<&[u32]> = vec![&[1, 5, 6], &[1, 5]];
        let f = NgramFeatures::fit(&rows, (1, 2), 0, 1);
        // unigrams 1,5,6; bigrams (1,5),(5,0),(5,6),(6,0); never [0] or (0, _)
        assert_eq!(
            f.grams,
            vec![
                vec![1],
                vec![5],
                vec![6],
                vec![1, 5],
                vec![5, 0],
                vec![5, 6],
                vec![6, 0]
            ]
        );
        // `1` is in both texts: idf ln(3/3)+1 = 1; `6` in one: ln(3/2)+1.
        assert_eq!(f.idf[0], 1.0);
        assert!((f.idf[2] - (1.5f32.ln() + 1.0)).abs() < 1e-6);
        let row = f.transform(&[1, 5, 6]);
        let norm: f32 = row.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-6);
        assert_eq!(row.len(), 6, "{row:?}");
        assert!(f.transform(&[9, 9]).is_empty());
    }

    #[test]
    fn min_count_drops_rare_grams() {
        let rows: Vec<&[u32]> = vec![&[1, 5, 6], &[1, 5]];
        let f = NgramFeatures::fit(&rows, (1, 1), 0, 2);
        assert_eq!(f.grams, vec![vec![1], vec![5]]);
    }
}

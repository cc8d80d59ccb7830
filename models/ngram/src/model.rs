//! The n-gram baseline as one object: its features and its classifier, fitted on token
//! rows, saved as one safetensors file.

use crate::{FitReport, Logistic, NgramConfig, NgramError, NgramFeatures};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

/// A fitted n-gram classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramModel {
    /// How it was built.
    pub config: NgramConfig,
    /// Its n-gram columns.
    pub features: NgramFeatures,
    /// Its logistic regression.
    pub classifier: Logistic,
}

impl NgramModel {
    /// Fits `config` to the token rows `rows` (each as served: `[CLS]` first where the
    /// model reads it, no padding) and their `labels` in `0..classes`; `end` is the
    /// padding id, the rows' end marker.
    pub fn fit(
        config: &NgramConfig,
        rows: &[&[u32]],
        labels: &[u32],
        classes: usize,
        end: u32,
    ) -> Result<(Self, FitReport), NgramError> {
        config.check()?;
        let features =
            NgramFeatures::fit(rows, (config.min_n, config.max_n), end, config.min_count);
        let x: Vec<_> = rows.iter().map(|r| features.transform(r)).collect();
        let (classifier, report) = Logistic::fit(
            &x,
            labels,
            features.len(),
            classes,
            config.c,
            config.max_iterations,
        )?;
        let model = Self {
            config: config.clone(),
            features,
            classifier,
        };
        Ok((model, report))
    }

    /// Class logits of one token row.
    pub fn logits(&self, row: &[u32]) -> Vec<f32> {
        self.classifier.logits(&self.features.transform(row))
    }

    /// Class probabilities of one token row.
    pub fn probabilities(&self, row: &[u32]) -> Vec<f32> {
        self.classifier.probabilities(&self.features.transform(row))
    }

    /// Number of fitted parameters (weights and biases).
    pub fn parameters(&self) -> usize {
        self.classifier.weights.len() + self.classifier.bias.len()
    }

    /// Writes the model to `path` (safetensors: the n-grams, IDF, weights and biases;
    /// the configuration in its metadata).
    pub fn save(&self, path: &Path) -> Result<(), NgramError> {
        let bad = |why: String| NgramError::File {
            path: path.to_path_buf(),
            why,
        };
        let pool: Vec<u8> = self
            .features
            .grams()
            .iter()
            .flatten()
            .flat_map(|&id| i64::from(id).to_le_bytes())
            .collect();
        let lengths: Vec<u8> = self
            .features
            .grams()
            .iter()
            .flat_map(|g| (g.len() as u32).to_le_bytes())
            .collect();
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (idf, weights, bias) = (
            f32s(self.features.idf()),
            f32s(&self.classifier.weights),
            f32s(&self.classifier.bias),
        );
        let k = self.classifier.classes;
        let grams = self.features.len();
        fn view(dtype: Dtype, shape: Vec<usize>, data: &[u8]) -> Result<TensorView<'_>, String> {
            TensorView::new(dtype, shape, data).map_err(|e| e.to_string())
        }
        let tensors = vec![
            (
                "pool",
                view(Dtype::I64, vec![pool.len() / 8], &pool).map_err(bad)?,
            ),
            (
                "gram_lengths",
                view(Dtype::U32, vec![grams], &lengths).map_err(bad)?,
            ),
            ("idf", view(Dtype::F32, vec![grams], &idf).map_err(bad)?),
            (
                "weights",
                view(Dtype::F32, vec![grams, k], &weights).map_err(bad)?,
            ),
            ("bias", view(Dtype::F32, vec![k], &bias).map_err(bad)?),
        ];
        let config = serde_json::to_string(&self.config).map_err(|e| bad(e.to_string()))?;
        let metadata = HashMap::from([
            ("xp.ngram.config".to_owned(), config),
            ("xp.ngram.end".to_owned(), self.features.end().to_string()),
        ]);
        let bytes =
            safetensors::serialize(tensors, Some(metadata)).map_err(|e| bad(e.to_string()))?;
        std::fs::write(path, bytes).map_err(|e| bad(e.to_string()))
    }

    /// Reads a model [`NgramModel::save`] wrote.
    pub fn load(path: &Path) -> Result<Self, NgramError> {
        let bad = |why: String| NgramError::File {
            path: path.to_path_buf(),
            why: format!("{why}: not an n-gram model xp wrote; run the baseline again"),
        };
        let bytes = std::fs::read(path).map_err(|e| NgramError::File {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |k: &str| meta.get(k).ok_or_else(|| bad(format!("no {k}")));
        let config: NgramConfig =
            serde_json::from_str(field("xp.ngram.config")?).map_err(|e| bad(e.to_string()))?;
        let end: u32 = field("xp.ngram.end")?
            .parse()
            .map_err(|e: std::num::ParseIntError| bad(e.to_string()))?;
        let data = |name: &str, dtype: Dtype| {
            let t = st.tensor(name).map_err(|e| bad(e.to_string()))?;
            match t.dtype() == dtype {
                true => Ok(t.data().to_vec()),
                false => Err(bad(format!("{name} is {:?}", t.dtype()))),
            }
        };
        let words = |b: Vec<u8>| -> Vec<[u8; 4]> {
            b.chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect()
        };
        let f32s = |name: &str| {
            data(name, Dtype::F32).map(|b| {
                words(b)
                    .into_iter()
                    .map(f32::from_le_bytes)
                    .collect::<Vec<_>>()
            })
        };
        let pool: Vec<u32> = data("pool", Dtype::I64)?
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as u32)
            .collect();
        let lengths: Vec<usize> = words(data("gram_lengths", Dtype::U32)?)
            .into_iter()
            .map(|w| u32::from_le_bytes(w) as usize)
            .collect();
        if lengths.iter().sum::<usize>() != pool.len() {
            return Err(bad("the n-gram lengths do not add up to the pool".into()));
        }
        let mut at = 0;
        let grams = lengths
            .iter()
            .map(|&n| {
                at += n;
                pool[at - n..at].to_vec()
            })
            .collect::<Vec<_>>();
        let (idf, weights, bias) = (f32s("idf")?, f32s("weights")?, f32s("bias")?);
        let classes = bias.len();
        if idf.len() != grams.len() || weights.len() != grams.len() * classes {
            return Err(bad("its tensors disagree in size".into()));
        }
        Ok(Self {
            features: NgramFeatures::new((config.min_n, config.max_n), end, grams, idf),
            config,
            classifier: Logistic {
                classes,
                weights,
                bias,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_the_same_model_and_refuses_a_corrupt_file() {
        let rows: Vec<&[u32]> = vec![&[1, 5, 6], &[1, 5, 5], &[1, 7, 8], &[1, 8, 7]];
        let (model, _) =
            NgramModel::fit(&NgramConfig::default(), &rows, &[0, 0, 1, 1], 2, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        model.save(&path).unwrap();
        assert_eq!(NgramModel::load(&path).unwrap(), model);
        assert!(model.probabilities(&[1, 5, 6])[0] > 0.5);
        std::fs::write(&path, b"garbage").unwrap();
        let e = NgramModel::load(&path).unwrap_err().to_string();
        assert!(e.contains("not an n-gram model"), "{e}");
    }
}

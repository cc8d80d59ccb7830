//! The n-gram model as ONNX nodes: the end marker appended to each padded row,
//! ONNX's `TfIdfVectorizer` counting the n-grams and weighting them by IDF, the L2
//! normalisation, and the linear layer. The pad id is the end marker, so a padded
//! row's first pad ends it and windows over later pads match no n-gram.

use crate::NgramModel;
use xp_models::onnx::{Attr, OnnxGraph};

/// Appends to `g` the nodes that compute the logits `(batch, classes)` of `model` from
/// `tokens` (`(batch, seq)` int64, padded with the model's end id); returns their name.
pub fn export_graph(g: &mut OnnxGraph, model: &NgramModel, tokens: &str) -> String {
    let features = &model.features;
    let shape = g.op("Shape", &[tokens], &[]);
    let (zero, one) = (g.const_i64(&[0], &[1]), g.const_i64(&[1], &[1]));
    let batch = g.op("Slice", &[&shape, &zero, &one], &[]);
    let column = g.op("Concat", &[&batch, &one], &[("axis", Attr::Int(0))]);
    let end = g.const_i64(&[i64::from(features.end())], &[1, 1]);
    let ends = g.op("Expand", &[&end, &column], &[]);
    let rows = g.op("Concat", &[tokens, &ends], &[("axis", Attr::Int(1))]);
    let (min_n, max_n) = features.lengths();
    // `ngram_counts[n - 1]` is where the n-grams start in the pool, for every n up to
    // the longest (the grams are sorted by length).
    let mut counts = Vec::with_capacity(max_n);
    let mut at = 0usize;
    for n in 1..=max_n {
        counts.push(at as i64);
        at += features.grams().iter().filter(|g| g.len() == n).count() * n;
    }
    let pool: Vec<i64> = features
        .grams()
        .iter()
        .flatten()
        .map(|&i| i64::from(i))
        .collect();
    let attrs = [
        ("mode", Attr::Str("TFIDF".into())),
        ("min_gram_length", Attr::Int(min_n as i64)),
        ("max_gram_length", Attr::Int(max_n as i64)),
        ("max_skip_count", Attr::Int(0)),
        ("ngram_counts", Attr::Ints(counts)),
        (
            "ngram_indexes",
            Attr::Ints((0..features.len() as i64).collect()),
        ),
        ("pool_int64s", Attr::Ints(pool)),
        ("weights", Attr::Floats(features.idf().to_vec())),
    ];
    let tfidf = g.op("TfIdfVectorizer", &[&rows], &attrs);
    let norm = g.op(
        "ReduceL2",
        &[&tfidf],
        &[("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))],
    );
    let tiny = g.const_f32(&[1e-12], &[]);
    let norm = g.op("Max", &[&norm, &tiny], &[]);
    let x = g.op("Div", &[&tfidf, &norm], &[]);
    let classifier = &model.classifier;
    let weights = g.const_f32(&classifier.weights, &[features.len(), classifier.classes]);
    let bias = g.const_f32(&classifier.bias, &[classifier.classes]);
    let product = g.op("MatMul", &[&x, &weights], &[]);
    g.op("Add", &[&product, &bias], &[])
}

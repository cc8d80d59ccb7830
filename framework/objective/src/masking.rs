//! BERT-style character masking, shared by every objective that reads masked names.
//!
//! The draws come from the batch's `mask_seed` (and `p`), so every objective masking
//! a batch at the same `p` gets the same result.
//!
//! In each name every character is chosen with probability `p`; when none or all are
//! chosen, exactly one random character is chosen instead. Chosen characters become
//! `[MASK]`. Then, for 15% of batches, the chosen positions instead get back their
//! true character (half of those batches) or a random character (the other half).

use crate::{NameBatch, MASK};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Share of batches whose chosen positions are not shown as `[MASK]`.
const UNMASKED_BATCHES: f64 = 0.15;

/// A masked batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The batch's rows with the chosen characters replaced.
    pub tokens: Vec<u32>,
    /// Flat indices (`row * seq_len + position`) of the chosen characters.
    pub positions: Vec<u32>,
    /// The true character at each chosen position.
    pub targets: Vec<u32>,
}

/// Masks `batch` with per-character probability `p`.
pub fn mask_characters(batch: &NameBatch, p: f64) -> Masked {
    let mut rng = SmallRng::seed_from_u64(batch.mask_seed ^ p.to_bits());
    let rng = &mut rng;
    let mut tokens = batch.tokens.clone();
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    for i in 0..batch.len() {
        let n = batch.lengths[i];
        let mut chosen: Vec<usize> = (0..n).filter(|_| rng.random_bool(p)).collect();
        if chosen.is_empty() || chosen.len() == n {
            chosen = vec![rng.random_range(0..n)];
        }
        for c in chosen {
            let flat = i * batch.seq_len + 1 + c;
            positions.push(flat as u32);
            targets.push(tokens[flat]);
        }
    }
    let replacement = rng.random::<f64>();
    for &flat in &positions {
        tokens[flat as usize] = if replacement >= UNMASKED_BATCHES {
            MASK
        } else if replacement < UNMASKED_BATCHES / 2.0 {
            tokens[flat as usize]
        } else {
            rng.random_range(batch.first_char_id..batch.vocab_size)
        };
    }
    Masked {
        tokens,
        positions,
        targets,
    }
}

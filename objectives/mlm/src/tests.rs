use xp_objective::MASK;
use xp_objective::{mask_characters, Masked, NameBatch};

fn batch(names: &[&str]) -> NameBatch {
    NameBatch::from_strs(names, 11).0
}

/// `b` masked at `p` under masking seed `seed`.
fn masked(b: &NameBatch, p: f64, seed: u64) -> Masked {
    let mut b = b.clone();
    b.mask_seed = seed;
    mask_characters(&b, p)
}

#[test]
fn one_seed_and_probability_give_one_masking() {
    let b = batch(&["Abe", "Smith", "Ivanovski", "Li", "Nakamura"]);
    assert_eq!(masked(&b, 0.15, 3), masked(&b, 0.15, 3));
    let differ = (0..20)
        .filter(|&s| masked(&b, 0.15, s) != masked(&b, 0.15, 3))
        .count();
    assert!(differ >= 18, "other seeds mask otherwise ({differ} of 20)");
}

#[test]
fn at_least_one_and_never_all_characters_are_chosen() {
    let b = batch(&["Abe", "Smith", "Ivanovski", "Li", "Nakamura"]);
    for seed in 0..500 {
        let m = masked(&b, 0.15, seed);
        for i in 0..b.len() {
            let row = (i * b.seq_len) as u32..((i + 1) * b.seq_len) as u32;
            let chosen = m.positions.iter().filter(|p| row.contains(p)).count();
            assert!(
                chosen >= 1 && chosen < b.lengths[i],
                "name {i}: {chosen} of {}",
                b.lengths[i]
            );
        }
        for (&p, &t) in m.positions.iter().zip(&m.targets) {
            assert_eq!(t, b.tokens[p as usize], "target is the original character");
            let pos = p as usize % b.seq_len;
            assert!(
                pos >= 1 && pos <= b.lengths[p as usize / b.seq_len],
                "only characters are chosen"
            );
        }
    }
}

#[test]
fn most_batches_show_mask_and_some_do_not() {
    let b = batch(&["Smith", "Ivanovski", "Nakamura", "Schmidt"]);
    let trials = 2000;
    let shown = (0..trials)
        .filter(|&seed| {
            let m = masked(&b, 0.15, seed);
            m.positions.iter().all(|&p| m.tokens[p as usize] == MASK)
        })
        .count();
    let rate = shown as f64 / trials as f64;
    assert!((rate - 0.85).abs() < 0.03, "share of [MASK] batches {rate}");
}

#[test]
fn choice_rate_is_near_the_probability() {
    let names = ["Ivanovski", "Nakamura", "Schmidt", "Kowalski"];
    let b = batch(&names);
    let chars: usize = b.lengths.iter().sum();
    let chosen: usize = (0..1000)
        .map(|seed| masked(&b, 0.3, seed).positions.len())
        .sum();
    let rate = chosen as f64 / (1000 * chars) as f64;
    assert!((rate - 0.3).abs() < 0.03, "rate {rate}");
}

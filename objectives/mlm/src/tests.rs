use rand::SeedableRng;
use xp_framework::data::MASK;
use xp_framework::objective::{mask_characters, NameBatch};
use xp_framework::SmallRng;

fn batch(names: &[&str]) -> NameBatch {
    NameBatch::from_strs(names, 11).0
}

#[test]
fn at_least_one_and_never_all_characters_are_chosen() {
    let b = batch(&["Abe", "Smith", "Ivanovski", "Li", "Nakamura"]);
    let mut rng = SmallRng::seed_from_u64(9);
    for _ in 0..500 {
        let m = mask_characters(&b, 0.15, &mut rng);
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
    let mut rng = SmallRng::seed_from_u64(1);
    let trials = 2000;
    let shown = (0..trials)
        .filter(|_| {
            let m = mask_characters(&b, 0.15, &mut rng);
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
    let mut rng = SmallRng::seed_from_u64(5);
    let chars: usize = b.lengths.iter().sum();
    let chosen: usize = (0..1000)
        .map(|_| mask_characters(&b, 0.3, &mut rng).positions.len())
        .sum();
    let rate = chosen as f64 / (1000 * chars) as f64;
    assert!((rate - 0.3).abs() < 0.03, "rate {rate}");
}

use super::*;
use xp_objective::SeedableRng;
use xp_objective::{CLS, PAD, SEP};

fn batch(names: &[&str]) -> (NameBatch, Vec<Vec<u32>>) {
    let (batch, vocab) = NameBatch::from_strs(names, 11);
    (
        batch,
        names.iter().map(|n| vocab.encode(n).unwrap()).collect(),
    )
}

/// `(first half, second half, segment ids)` of row `i`.
fn halves(p: &Prepared, i: usize) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let len = p.input.seq_len;
    let row = &p.input.tokens[i * len..(i + 1) * len];
    let seg = p.input.segments.as_ref().unwrap()[i * len..(i + 1) * len].to_vec();
    assert_eq!(row[0], CLS);
    assert_eq!(row.iter().filter(|&&t| t == SEP).count(), 1, "one [SEP]");
    let sep = row.iter().position(|&t| t == SEP).unwrap();
    let second = row[sep + 1..].iter().copied().take_while(|&t| t != PAD);
    (row[1..sep].to_vec(), second.collect(), seg)
}

#[test]
fn halves_are_the_name_in_or_out_of_order() {
    let (b, ids) = batch(&["Smith", "Ivanovskiii", "Tanaka", "Abe"]);
    let mut rng = SmallRng::seed_from_u64(2);
    for _ in 0..200 {
        let p = order_pairs(&b, 0.5, None, &mut rng);
        assert_eq!(p.input.seq_len, 13);
        for (i, name) in ids.iter().enumerate() {
            let (first, second, seg) = halves(&p, i);
            assert!(!first.is_empty() && !second.is_empty(), "no empty half");
            let (a, b_) = if p.targets[i] == 1 {
                (&second, &first)
            } else {
                (&first, &second)
            };
            assert_eq!([a.as_slice(), b_.as_slice()].concat(), *name);
            let sep = first.len() + 1;
            assert!(seg[..=sep].iter().all(|&s| s == 0), "segment A");
            assert!(seg[sep + 1..sep + 1 + second.len()].iter().all(|&s| s == 1));
            assert!(
                seg[sep + 1 + second.len()..].iter().all(|&s| s == 0),
                "pads"
            );
        }
    }
}

#[test]
fn swap_rate_is_near_the_probability() {
    let (b, _) = batch(&["Smith", "Ivanov", "Tanaka", "Nguyen", "Abels", "Rossi"]);
    let mut rng = SmallRng::seed_from_u64(4);
    let swapped: u32 = (0..500)
        .map(|_| {
            order_pairs(&b, 0.3, None, &mut rng)
                .targets
                .iter()
                .sum::<u32>()
        })
        .sum();
    let rate = swapped as f64 / (500 * b.len()) as f64;
    assert!((rate - 0.3).abs() < 0.03, "rate {rate}");
}

#[test]
fn a_single_name_batch_works() {
    // Unlike NSP, SOP needs no other name: batches of one are fine.
    let (b, ids) = batch(&["Smith"]);
    let p = order_pairs(&b, 1.0, None, &mut SmallRng::seed_from_u64(1));
    assert_eq!(p.targets, vec![1]);
    let (first, second, _) = halves(&p, 0);
    assert_eq!([second, first].concat(), ids[0]);
}

#[test]
fn lowercasing_hides_which_half_starts_the_name() {
    let (b, vocab) = NameBatch::from_strs(&["Smith", "Ivanov", "smith", "ivanov"], 11);
    let lower = lowercase_ids(&vocab);
    let mut rng = SmallRng::seed_from_u64(6);
    let p = order_pairs(&b, 0.5, Some(&lower), &mut rng);
    let capitals: Vec<u32> = ['S', 'I'].iter().map(|&c| vocab.id(c).unwrap()).collect();
    assert!(
        p.input.tokens.iter().all(|t| !capitals.contains(t)),
        "no capital left"
    );
    let specials = lower.iter().take(vocab.first_char_id() as usize);
    assert!(
        specials.enumerate().all(|(i, &l)| l == i as u32),
        "specials kept"
    );
    assert_eq!(
        lower[vocab.id('S').unwrap() as usize],
        vocab.id('s').unwrap()
    );
}

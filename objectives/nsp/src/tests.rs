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

#[test]
fn rows_have_one_sep_segments_and_real_tails() {
    let (b, ids) = batch(&["Smith", "Ivanovskiii", "Tanaka", "Nguyen", "Abe"]);
    let mut rng = SmallRng::seed_from_u64(2);
    for _ in 0..200 {
        let p = pair_up(&b, 0.5, &mut rng);
        let len = p.input.seq_len;
        assert_eq!(len, 13);
        let segments = p.input.segments.as_ref().unwrap();
        for i in 0..b.len() {
            let row = &p.input.tokens[i * len..(i + 1) * len];
            let seg = &segments[i * len..(i + 1) * len];
            assert_eq!(row[0], CLS);
            assert_eq!(row.iter().filter(|&&t| t == SEP).count(), 1, "one [SEP]");
            let sep = row.iter().position(|&t| t == SEP).unwrap();
            assert!(sep >= 2, "A is not empty");
            assert_eq!(
                &row[1..sep],
                &ids[i][..sep - 1],
                "A is the head of the name"
            );
            assert!(seg[..=sep].iter().all(|&s| s == 0));
            let tail: Vec<u32> = row[sep + 1..]
                .iter()
                .copied()
                .take_while(|&t| t != PAD)
                .collect();
            assert!(!tail.is_empty(), "B is not empty");
            assert!(seg[sep + 1..sep + 1 + tail.len()].iter().all(|&s| s == 1));
            if p.targets[i] == 0 {
                assert_eq!(
                    &tail[..],
                    &ids[i][sep - 1..][..tail.len()],
                    "kept B is the rest of the name"
                );
            } else {
                // The tail of another name, cut after its first character (maybe truncated).
                let from_other = ids.iter().enumerate().any(|(j, other)| {
                    j != i && (1..other.len()).any(|k| other[k..].starts_with(&tail))
                });
                assert!(from_other, "swapped B is another name's tail");
            }
        }
    }
}

#[test]
fn label_rate_is_near_the_probability() {
    let (b, _) = batch(&[
        "Smith", "Ivanov", "Tanaka", "Nguyen", "Abels", "Kowalski", "Rossi", "Dubois",
    ]);
    let mut rng = SmallRng::seed_from_u64(4);
    let swapped: u32 = (0..500)
        .map(|_| pair_up(&b, 0.3, &mut rng).targets.iter().sum::<u32>())
        .sum();
    let rate = swapped as f64 / (500 * b.len()) as f64;
    assert!((rate - 0.3).abs() < 0.03, "rate {rate}");
}

#[test]
fn a_single_name_is_never_swapped() {
    let (b, _) = batch(&["Smith"]);
    let p = pair_up(&b, 1.0, &mut SmallRng::seed_from_u64(1));
    assert_eq!(p.targets, vec![0]);
}

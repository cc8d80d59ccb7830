use super::*;
use crate::objective::EncoderIds;

/// `rows` rows of `seq` ids (`row * 10 + position`), a prediction at every
/// position listed in `at` (flat), its target the id there.
fn token_level(rows: usize, seq: usize, at: &[u32]) -> Prepared {
    let tokens: Vec<u32> = (0..rows * seq)
        .map(|i| (i / seq * 10 + i % seq) as u32)
        .collect();
    Prepared {
        positions: Some(at.to_vec()),
        targets: at.iter().map(|&p| tokens[p as usize]).collect(),
        input: EncoderIds {
            segments: Some(tokens.iter().map(|t| t % 2).collect()),
            tokens,
            seq_len: seq,
            causal: false,
        },
    }
}

/// One target per row.
fn row_level(rows: usize, seq: usize) -> Prepared {
    Prepared {
        input: EncoderIds {
            tokens: vec![1; rows * seq],
            seq_len: seq,
            segments: None,
            causal: true,
        },
        positions: None,
        targets: (0..rows as u32).collect(),
    }
}

#[test]
fn slices_hold_every_row_and_prediction_once_with_local_positions() {
    let (rows, seq) = (5, 4);
    let whole = [
        token_level(rows, seq, &[1, 2, 6, 9, 13, 17, 18]),
        row_level(rows, seq),
    ];
    let slices = Slices::new(&whole, 2);
    assert_eq!(slices.len(), 2);
    for (o, w) in whole.iter().enumerate() {
        let parts: Vec<&Prepared> = slices.parts.iter().map(|p| &p[o]).collect();
        assert_eq!(parts.iter().map(|p| p.rows()).sum::<usize>(), rows);
        let tokens: Vec<u32> = parts.iter().flat_map(|p| p.input.tokens.clone()).collect();
        assert_eq!(tokens, w.input.tokens);
        let targets: Vec<u32> = parts.iter().flat_map(|p| p.targets.clone()).collect();
        assert_eq!(targets, w.targets);
        for p in &parts {
            assert_eq!(p.input.causal, w.input.causal);
            assert_eq!(p.input.segments.is_some(), w.input.segments.is_some());
            // A position read in the slice's own tokens finds the same id.
            if let Some(positions) = &p.positions {
                for (pos, t) in positions.iter().zip(&p.targets) {
                    assert_eq!(p.input.tokens[*pos as usize], *t);
                }
            }
        }
        let shares: f64 = slices.shares.iter().map(|s| s[o]).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }
    // Shares follow the targets, not the rows: rows 0-1 hold 3 of the 7 positions.
    assert!((slices.shares[0][0] - 3.0 / 7.0).abs() < 1e-12);
    assert!((slices.shares[0][1] - 2.0 / 5.0).abs() < 1e-12);
}

#[test]
fn a_slice_without_targets_keeps_the_batch_whole() {
    // Every prediction sits in the first row: a second slice would have none.
    let whole = [token_level(4, 3, &[0, 1, 2])];
    let slices = Slices::new(&whole, 2);
    assert_eq!(slices.len(), 1);
    assert_eq!(slices.parts[0][0].targets, whole[0].targets);
    assert_eq!(slices.shares, vec![vec![1.0]]);
    // One slice asked for: the batch as it is.
    assert_eq!(Slices::new(&[row_level(3, 2)], 1).len(), 1);
}

#[test]
fn gradients_add_up_and_outputs_merge_by_shares() -> Result<()> {
    let device = Device::Cpu;
    let w = Var::new(&[1f32, 2.0], &device)?;
    let stores = [3.0, 5.0]
        .iter()
        .map(|k| (w.as_tensor() * *k)?.sum_all()?.backward())
        .collect::<Result<Vec<_>>>()?;
    let sum = sum_gradients(stores, std::slice::from_ref(&w))?;
    let g = sum
        .get(w.as_tensor())
        .expect("a gradient")
        .to_vec1::<f32>()?;
    assert_eq!(g, [8.0, 8.0]);

    let output = |loss: f32, logits: &[f32], target: u32| -> Result<ObjectiveOutput> {
        Ok(ObjectiveOutput {
            loss: Tensor::new(loss, &device)?,
            logits: Tensor::new(logits, &device)?.unsqueeze(0)?,
            targets: Tensor::new(&[target], &device)?,
        })
    };
    let merged = merge_outputs(
        vec![
            vec![output(1.0, &[0.0, 1.0], 1)?],
            vec![output(4.0, &[1.0, 0.0], 0)?],
        ],
        &[vec![0.75], vec![0.25]],
    )?;
    assert_eq!(merged.len(), 1);
    assert!((merged[0].loss.to_scalar::<f32>()? - 1.75).abs() < 1e-6);
    assert_eq!(merged[0].logits.dims(), [2, 2]);
    assert_eq!(merged[0].targets.to_vec1::<u32>()?, [1, 0]);
    Ok(())
}

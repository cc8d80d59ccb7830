use super::*;
use xp_objective::SeedableRng;
use xp_objective::MASK;

fn batch(names: &[&str]) -> NameBatch {
    NameBatch::from_strs(names, 11).0
}

fn cls(masked: bool) -> ClsConfig {
    ClsConfig {
        masked,
        ..Default::default()
    }
}

fn prepare(config: ClsConfig, b: &NameBatch) -> Prepared {
    prepare_seeded(config, b, 3)
}

fn prepare_seeded(config: ClsConfig, b: &NameBatch, seed: u64) -> Prepared {
    // The head is not used by `prepare`; build a tiny one.
    let vb = VarBuilder::zeros(candle_core::DType::F32, &candle_core::Device::Cpu);
    let kernels = xp_objective::Kernels::Fused;
    let head = xp_objective::Head::new(
        xp_objective::HeadSpec {
            dim: 4,
            n_out: 2,
            activation: xp_objective::Activation::Relu,
            dropout: 0.0,
            tied: None,
            kernels,
        },
        vb,
    );
    let objective = Cls {
        config,
        classifier: PooledClassifier::new(head.unwrap(), Pool::Start),
        labels: vec![],
    };
    let mut b = b.clone();
    b.mask_seed = seed;
    objective.prepare(&b, &mut SmallRng::seed_from_u64(seed))
}

#[test]
fn clean_input_is_the_batch_and_targets_are_labels() {
    let b = batch(&["Smith", "Ivanov", "Tanaka"]);
    let p = prepare(cls(false), &b);
    assert_eq!(p.input.tokens, b.tokens);
    assert_eq!(p.targets, vec![0, 1, 2]);
    assert!(p.positions.is_none() && !p.input.causal && p.input.segments.is_none());
}

#[test]
fn masked_input_only_changes_characters() {
    let b = batch(&["Smith", "Ivanov", "Tanaka", "Nguyen"]);
    let p = prepare(cls(true), &b);
    for (i, (got, orig)) in p.input.tokens.iter().zip(&b.tokens).enumerate() {
        let pos = i % b.seq_len;
        let is_char = pos >= 1 && pos <= b.lengths[i / b.seq_len];
        assert!(got == orig || is_char, "position {i} changed");
    }
    let masked = (0..20)
        .filter(|&s| {
            prepare_seeded(cls(true), &b, s)
                .input
                .tokens
                .contains(&MASK)
        })
        .count();
    assert!(masked >= 10, "most batches show [MASK]: {masked} of 20");
}

#[test]
fn eval_masked_false_masks_training_batches_only() {
    let b = batch(&["Smith", "Ivanov", "Tanaka", "Nguyen"]);
    let config = ClsConfig {
        eval_masked: false,
        ..cls(true)
    };
    // Evaluation batches are read clean, whatever the draw.
    for seed in 0..10 {
        assert_eq!(
            prepare_seeded(config.clone(), &b, seed).input.tokens,
            b.tokens
        );
    }
    // Training batches are masked exactly as with the default.
    let training = b.clone().training();
    for seed in 0..10 {
        assert_eq!(
            prepare_seeded(config.clone(), &training, seed).input,
            prepare_seeded(cls(true), &training, seed).input
        );
    }
    assert!((0..10).any(|s| prepare_seeded(config.clone(), &training, s)
        .input
        .tokens
        .contains(&MASK)));
    // The default evaluates on masked names, as the reference does.
    assert!((0..10).any(|s| prepare_seeded(cls(true), &b, s).input.tokens != b.tokens));
}

//! Tests of the encoder's masks and attention maps.

use crate::{Activation, Causal, Encoder, EncoderConfig, EncoderInput, Mode, Positions};
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};

fn encoder(norm_first: bool) -> Result<Encoder> {
    encoder_with(norm_first, 0)
}

fn encoder_with(norm_first: bool, conv_width: usize) -> Result<Encoder> {
    encoder_with_fronts(norm_first, conv_width, 0)
}

fn encoder_with_fronts(
    norm_first: bool,
    conv_width: usize,
    hashed_ngrams: usize,
) -> Result<Encoder> {
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    let config = EncoderConfig {
        vocab_size: 10,
        max_positions: 8,
        dim: 8,
        heads: 2,
        layers: 2,
        ffn_dim: 16,
        dropout: 0.1,
        input_dropout: 0.0,
        conv_width,
        hashed_ngrams,
        hashed_ngram_length: 4,
        activation: Activation::Gelu,
        norm_first,
        positions: Positions::Learned,
        segments: 2,
        kernels: crate::Kernels::auto(&Device::Cpu, candle_core::DType::F32),
    };
    Encoder::new(&config, vb)
}

#[test]
fn attention_maps_respect_padding_and_look_ahead() -> Result<()> {
    let enc = encoder(true)?;
    // Two rows: the first has 2 pad positions at the end.
    let tokens = Tensor::new(&[[4u32, 5, 6, 7, 0, 0], [4, 4, 5, 5, 6, 6]], &Device::Cpu)?;
    for causal in [Causal::None, Causal::All, Causal::Rows(&[true, false])] {
        let out = enc.forward_with_attention(
            EncoderInput {
                tokens: &tokens,
                segments: None,
                causal,
            },
            &Mode::eval(),
        )?;
        assert_eq!(out.hidden.dims(), &[2, 6, 8]);
        assert_eq!(out.attention.len(), 2, "one map per layer");
        for map in &out.attention {
            assert_eq!(map.dims(), &[2, 2, 6, 6], "(batch, heads, seq, seq)");
            let v: Vec<Vec<Vec<Vec<f32>>>> = (0..2)
                .map(|b| map.get(b)?.to_vec3::<f32>())
                .collect::<Result<_>>()?;
            for (b, heads) in v.iter().enumerate() {
                let row_causal = match causal {
                    Causal::None => false,
                    Causal::All => true,
                    Causal::Rows(r) => r[b],
                };
                for head in heads {
                    for (q, weights) in head.iter().enumerate() {
                        let sum: f32 = weights.iter().sum();
                        assert!((sum - 1.0).abs() < 1e-5, "row sums to one: {sum}");
                        for (k, &w) in weights.iter().enumerate() {
                            if b == 0 && k >= 4 {
                                assert_eq!(w, 0.0, "pad key {k} gets no weight");
                            }
                            if row_causal && k > q {
                                assert_eq!(w, 0.0, "no look-ahead from {q} to {k}");
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The encoder's states of `tokens` (one row).
fn states(enc: &Encoder, tokens: &[u32], causal: Causal) -> Result<Tensor> {
    let tokens = Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
    let input = EncoderInput {
        tokens: &tokens,
        segments: None,
        causal,
    };
    enc.forward(input, &Mode::eval())
}

fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a - b)?.abs()?.max_all()?.to_scalar::<f32>()
}

#[test]
fn padding_does_not_change_the_other_positions() -> Result<()> {
    for (conv_width, hashed_ngrams) in [(0, 0), (3, 0), (5, 0), (0, 32), (3, 32)] {
        let enc = encoder_with_fronts(false, conv_width, hashed_ngrams)?;
        let a = states(&enc, &[4, 5, 6], Causal::None)?;
        let b = states(&enc, &[4, 5, 6, 0, 0], Causal::None)?.narrow(1, 0, 3)?;
        let diff = max_diff(&a, &b)?;
        assert!(
            diff < 1e-5,
            "conv_width {conv_width}, {hashed_ngrams} buckets: {diff}"
        );
    }
    Ok(())
}

#[test]
fn the_convolutional_front_reads_ahead_only_in_rows_without_look_ahead() -> Result<()> {
    let enc = encoder_with(true, 3)?;
    let (text, changed) = ([4u32, 5, 6, 7], [4u32, 5, 6, 8]);
    for (causal, reads_ahead) in [(Causal::None, true), (Causal::All, false)] {
        let a = states(&enc, &text, causal)?.narrow(1, 0, 3)?;
        let b = states(&enc, &changed, causal)?.narrow(1, 0, 3)?;
        let diff = max_diff(&a, &b)?;
        assert_eq!(diff > 1e-4, reads_ahead, "{causal:?}: {diff}");
    }
    // A causal row of a mixed batch is the same as the row alone.
    let alone = states(&enc, &text, Causal::All)?;
    let rows = Tensor::new(&[text, changed], &Device::Cpu)?;
    let input = EncoderInput {
        tokens: &rows,
        segments: None,
        causal: Causal::Rows(&[true, false]),
    };
    let mixed = enc.forward(input, &Mode::eval())?.narrow(0, 0, 1)?;
    assert!(max_diff(&alone, &mixed)? < 1e-5);
    Ok(())
}

#[test]
fn the_ngram_front_reads_the_ngrams_ending_at_each_position_and_nothing_after() -> Result<()> {
    use crate::NgramFront;
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    let front = NgramFront::new(1024, 3, 4, vb)?;
    let zeros = Tensor::zeros((1, 5, 4), DType::F32, &Device::Cpu)?;
    let grams = |tokens: &[u32]| -> Result<Vec<Vec<f32>>> {
        let tokens = Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
        front.forward(&zeros, &tokens)?.squeeze(0)?.to_vec2::<f32>()
    };
    let (a, b) = (grams(&[4, 5, 6, 7, 8])?, grams(&[4, 5, 6, 9, 8])?);
    assert_eq!(
        a[..3],
        b[..3],
        "a change at position 3 leaves positions 0-2 alone"
    );
    for t in 3..5 {
        assert_ne!(
            a[t], b[t],
            "position {t} reads an n-gram through position 3"
        );
    }
    // The same n-grams at another place of a text get the same vectors: "5 6" and
    // "4 5 6" end at position 2 of both texts.
    assert_eq!(grams(&[4, 5, 6, 1, 1])?[2], a[2]);
    // A prefix differs from the same characters inside a text (the start value).
    assert_ne!(grams(&[5, 6, 7, 7, 7])?[1], a[2]);
    Ok(())
}

#[test]
fn dense_and_layer_norm_are_candle_modules() -> Result<()> {
    use crate::{Dense, Kernels, LayerNorm};
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    let x = Tensor::arange(0f32, 24.0, &Device::Cpu)?.reshape((2, 3, 4))?;
    for kernels in [Kernels::Fused, Kernels::Composed] {
        let dense = Dense::new(4, 5, kernels, vb.pp(format!("{kernels:?}.dense")))?;
        let norm = LayerNorm::new(5, kernels, vb.pp(format!("{kernels:?}.norm")))?;
        // `Tensor::apply` takes any candle `Module`.
        let y = x.apply(&dense)?.apply(&norm)?;
        let want = norm.forward(&dense.forward(&x)?)?;
        assert_eq!(y.dims(), [2, 3, 5]);
        assert_eq!(y.to_vec3::<f32>()?, want.to_vec3::<f32>()?);
    }
    Ok(())
}

//! The fused kernels against the composed layers: same outputs, same gradients.

use super::ResidualOp;
use crate::feed_forward::FeedForward;
use crate::{
    attention_bias, Activation, Causal, Dense, Kernels, LayerNorm, Mode, SelfAttention, TokenRows,
};
use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};

/// Largest `|a - b| / max(1, |b|)` over two tensors of the same shape.
fn max_difference(a: &Tensor, b: &Tensor) -> Result<f32> {
    assert_eq!(a.dims(), b.dims());
    let (a, b) = (
        a.flatten_all()?.to_vec1::<f32>()?,
        b.flatten_all()?.to_vec1::<f32>()?,
    );
    Ok(a.iter()
        .zip(&b)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .fold(0.0, f32::max))
}

/// A variable of random normal values.
fn random(shape: &[usize], seed: u64) -> Result<Var> {
    let n: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        })
        .collect();
    Var::from_vec(values, shape, &Device::Cpu)
}

/// Runs `f` fused and composed on the same input and compares the outputs and the
/// gradients of `sum(y * r)` for a random `r` with respect to `x` and every
/// parameter in `map`.
fn compare(map: &VarMap, x: &Var, f: impl Fn(&Tensor, bool) -> Result<Tensor>) -> Result<()> {
    let mut results = Vec::new();
    for fused in [true, false] {
        let y = f(x.as_tensor(), fused)?;
        let r = random(y.dims(), 7)?;
        let grads = (&y * r.as_tensor())?.sum_all()?.backward()?;
        let mut all = vec![y.clone(), grads.get(x).expect("x has a gradient").clone()];
        for var in map.all_vars() {
            all.push(
                grads
                    .get(&var)
                    .expect("every parameter has a gradient")
                    .clone(),
            );
        }
        results.push(all);
    }
    for (i, (fused, composed)) in results[0].iter().zip(&results[1]).enumerate() {
        let diff = max_difference(fused, composed)?;
        assert!(
            diff < 1e-5,
            "tensor {i} (0: output, 1: dx, then parameters): {diff}"
        );
    }
    Ok(())
}

fn var_builder(map: &VarMap) -> VarBuilder<'static> {
    VarBuilder::from_varmap(map, DType::F32, &Device::Cpu)
}

#[test]
fn linear_matches_the_composed_layer() -> Result<()> {
    let map = VarMap::new();
    let dense = Dense::new(12, 20, Kernels::Fused, var_builder(&map))?;
    let x = random(&[3, 5, 12], 1)?;
    compare(&map, &x, |x, fused| {
        if fused {
            dense.fused(x, None, None)
        } else {
            dense.composed(x)
        }
    })
}

#[test]
fn linear_with_relu_and_dropout_matches_the_composed_ops() -> Result<()> {
    let map = VarMap::new();
    let dense = Dense::new(12, 20, Kernels::Fused, var_builder(&map))?;
    let x = random(&[3, 5, 12], 2)?;
    let keep = random(&[3, 5, 20], 3)?
        .as_tensor()
        .ge(0.0)?
        .to_dtype(DType::F32)?
        .affine(2.0, 0.0)?;
    compare(&map, &x, |x, fused| {
        if fused {
            dense.fused(x, Some(Activation::Relu), Some(keep.clone()))
        } else {
            dense.composed(x)?.relu()? * &keep
        }
    })
}

#[test]
fn layer_norm_matches_the_composed_layer() -> Result<()> {
    let map = VarMap::new();
    let vb = var_builder(&map);
    // Not the initial ones and zeros, so the scale and shift enter the gradients.
    vb.get_with_hints(16, "weight", Init::Uniform { lo: 0.5, up: 1.5 })?;
    vb.get_with_hints(16, "bias", Init::Uniform { lo: -0.5, up: 0.5 })?;
    let norm = LayerNorm::new(16, Kernels::Fused, vb)?;
    let x = (random(&[4, 6, 16], 4)?.as_tensor() * 3.0)?;
    let x = Var::from_tensor(&(x + 0.7)?)?;
    compare(&map, &x, |x, fused| {
        if fused {
            norm.fused(x)
        } else {
            norm.composed(x)
        }
    })
}

#[test]
fn feed_forward_draws_the_same_dropout_either_way() -> Result<()> {
    let map = VarMap::new();
    let ffn = FeedForward::new(
        8,
        24,
        Activation::Relu,
        0.3,
        Kernels::Fused,
        var_builder(&map),
    )?;
    let x = random(&[2, 7, 8], 5)?;
    let rows = TokenRows::full(2, 7);
    compare(&map, &x, |x, fused| {
        ffn.run(x, &rows, &Mode::train(11), fused)
    })
}

#[test]
fn attention_matches_the_composed_layer_with_padding_causal_mask_and_dropout() -> Result<()> {
    let map = VarMap::new();
    let attn = SelfAttention::new(12, 3, 0.2, Kernels::Fused, var_builder(&map))?;
    let x = random(&[2, 5, 12], 6)?;
    let tokens = Tensor::new(&[[4u32, 5, 6, 7, 0], [4, 4, 5, 5, 6]], &Device::Cpu)?;
    let bias = attention_bias(&tokens, Causal::All)?;
    let rows = TokenRows::full(2, 5);
    compare(&map, &x, |x, fused| {
        Ok(attn.run(x, &rows, &bias, &Mode::train(3), false, fused)?.0)
    })
}

#[test]
fn attention_on_packed_token_rows_matches_the_composed_layer_on_the_grid() -> Result<()> {
    let map = VarMap::new();
    let attn = SelfAttention::new(8, 2, 0.3, Kernels::Fused, var_builder(&map))?;
    let x = random(&[3, 4, 8], 12)?;
    let tokens = Tensor::new(&[[4u32, 5, 0, 0], [4, 4, 5, 6], [7, 0, 0, 0]], &Device::Cpu)?;
    let rows = TokenRows::tokens(&tokens)?;
    for causal in [Causal::None, Causal::All] {
        let bias = attention_bias(&tokens, causal)?;
        compare(&map, &x, |x, fused| {
            let mode = Mode::train(4);
            match fused {
                true => Ok(attn
                    .run(&rows.pack(x)?, &rows, &bias, &mode, false, true)?
                    .0),
                false => {
                    let grid = TokenRows::full(3, 4);
                    rows.pack(&attn.run(x, &grid, &bias, &mode, false, false)?.0)
                }
            }
        })?;
    }
    Ok(())
}

#[test]
fn residual_with_dropout_matches_the_composed_ops() -> Result<()> {
    let map = VarMap::new();
    let a =
        var_builder(&map).get_with_hints((3, 4, 8), "a", Init::Uniform { lo: -1.0, up: 1.0 })?;
    let keep = random(&[3, 4, 8], 8)?
        .as_tensor()
        .ge(0.0)?
        .to_dtype(DType::F32)?
        .affine(1.25, 0.0)?;
    let x = random(&[3, 4, 8], 9)?;
    compare(&map, &x, |x, fused| {
        if fused {
            x.apply_op2(
                &a,
                ResidualOp {
                    keep: Some(keep.clone()),
                },
            )
        } else {
            x + (&a * &keep)?
        }
    })
}

#[test]
fn linear_with_gelu_and_dropout_gives_gelu_erfs_values_and_gradients_bit_for_bit() -> Result<()> {
    let map = VarMap::new();
    let dense = Dense::new(12, 96, Kernels::Fused, var_builder(&map))?;
    // Spread over [-6, 6): every branch of libm's erf, the vectorised ones and the rest.
    let x = Var::from_tensor(&(random(&[4, 16, 12], 21)?.as_tensor() * 6.0)?)?;
    let upstream = random(&[4, 16, 96], 22)?;
    let keep = random(&[4, 16, 96], 23)?
        .as_tensor()
        .ge(-0.6)?
        .to_dtype(DType::F32)?
        .affine(1.25, 0.0)?;
    let bits = |t: &Tensor| -> Result<Vec<u32>> {
        Ok(t.flatten_all()?
            .to_vec1::<f32>()?
            .iter()
            .map(|v| v.to_bits())
            .collect())
    };
    let mut runs = Vec::new();
    for fused_gelu in [true, false] {
        let y = match fused_gelu {
            true => dense.fused(x.as_tensor(), Some(Activation::Gelu), Some(keep.clone()))?,
            false => (dense.fused(x.as_tensor(), None, None)?.gelu_erf()? * &keep)?,
        };
        let grads = (&y * upstream.as_tensor())?.sum_all()?.backward()?;
        let mut run = vec![bits(&y)?, bits(grads.get(x.as_tensor()).expect("dx"))?];
        for var in map.all_vars() {
            run.push(bits(grads.get(&var).expect("a parameter's gradient"))?);
        }
        runs.push(run);
    }
    assert_eq!(runs[0], runs[1]);
    Ok(())
}

/// The attention op over `tokens`' packed rows with its weights kept, and with them
/// computed again in the backward pass: the same outputs and gradients, bit for bit.
fn assert_recomputed_weights_are_the_stored_ones(tokens: &Tensor, seed: u64) -> Result<()> {
    use super::AttentionOp;
    use crate::Dropout;
    let rows = TokenRows::tokens(tokens)?;
    let qkv = random(&[rows.grid().len(), 3 * 12], seed)?;
    for causal in [Causal::None, Causal::All] {
        let bias = attention_bias(tokens, causal)?;
        let run = |limit: usize| -> Result<Vec<Vec<f32>>> {
            let keep = Dropout::new(0.25).draw(&Mode::train(seed));
            let op =
                AttentionOp::new(3, 0.5, rows.clone(), bias.clone(), keep).storing_at_most(limit);
            let y = qkv.as_tensor().apply_op1(op)?;
            let r = random(y.dims(), seed + 1)?;
            let grads = (&y * r.as_tensor())?.sum_all()?.backward()?;
            let dqkv = grads.get(&qkv).expect("qkv has a gradient");
            Ok(vec![
                y.flatten_all()?.to_vec1()?,
                dqkv.flatten_all()?.to_vec1()?,
            ])
        };
        let (stored, again) = (run(usize::MAX)?, run(0)?);
        assert_eq!(stored, again, "{causal:?}");
        assert!(stored.iter().all(|v| v.iter().any(|v| *v != 0.0)));
    }
    Ok(())
}

#[test]
fn attention_computed_again_in_the_backward_pass_is_bit_for_bit_the_stored_one() -> Result<()> {
    let tokens = Tensor::new(
        &[
            [4u32, 5, 6, 7, 0, 0],
            [4, 4, 5, 5, 6, 7],
            [7, 8, 0, 0, 0, 0],
        ],
        &Device::Cpu,
    )?;
    assert_recomputed_weights_are_the_stored_ones(&tokens, 21)
}

#[test]
fn long_attention_computed_again_is_bit_for_bit_the_stored_one() -> Result<()> {
    // Two packed texts of 100 and 70 positions: blocks of queries, one cut short.
    let ids: Vec<u32> = (0..200)
        .map(|i| {
            if i >= 100 && i % 100 >= 70 {
                0
            } else {
                4 + i % 7
            }
        })
        .collect();
    let tokens = Tensor::from_vec(ids, (2, 100), &Device::Cpu)?;
    assert_recomputed_weights_are_the_stored_ones(&tokens, 23)
}

#[test]
fn long_padded_causal_attention_matches_the_composed_layer() -> Result<()> {
    let map = VarMap::new();
    let attn = SelfAttention::new(16, 4, 0.2, Kernels::Fused, var_builder(&map))?;
    let ids: Vec<u32> = (0..3 * 70)
        .map(|i| {
            if i % 70 >= 70 - 9 * (i / 70) {
                0
            } else {
                4 + i % 6
            }
        })
        .collect();
    let tokens = Tensor::from_vec(ids, (3, 70), &Device::Cpu)?;
    let rows = TokenRows::full(3, 70);
    let x = random(&[3, 70, 16], 19)?;
    let bias = attention_bias(&tokens, Causal::All)?;
    compare(&map, &x, |x, fused| {
        Ok(attn.run(x, &rows, &bias, &Mode::train(4), false, fused)?.0)
    })
}

#[test]
fn attention_over_long_texts_draws_the_composed_layers_dropout_block_by_block() -> Result<()> {
    // 2 x 3 x 90 rows of 90 weights: the mask is drawn in many blocks of rows.
    let map = VarMap::new();
    let attn = SelfAttention::new(12, 3, 0.3, Kernels::Fused, var_builder(&map))?;
    let x = random(&[2, 90, 12], 17)?;
    let ids: Vec<u32> = (0..180)
        .map(|i| {
            if i % 90 >= 70 && i >= 90 {
                0
            } else {
                4 + i % 5
            }
        })
        .collect();
    let tokens = Tensor::from_vec(ids, (2, 90), &Device::Cpu)?;
    let bias = attention_bias(&tokens, Causal::None)?;
    let rows = TokenRows::full(2, 90);
    compare(&map, &x, |x, fused| {
        Ok(attn.run(x, &rows, &bias, &Mode::train(6), false, fused)?.0)
    })
}

//! `e^x` for `x <= 0` as glibc's `expf` computes it, in plain arithmetic that the
//! compiler vectorises (a call to `expf` is one value at a time).
//!
//! The method is glibc's (since 2.27): `x N / ln 2 = k + r` with `N = 32`, `2^(k/N)`
//! from a table of 32 doubles, a cubic in `r`, all in f64, rounded once to f32. With the
//! reduction's two products fused (as glibc's FMA build computes them) every value
//! equals `expf`'s on x86-64 with FMA (checked once on every negative float down to
//! -104 against this machine's glibc; the test sweeps every 61st).

use std::sync::LazyLock;

/// Table entries: `2^(i/32)`'s bits less `i << 47`, so that adding `k << 47` for any
/// integer `k` with `k % 32 == i` gives `2^(k/32)`.
static TABLE: LazyLock<[u64; 32]> = LazyLock::new(|| {
    std::array::from_fn(|i| {
        2f64.powf(i as f64 / 32.0)
            .to_bits()
            .wrapping_sub((i as u64) << 47)
    })
});

/// The table, to pass into [`exp_nonpositive`] (a static's lazy check per value would
/// not vectorise).
pub(super) fn table() -> &'static [u64; 32] {
    &TABLE
}

/// `e^x` for `x <= 0` (0 below `ln 2^-150`, as `expf` rounds there; NaN stays NaN).
#[inline(always)]
pub(super) fn exp_nonpositive(x: f32, table: &[u64; 32]) -> f32 {
    const N: f64 = 32.0;
    let inv_ln2_n = f64::from_bits(0x3ff7_1547_652b_82fe) * N;
    let shift = f64::from_bits(0x4338_0000_0000_0000);
    let c0 = f64::from_bits(0x3fac_6af8_4b91_2394) / (N * N * N);
    let c1 = f64::from_bits(0x3fce_bfce_50fa_c4f3) / (N * N);
    let c2 = f64::from_bits(0x3fe6_2e42_ff0c_52d6) / N;
    let xd = x as f64;
    let k = inv_ln2_n.mul_add(xd, shift);
    let ki = k.to_bits();
    let kd = k - shift;
    let r = inv_ln2_n.mul_add(xd, -kd);
    let s = f64::from_bits(table[(ki % 32) as usize].wrapping_add(ki << 47));
    let y = c0.mul_add(r, c1).mul_add(r * r, c2.mul_add(r, 1.0));
    if x < -103.972_08 {
        0.0
    } else {
        (y * s) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_expf_bit_for_bit() {
        let table = table();
        // Every 61st negative float down to -104, zeros, the edges, infinity, NaN.
        let sweep = (0x8000_0000u32..=0xc2d0_0000).step_by(61);
        let edges = [0.0, -0.0, -103.972_08, -103.972_07, -104.0, -1e30];
        for x in sweep.map(f32::from_bits).chain(edges) {
            let (got, want) = (exp_nonpositive(x, table), x.exp());
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "e^{x:e}: {got:e} against {want:e}"
            );
        }
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY, table), 0.0);
        assert!(exp_nonpositive(f32::NAN, table).is_nan());
    }
}

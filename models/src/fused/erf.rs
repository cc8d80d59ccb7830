//! libm's `erff` (what candle's `gelu_erf` calls), eight lanes at a time, bit for bit.
//!
//! For `2^-28 <= |x| < 1.25` libm's `erff` is a ratio of two polynomials (one pair below
//! 0.84375, another above): plain multiplies, adds and one divide, which vector units
//! round exactly as scalar code does (Rust never fuses them into FMAs). Lanes outside
//! that range (tiny, large, infinite or NaN arguments; a minority for GELU's scaled
//! pre-activations) go through libm itself, so every value equals `libm::erff`'s.

use candle_core::cpu::erf::erf_f32;

// libm's coefficients, by their bits.
const ERX: f32 = f32::from_bits(0x3f58560b);
const PP0: f32 = f32::from_bits(0x3e0375d4);
const PP1: f32 = f32::from_bits(0xbea66beb);
const PP2: f32 = f32::from_bits(0xbce9528f);
const PP3: f32 = f32::from_bits(0xbbbd1489);
const PP4: f32 = f32::from_bits(0xb7c756b1);
const QQ1: f32 = f32::from_bits(0x3ecbbbce);
const QQ2: f32 = f32::from_bits(0x3d852a63);
const QQ3: f32 = f32::from_bits(0x3ba68116);
const QQ4: f32 = f32::from_bits(0x390aee49);
const QQ5: f32 = f32::from_bits(0xb684e21a);
const PA0: f32 = f32::from_bits(0xbb1acdc6);
const PA1: f32 = f32::from_bits(0x3ed46805);
const PA2: f32 = f32::from_bits(0xbebe9208);
const PA3: f32 = f32::from_bits(0x3ea2fe54);
const PA4: f32 = f32::from_bits(0xbde31cc2);
const PA5: f32 = f32::from_bits(0x3d1151b3);
const PA6: f32 = f32::from_bits(0xbb0df9c0);
const QA1: f32 = f32::from_bits(0x3dd9f331);
const QA2: f32 = f32::from_bits(0x3f0a5785);
const QA3: f32 = f32::from_bits(0x3d931ae7);
const QA4: f32 = f32::from_bits(0x3e013307);
const QA5: f32 = f32::from_bits(0x3c5f6e13);
const QA6: f32 = f32::from_bits(0x3c445aa3);

/// libm's two polynomial pairs below [`FAR`], lowest degree first, padded with zeros to
/// degree six: `r` and `s` (below [`MIDDLE`]), `p` and `q` (from it).
const RS: ([f32; 7], [f32; 7]) = (
    [PP0, PP1, PP2, PP3, PP4, 0.0, 0.0],
    [1.0, QQ1, QQ2, QQ3, QQ4, QQ5, 0.0],
);
const PQ: ([f32; 7], [f32; 7]) = (
    [PA0, PA1, PA2, PA3, PA4, PA5, PA6],
    [1.0, QA1, QA2, QA3, QA4, QA5, QA6],
);

/// `|x|`'s bits below which libm takes its tiny-argument path (`2^-28`).
const TINY: u32 = 0x3180_0000;
/// `|x|`'s bits where libm switches from the first polynomial pair to the second (0.84375).
const MIDDLE: u32 = 0x3f58_0000;
/// `|x|`'s bits from which libm calls `expf` (1.25).
const FAR: u32 = 0x3fa0_0000;

/// `erff(x * scale)` for each value of `x`, equal bit for bit to libm's.
pub(super) fn erf_scaled(x: &[f32], scale: f32) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2, checked at run time just above.
        #[allow(unsafe_code)]
        unsafe {
            done = avx2::erf_scaled(x, scale, &mut out);
        }
    }
    for (o, &v) in out[done..].iter_mut().zip(&x[done..]) {
        *o = erf_f32(v * scale);
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// `c[0] + u * (c[1] + u * (... + u * c[6]))`, innermost first as libm writes it,
    /// with `c` taken from `near` in the lanes of `use_near` and from `middle` in the
    /// others. A polynomial of lower degree has zeros on top: `0 + u * 0` is 0 and
    /// `c + u * 0` is `c`, exactly, so it rounds as its own Horner scheme does.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn horner(u: __m256, use_near: __m256, near: [f32; 7], middle: [f32; 7]) -> __m256 {
        let c = |i: usize| {
            _mm256_blendv_ps(_mm256_set1_ps(middle[i]), _mm256_set1_ps(near[i]), use_near)
        };
        (0..6)
            .rev()
            .fold(c(6), |acc, i| _mm256_add_ps(c(i), _mm256_mul_ps(u, acc)))
    }

    /// `erff(x[i] * scale)` into `out` for the first multiple of eight values (which it
    /// returns): libm's polynomial branches eight lanes at a time, libm itself for the
    /// lanes outside them.
    #[target_feature(enable = "avx2")]
    pub(super) fn erf_scaled(x: &[f32], scale: f32, out: &mut [f32]) -> usize {
        let one = _mm256_set1_ps(1.0);
        let abs = _mm256_set1_epi32(0x7fff_ffff);
        let one_minus_erx = _mm256_set1_ps(1.0 - ERX);
        for (x, out) in x.chunks_exact(8).zip(out.chunks_exact_mut(8)) {
            let mut lanes = [0f32; 8];
            lanes.copy_from_slice(x);
            // SAFETY: `lanes` holds eight f32s.
            let x = _mm256_mul_ps(
                unsafe { _mm256_loadu_ps(lanes.as_ptr()) },
                _mm256_set1_ps(scale),
            );
            let bits = _mm256_and_si256(_mm256_castps_si256(x), abs);
            let below_middle =
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(MIDDLE as i32), bits));
            // One ratio of polynomials per lane: below 0.84375, r / s in z = x^2; above,
            // p / q in t = |x| - 1.
            let z = _mm256_mul_ps(x, x);
            let t = _mm256_sub_ps(_mm256_castsi256_ps(bits), one);
            let u = _mm256_blendv_ps(t, z, below_middle);
            let numerator = horner(u, below_middle, RS.0, PQ.0);
            let denominator = horner(u, below_middle, RS.1, PQ.1);
            let ratio = _mm256_div_ps(numerator, denominator);
            // Below 0.84375: x + x * (r / s).
            let near = _mm256_add_ps(x, _mm256_mul_ps(x, ratio));
            // Above: 1 - (1 - erx - p / q), with x's sign.
            let y = _mm256_sub_ps(one, _mm256_sub_ps(one_minus_erx, ratio));
            let sign = _mm256_andnot_ps(_mm256_castsi256_ps(abs), x);
            let middle = _mm256_or_ps(y, sign);
            let value = _mm256_blendv_ps(middle, near, below_middle);
            let in_range = _mm256_and_si256(
                _mm256_cmpgt_epi32(bits, _mm256_set1_epi32(TINY as i32 - 1)),
                _mm256_cmpgt_epi32(_mm256_set1_epi32(FAR as i32), bits),
            );
            let exact = _mm256_movemask_ps(_mm256_castsi256_ps(in_range));
            // SAFETY: `lanes` holds eight f32s.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), value) };
            if exact != 0xff {
                let mut args = [0f32; 8];
                // SAFETY: `args` holds eight f32s.
                unsafe { _mm256_storeu_ps(args.as_mut_ptr(), x) };
                for l in (0..8).filter(|l| exact & (1 << l) == 0) {
                    lanes[l] = erf_f32(args[l]);
                }
            }
            out.copy_from_slice(&lanes);
        }
        x.len() / 8 * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 997th bit pattern (both signs, zeros, subnormals, every branch of libm's
    /// `erff`, infinities, NaNs) and every value near the branch boundaries.
    #[test]
    fn equals_libm_bit_for_bit() {
        let boundaries = [TINY, MIDDLE, FAR, 0x4036_db6d, 0x40c0_0000, 0x7f80_0000];
        let near: Vec<u32> = boundaries
            .iter()
            .flat_map(|&b| (b - 64..b + 64).flat_map(|v| [v, v | 0x8000_0000]))
            .collect();
        let x: Vec<f32> = (0..=u32::MAX)
            .step_by(997)
            .chain(near)
            .map(f32::from_bits)
            .collect();
        let got = erf_scaled(&x, 1.0);
        for (&x, &y) in x.iter().zip(&got) {
            assert_eq!(y.to_bits(), erf_f32(x).to_bits(), "erf({x:e})");
        }
        // Scaled, and a length that leaves a tail past the last eight.
        let x: Vec<f32> = (0..1003).map(|i| (i as f32 - 500.0) / 97.0).collect();
        let got = erf_scaled(&x, std::f32::consts::FRAC_1_SQRT_2);
        for (&x, &y) in x.iter().zip(&got) {
            let want = erf_f32(x * std::f32::consts::FRAC_1_SQRT_2);
            assert_eq!(y.to_bits(), want.to_bits(), "erf({x:e} / sqrt 2)");
        }
    }
}

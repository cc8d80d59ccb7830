//! Running a hot loop compiled for the CPU's vector units.
//!
//! The build targets baseline x86-64 (SSE2) so that one binary runs on any x86-64
//! machine. A few fused kernels gain two- to three-fold from AVX2 and FMA (32-bit lane
//! multiplies, 8-wide f32): [`vectorized`] runs such a [`Kernel`] in a function
//! compiled with those features when the CPU has them, and as is otherwise.

/// A loop to run through [`vectorized`]. `run` must be `#[inline(always)]`, and so
/// must what it calls, so that it is compiled into the caller's features (a closure
/// would not be: it stays a function of its own, compiled for the baseline).
pub(crate) trait Kernel {
    /// What the loop returns.
    type Output;
    /// The loop.
    fn run(self) -> Self::Output;
}

/// Runs `kernel`, compiled for AVX2 and FMA when the CPU has both.
#[inline(always)]
pub(crate) fn vectorized<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if *HAS_AVX2_FMA {
        // SAFETY: `with_avx2_fma` only needs the CPU to support AVX2 and FMA, which
        // `HAS_AVX2_FMA` checked at run time.
        #[allow(unsafe_code)]
        return unsafe { with_avx2_fma(kernel) };
    }
    kernel.run()
}

/// Whether the CPU has AVX2 and FMA (for kernels written with their intrinsics).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    *HAS_AVX2_FMA
}

#[cfg(target_arch = "x86_64")]
static HAS_AVX2_FMA: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
});

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2_fma<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

/// `sum(f(a[i], b[i]))` with eight partial sums, so that it vectorises (a serial f32
/// sum cannot be reordered by the compiler).
#[inline(always)]
pub(crate) fn sum_zip(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            acc[l] += f(x[l], y[l]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `sum(a)`.
#[inline(always)]
pub(crate) fn sum(a: &[f32]) -> f32 {
    sum_zip(a, a, |v, _| v)
}

/// `a . b`.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum_zip(a, b, |x, y| x * y)
}

/// `y += a * x`.
#[inline(always)]
pub(crate) fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

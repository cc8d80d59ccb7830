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

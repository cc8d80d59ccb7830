//! Counter-based dropout draws: element `i` of a mask is kept or dropped by a hash of
//! `(key, i)`, not by the next value of a generator stream.
//!
//! Why: a stream must be drawn in order, for every element, so a mask over the token
//! positions of a padded batch had to draw the whole grid first and then pick its rows
//! (a copy); and the sequential generator plus one branch per element cost a tenth of
//! a training step. A hash of the element's index draws any subset of the grid
//! directly, draws exactly what the whole grid would hold there, and vectorises (eight
//! elements per AVX2 instruction).
//!
//! The hash is two rounds of MurmurHash3's 32-bit finaliser, keyed by the two halves of
//! a 64-bit key: a bijection of the index for each key, with full avalanche. A mask's
//! drop probability is `p` rounded to a multiple of 2^-32.

/// MurmurHash3's 32-bit finaliser.
#[inline(always)]
fn fmix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x85eb_ca6b);
    x ^= x >> 13;
    x = x.wrapping_mul(0xc2b2_ae35);
    x ^ (x >> 16)
}

/// SplitMix64's finaliser: mixes a seed and a call number into a mask key.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The 32 random bits of element `index` under `key`.
#[inline(always)]
pub(crate) fn bits(key: u64, index: u32) -> u32 {
    fmix32(fmix32(index ^ key as u32) ^ (key >> 32) as u32)
}

/// Refuses a mask of more elements than the draws index (`u32`).
pub(crate) fn check_elements(n: usize) -> candle_core::Result<()> {
    if n > u32::MAX as usize {
        candle_core::bail!("dropout: a mask of {n} elements is over the 2^32 supported")
    }
    Ok(())
}

/// What a mask holds: 0 where an element is dropped, `scale` where it is kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// The mask's key.
    pub key: u64,
    /// Elements whose bits are below this are dropped.
    pub threshold: u32,
    /// The value of a kept element, `1/(1-p)`.
    pub scale: f32,
}

impl Keep {
    /// A mask of drop probability `p` in `[0, 1)` under `key`.
    pub fn new(key: u64, p: f32) -> Self {
        let threshold = (p as f64 * 4_294_967_296.0).min(u32::MAX as f64) as u32;
        Self {
            key,
            threshold,
            scale: 1.0 / (1.0 - p),
        }
    }

    /// The mask's rows `rows` (each `width` elements), one after the other; the
    /// first `count` rows when `rows` is `None`.
    pub fn rows(&self, rows: Option<&[u32]>, count: usize, width: usize) -> Vec<f32> {
        crate::simd::vectorized(Rows {
            keep: *self,
            rows,
            count,
            width,
        })
    }

    /// Element `index`'s value.
    #[inline(always)]
    pub fn value(&self, index: u32) -> f32 {
        match bits(self.key, index) < self.threshold {
            true => 0.0,
            false => self.scale,
        }
    }
}

/// [`Keep::rows`]' loop.
struct Rows<'a> {
    keep: Keep,
    rows: Option<&'a [u32]>,
    count: usize,
    width: usize,
}

impl crate::simd::Kernel for Rows<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn run(self) -> Vec<f32> {
        let Rows {
            keep,
            rows,
            count,
            width,
        } = self;
        let w = width as u32;
        // Extending from ranges writes each value once, with no zeroing first.
        let mut values = Vec::with_capacity(rows.map_or(count, <[u32]>::len) * width);
        match rows {
            None => values.extend((0..(count * width) as u32).map(|i| keep.value(i))),
            Some(rows) => {
                for &row in rows {
                    values.extend((row * w..(row + 1) * w).map(|i| keep.value(i)));
                }
            }
        }
        values
    }
}

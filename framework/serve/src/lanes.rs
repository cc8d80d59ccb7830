//! Lanes: a large batch cut by rows into parts that run at once, each on a session of
//! its own with its share of the cores. On names, one single-threaded session per core
//! serves a batch of 256 faster than one session whose operators split every product
//! over the cores (docs/performance.md, "Serving"); a row's output does not depend on
//! the rows beside it, so the parts' outputs joined in order are the batch's.

/// Tokens a lane gets at least: below that, a part is too small to pay for itself.
const MIN_LANE_TOKENS: usize = 256;

/// How many lanes a batch of `batch` rows of `seq` tokens runs on with `threads` cores:
/// one per core while each gets [`MIN_LANE_TOKENS`] tokens, never more than the rows.
pub fn lane_count(threads: usize, batch: usize, seq: usize) -> usize {
    let by_tokens = (batch * seq) / MIN_LANE_TOKENS;
    threads.min(batch).min(by_tokens).max(1)
}

/// `n` cut into `parts` (at least one) sizes differing by at most one, the larger first.
fn even_parts(n: usize, parts: usize) -> impl Iterator<Item = usize> {
    let parts = parts.max(1);
    (0..parts).map(move |i| n / parts + usize::from(i < n % parts))
}

/// The intra-op threads of each of `lanes` sessions over `threads` cores: the cores
/// shared out as evenly as they go, at least one each.
pub fn lane_threads(threads: usize, lanes: usize) -> Vec<usize> {
    even_parts(threads, lanes).map(|t| t.max(1)).collect()
}

/// The row ranges of `lanes` parts of `batch` rows: contiguous, in order, sizes
/// differing by at most one.
pub fn lane_rows(batch: usize, lanes: usize) -> Vec<std::ops::Range<usize>> {
    let mut start = 0;
    even_parts(batch, lanes)
        .map(|len| {
            start += len;
            start - len..start
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_batches_and_single_rows_keep_one_lane() {
        assert_eq!(lane_count(2, 1, 1024), 1, "one long text");
        assert_eq!(lane_count(2, 8, 12), 1, "96 tokens");
        assert_eq!(lane_count(1, 256, 12), 1, "one core");
        assert_eq!(lane_count(0, 256, 12), 1, "no cores said");
    }

    #[test]
    fn large_batches_get_a_lane_per_core() {
        assert_eq!(lane_count(2, 256, 12), 2);
        assert_eq!(lane_count(16, 256, 12), 12, "3,072 tokens, 256 a lane");
        assert_eq!(lane_count(16, 4, 1024), 4, "no more lanes than rows");
    }

    #[test]
    fn rows_are_cut_in_order_and_cover_the_batch() {
        for batch in 1..40 {
            for lanes in 1..6 {
                let parts = lane_rows(batch, lanes);
                assert_eq!(parts.len(), lanes);
                assert_eq!(parts[0].start, 0);
                assert_eq!(parts[lanes - 1].end, batch);
                assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
                let sizes: Vec<usize> = parts.iter().map(|r| r.len()).collect();
                assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            }
        }
    }

    #[test]
    fn cores_are_shared_out_among_lanes() {
        assert_eq!(lane_threads(2, 1), vec![2]);
        assert_eq!(lane_threads(2, 2), vec![1, 1]);
        assert_eq!(lane_threads(16, 12), [vec![2; 4], vec![1; 8]].concat());
        assert_eq!(
            lane_threads(1, 3),
            vec![1, 1, 1],
            "at least one thread each"
        );
    }
}

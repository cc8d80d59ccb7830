//! The weights of a mixture of classifiers, fitted on validation: the weights that
//! maximise the likelihood of the true classes under `sum_m w_m p_m`, found by
//! expectation-maximisation. The likelihood is concave in the weights, so the fit is
//! the global optimum whatever the start; it starts from equal weights and stops when
//! no weight moves by more than [`TOLERANCE`].

/// Most iterations of the fit.
pub const MAX_ITERATIONS: usize = 10_000;
/// A fit stops when no weight moves by more than this in an iteration.
pub const TOLERANCE: f64 = 1e-9;
/// The least probability a member gives a true class: one member sure of a wrong
/// class does not make the mixture's likelihood 0.
const FLOOR: f64 = 1e-12;

/// A fitted mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// One weight per member, summing to 1.
    pub weights: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Mean negative log-likelihood of the true classes under the mixture.
    pub nll: f64,
}

/// Fits the weights of `true_probabilities[m][i]`: the probability member `m` gives
/// the true class of row `i`, every member over the same rows.
pub fn fit(true_probabilities: &[Vec<f64>]) -> Fit {
    let members = true_probabilities.len();
    let rows = true_probabilities.first().map_or(0, Vec::len);
    let p = |m: usize, i: usize| true_probabilities[m][i].max(FLOOR);
    let mut weights = vec![1.0 / members.max(1) as f64; members];
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS && rows > 0 {
        iterations += 1;
        let mut next = vec![0.0; members];
        for i in 0..rows {
            let mixture: f64 = (0..members).map(|m| weights[m] * p(m, i)).sum();
            for (m, n) in next.iter_mut().enumerate() {
                *n += weights[m] * p(m, i) / mixture;
            }
        }
        next.iter_mut().for_each(|w| *w /= rows as f64);
        let moved = weights
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        weights = next;
        if moved <= TOLERANCE {
            break;
        }
    }
    let nll = (0..rows)
        .map(|i| -(0..members).map(|m| weights[m] * p(m, i)).sum::<f64>().ln())
        .sum::<f64>()
        / rows.max(1) as f64;
    Fit {
        weights,
        iterations,
        nll,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_that_is_always_better_takes_the_weight() {
        let fit = fit(&[vec![0.9; 50], vec![0.1; 50]]);
        assert!(fit.weights[0] > 0.999, "{:?}", fit.weights);
        assert!((fit.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn members_right_on_different_rows_share_the_weight() {
        // Each member is sure on its half and wrong on the other: by symmetry 1/2 each,
        // the mixture's likelihood 0.5 * (0.99 + 0.01) on every row.
        let a: Vec<f64> = (0..100).map(|i| if i < 50 { 0.99 } else { 0.01 }).collect();
        let b: Vec<f64> = a.iter().rev().copied().collect();
        let fit = fit(&[a, b]);
        assert!((fit.weights[0] - 0.5).abs() < 1e-6, "{:?}", fit.weights);
        assert!((fit.nll - -(0.5f64).ln()).abs() < 1e-6, "{}", fit.nll);
    }

    #[test]
    fn the_fit_is_no_worse_than_any_single_member_or_equal_weights() {
        let a: Vec<f64> = (0..60)
            .map(|i| 0.2 + 0.7 * ((i * 7 % 11) as f64 / 10.0))
            .collect();
        let b: Vec<f64> = (0..60)
            .map(|i| 0.3 + 0.6 * ((i * 5 % 13) as f64 / 12.0))
            .collect();
        let c: Vec<f64> = (0..60)
            .map(|i| 0.1 + 0.5 * ((i % 3) as f64 / 2.0))
            .collect();
        let members = [a, b, c];
        let fitted = fit(&members);
        let nll = |w: &[f64]| {
            (0..60)
                .map(|i| -(0..3).map(|m| w[m] * members[m][i]).sum::<f64>().ln())
                .sum::<f64>()
                / 60.0
        };
        for candidate in [
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0 / 3.0; 3],
        ] {
            assert!(fitted.nll <= nll(&candidate) + 1e-12);
        }
        assert!((fitted.nll - nll(&fitted.weights)).abs() < 1e-12);
    }
}

//! Multinomial logistic regression on sparse rows, fitted with argmin's L-BFGS: the
//! loss scikit-learn's `LogisticRegression(solver="lbfgs")` minimises, `c` times the
//! summed cross-entropy plus half the squared weights, the biases unpenalised.

use crate::features::SparseRow;
use crate::NgramError;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use std::sync::Mutex;

/// A fitted classifier: `weights[feature * classes + class]` and a bias per class.
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    /// Output classes.
    pub classes: usize,
    /// Row-major `(features, classes)`.
    pub weights: Vec<f32>,
    /// One per class.
    pub bias: Vec<f32>,
}

/// How a fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// L-BFGS iterations run.
    pub iterations: u64,
    /// The final value of the loss.
    pub loss: f64,
}

struct Problem<'a> {
    rows: &'a [SparseRow],
    labels: &'a [u32],
    features: usize,
    classes: usize,
    c: f64,
    /// The last point evaluated, its loss and gradient: the line search asks for the
    /// cost and then the gradient of each point, and one pass gives both.
    last: Mutex<Option<Evaluated>>,
}

struct Evaluated {
    params: Vec<f64>,
    loss: f64,
    gradient: Vec<f64>,
}

/// The rows are cut into this many parts, evaluated at once and summed in order: the
/// same sums on any number of threads.
const PARTS: usize = 8;

impl Problem<'_> {
    /// The loss and its gradient at `params` (weights then biases), from the last
    /// evaluation when it was of the same point.
    fn evaluated<T>(&self, params: &[f64], read: impl FnOnce(&Evaluated) -> T) -> T {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hit) = last.as_ref().filter(|e| e.params == params) {
            return read(hit);
        }
        let (loss, gradient) = self.loss_and_gradient(params);
        read(last.insert(Evaluated {
            params: params.to_vec(),
            loss,
            gradient,
        }))
    }

    /// The loss and its gradient at `params`: the penalty, plus the rows' parts.
    fn loss_and_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        let weights = &params[..self.features * self.classes];
        let mut loss = 0.5 * weights.iter().map(|w| w * w).sum::<f64>();
        let mut gradient = weights.to_vec();
        gradient.resize(params.len(), 0.0);
        let part = self.rows.len().div_ceil(PARTS).max(1);
        let parts: Vec<(f64, Vec<f64>)> = (0..self.rows.len().div_ceil(part))
            .into_par_iter()
            .map(|p| {
                let rows = p * part..((p + 1) * part).min(self.rows.len());
                self.part(params, rows)
            })
            .collect();
        for (part_loss, part_gradient) in parts {
            loss += part_loss;
            for (g, d) in gradient.iter_mut().zip(part_gradient) {
                *g += d;
            }
        }
        (loss, gradient)
    }

    /// The cross-entropy term of `rows` and its gradient.
    fn part(&self, params: &[f64], rows: std::ops::Range<usize>) -> (f64, Vec<f64>) {
        let k = self.classes;
        let (weights, bias) = params.split_at(self.features * k);
        let mut g = vec![0.0; params.len()];
        let mut loss = 0.0;
        let mut logits = vec![0.0; k];
        for (row, &label) in self.rows[rows.clone()].iter().zip(&self.labels[rows]) {
            logits.copy_from_slice(bias);
            for &(j, x) in row {
                let w = &weights[j as usize * k..(j as usize + 1) * k];
                for (l, w) in logits.iter_mut().zip(w) {
                    *l += f64::from(x) * w;
                }
            }
            let log_sum = log_sum_exp(&logits);
            loss += self.c * (log_sum - logits[label as usize]);
            // d(loss)/d(logit) = c * (softmax - one-hot)
            for (i, l) in logits.iter_mut().enumerate() {
                *l = self.c * ((*l - log_sum).exp() - f64::from(u8::from(i == label as usize)));
            }
            let (gw, gb) = g.split_at_mut(self.features * k);
            for &(j, x) in row {
                let gw = &mut gw[j as usize * k..(j as usize + 1) * k];
                for (g, d) in gw.iter_mut().zip(&logits) {
                    *g += f64::from(x) * d;
                }
            }
            for (g, d) in gb.iter_mut().zip(&logits) {
                *g += d;
            }
        }
        (loss, g)
    }
}

fn log_sum_exp(logits: &[f64]) -> f64 {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln()
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, params: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluated(params, |e| e.loss))
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, params: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluated(params, |e| e.gradient.clone()))
    }
}

impl Logistic {
    /// Fits `rows` (of `features` columns) to `labels` in `0..classes`.
    pub fn fit(
        rows: &[SparseRow],
        labels: &[u32],
        features: usize,
        classes: usize,
        c: f64,
        max_iterations: u64,
    ) -> Result<(Self, FitReport), NgramError> {
        if rows.is_empty() || rows.len() != labels.len() || classes < 2 {
            return Err(NgramError::Invalid(format!(
                "a logistic regression needs texts with labels of at least 2 classes (got {} texts, {} labels, {classes} classes)",
                rows.len(),
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= classes) {
            return Err(NgramError::Invalid(format!(
                "label {bad} is outside the {classes} classes"
            )));
        }
        let problem = Problem {
            rows,
            labels,
            features,
            classes,
            c,
            last: Mutex::new(None),
        };
        let solver_error = |e: argmin::core::Error| NgramError::Solver(e.to_string());
        // scikit-learn's lbfgs keeps 10 corrections and stops at a gradient of 1e-4.
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
            .with_tolerance_grad(1e-4)
            .map_err(solver_error)?
            .with_tolerance_cost(0.0)
            .map_err(solver_error)?;
        let start = vec![0.0; (features + 1) * classes];
        let result = Executor::new(problem, solver)
            .configure(|s| s.param(start).max_iters(max_iterations))
            .run()
            .map_err(solver_error)?;
        let state = result.state();
        let params = state
            .get_best_param()
            .ok_or_else(|| NgramError::Solver("it returned no parameters".into()))?;
        let (weights, bias) = params.split_at(features * classes);
        let model = Self {
            classes,
            weights: weights.iter().map(|&w| w as f32).collect(),
            bias: bias.iter().map(|&b| b as f32).collect(),
        };
        let report = FitReport {
            iterations: state.get_iter(),
            loss: state.get_best_cost(),
        };
        Ok((model, report))
    }

    /// The logits of one row.
    pub fn logits(&self, row: &SparseRow) -> Vec<f32> {
        let k = self.classes;
        let mut logits = self.bias.clone();
        for &(j, x) in row {
            let w = &self.weights[j as usize * k..(j as usize + 1) * k];
            for (l, w) in logits.iter_mut().zip(w) {
                *l += x * w;
            }
        }
        logits
    }

    /// The class probabilities of one row.
    pub fn probabilities(&self, row: &SparseRow) -> Vec<f32> {
        let logits = self.logits(row);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<SparseRow>, Vec<u32>) {
        let rows = vec![
            vec![(0, 1.0)],
            vec![(0, 0.8), (2, 0.6)],
            vec![(1, 1.0)],
            vec![(1, 0.6), (2, 0.8)],
        ];
        (rows, vec![0, 0, 1, 1])
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (rows, labels) = toy();
        let p = Problem {
            rows: &rows,
            labels: &labels,
            features: 3,
            classes: 2,
            c: 3.0,
            last: Mutex::new(None),
        };
        let params: Vec<f64> = (0..8).map(|i| (i as f64 * 0.37).sin()).collect();
        let (_, g) = p.loss_and_gradient(&params);
        for i in 0..8 {
            let h = 1e-6;
            let mut up = params.clone();
            up[i] += h;
            let mut down = params.clone();
            down[i] -= h;
            let numeric = (p.loss_and_gradient(&up).0 - p.loss_and_gradient(&down).0) / (2.0 * h);
            assert!((numeric - g[i]).abs() < 1e-5, "{i}: {numeric} vs {}", g[i]);
        }
    }

    #[test]
    fn fits_separable_rows_and_gives_probabilities() {
        let (rows, labels) = toy();
        let (model, report) = Logistic::fit(&rows, &labels, 3, 2, 10.0, 100).unwrap();
        for (row, &label) in rows.iter().zip(&labels) {
            let p = model.probabilities(row);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(p[label as usize] > 0.8, "{p:?}");
        }
        assert!(report.iterations > 0);
    }

    #[test]
    fn refuses_a_label_outside_the_classes() {
        let (rows, _) = toy();
        let e = Logistic::fit(&rows, &[0, 0, 1, 5], 3, 2, 1.0, 10).unwrap_err();
        assert!(e.to_string().contains("label 5"), "{e}");
    }
}

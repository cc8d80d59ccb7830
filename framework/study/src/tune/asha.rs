//! Asynchronous successive halving with promotion (ASHA, Li et al. 2020): every trial
//! is planned for the last rung; it trains to the first rung and pauses there; a trial
//! among the best `1/eta` of those that reached a rung is promoted, resuming from its
//! resume point to the next rung. A promoted trial trains exactly the numbers of a
//! run never paused. New trials start while the budget allows.

use super::journal::Event;
use super::tpe::Sample;

/// One trial, as the journal says it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Its number, from 1.
    pub id: usize,
    /// Its sampled fields.
    pub sample: Sample,
    /// Its score at each rung reached, in rung order.
    pub scores: Vec<f64>,
    /// The rung it is training to, while it trains.
    pub running: Option<usize>,
    /// Why it failed, if it did.
    pub failed: Option<String>,
    /// Its patience ran out: it trains no further.
    pub stopped_early: bool,
}

impl Trial {
    /// The last rung it reached.
    pub fn rung(&self) -> Option<usize> {
        self.scores.len().checked_sub(1)
    }

    /// Its score at its last rung.
    pub fn score(&self) -> Option<f64> {
        self.scores.last().copied()
    }

    /// Where it stands, for people, in a search of `rungs` rungs: `failed: ..`,
    /// `training to rung 2`, `stopped early at rung 1`, `done (last rung)`, `paused at
    /// rung 0`, `sampled`.
    pub fn state(&self, rungs: usize) -> String {
        match (&self.failed, self.running, self.rung()) {
            (Some(reason), _, _) => {
                format!("failed: {}", reason.chars().take(60).collect::<String>())
            }
            (None, Some(rung), _) => format!("training to rung {rung}"),
            (None, None, Some(rung)) if self.stopped_early => {
                format!("stopped early at rung {rung}")
            }
            (None, None, Some(rung)) if rung + 1 == rungs => "done (last rung)".into(),
            (None, None, Some(rung)) => format!("paused at rung {rung}"),
            (None, None, None) => "sampled".into(),
        }
    }
}

/// What to run next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Sample a new trial and train it to the first rung.
    New,
    /// Resume trial `id` to rung `rung`.
    Promote {
        /// The trial.
        id: usize,
        /// The rung.
        rung: usize,
    },
}

/// The search as the journal left it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Every trial, by id (trial `id` at `id - 1`).
    pub trials: Vec<Trial>,
    /// Training steps the jobs started so far account for.
    pub spent: usize,
}

/// The rungs and the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Each rung's step; the last is every trial's `train.steps`.
    pub rungs: Vec<usize>,
    /// A rung promotes the best `1/eta` of the trials that reached it.
    pub eta: usize,
    /// Training steps in all.
    pub budget: usize,
    /// Trials at most.
    pub max_trials: usize,
}

impl Schedule {
    /// Steps a job to `rung` trains.
    pub fn cost(&self, rung: usize) -> usize {
        self.rungs[rung] - rung.checked_sub(1).map_or(0, |r| self.rungs[r])
    }
}

impl Search {
    /// The search the `events` record.
    pub fn replay(events: &[Event], schedule: &Schedule) -> Self {
        let mut search = Self::default();
        for event in events {
            search.apply(event, schedule);
        }
        search
    }

    /// Records `event`.
    pub fn apply(&mut self, event: &Event, schedule: &Schedule) {
        match event {
            Event::Trial { id, sample } => self.trials.push(Trial {
                id: *id,
                sample: sample.clone(),
                scores: Vec::new(),
                running: None,
                failed: None,
                stopped_early: false,
            }),
            Event::Start { id, rung } => {
                self.spent += schedule.cost(*rung);
                if let Some(t) = self.trial_mut(*id) {
                    t.running = Some(*rung);
                }
            }
            Event::Rung {
                id,
                rung,
                score,
                stopped_early,
            } => {
                if let Some(t) = self.trial_mut(*id) {
                    t.scores.truncate(*rung);
                    t.scores.push(*score);
                    t.running = None;
                    t.stopped_early = *stopped_early;
                }
            }
            Event::Failed { id, reason, .. } => {
                if let Some(t) = self.trial_mut(*id) {
                    t.failed = Some(reason.clone());
                    t.running = None;
                }
            }
        }
    }

    fn trial_mut(&mut self, id: usize) -> Option<&mut Trial> {
        self.trials.get_mut(id.checked_sub(1)?)
    }

    /// The jobs that were started and have no result (a search stopped mid-job).
    pub fn unfinished(&self) -> Vec<(usize, usize)> {
        self.trials
            .iter()
            .filter_map(|t| Some((t.id, t.running?)))
            .collect()
    }

    /// Trials sampled whose first job never started (a search stopped in between).
    pub fn unstarted(&self) -> Vec<usize> {
        self.trials
            .iter()
            .filter(|t| t.scores.is_empty() && t.running.is_none() && t.failed.is_none())
            .map(|t| t.id)
            .collect()
    }

    /// The next job, or none when every promotion and new trial would pass the
    /// budget (or the trial cap). Promotions come first, from the highest rung.
    pub fn next_job(&self, schedule: &Schedule) -> Option<Job> {
        let affordable = |rung: usize| self.spent + schedule.cost(rung) <= schedule.budget;
        for rung in (0..schedule.rungs.len() - 1).rev() {
            if !affordable(rung + 1) {
                continue;
            }
            for trial in self.best_at(rung, schedule.eta) {
                let waiting = trial.rung() == Some(rung) && trial.running.is_none();
                if waiting && !trial.stopped_early && trial.failed.is_none() {
                    return Some(Job::Promote {
                        id: trial.id,
                        rung: rung + 1,
                    });
                }
            }
        }
        (self.trials.len() < schedule.max_trials && affordable(0)).then_some(Job::New)
    }

    /// The best `1/eta` (rounded down) of the trials that reached `rung`, best first.
    fn best_at(&self, rung: usize, eta: usize) -> Vec<&Trial> {
        let mut reached: Vec<&Trial> = self
            .trials
            .iter()
            .filter(|t| t.failed.is_none() && t.scores.len() > rung)
            .collect();
        reached.sort_by(|a, b| {
            a.scores[rung]
                .total_cmp(&b.scores[rung])
                .then(a.id.cmp(&b.id))
        });
        reached.truncate(reached.len() / eta.max(1));
        reached
    }

    /// The trials ranked: highest rung reached first, then by score there.
    pub fn ranking(&self) -> Vec<&Trial> {
        let mut ranked: Vec<&Trial> = self
            .trials
            .iter()
            .filter(|t| t.failed.is_none() && !t.scores.is_empty())
            .collect();
        ranked.sort_by(|a, b| {
            b.scores
                .len()
                .cmp(&a.scores.len())
                .then(
                    a.score()
                        .unwrap_or(f64::INFINITY)
                        .total_cmp(&b.score().unwrap_or(f64::INFINITY)),
                )
                .then(a.id.cmp(&b.id))
        });
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            rungs: vec![10, 30, 90],
            eta: 3,
            budget: 1000,
            max_trials: 100,
        }
    }

    /// Plays the scheduler against scores given by each trial's id.
    fn play(score: impl Fn(usize, usize) -> f64, jobs: usize) -> (Search, Vec<Job>) {
        let s = schedule();
        let mut search = Search::default();
        let mut log = Vec::new();
        for _ in 0..jobs {
            let Some(job) = search.next_job(&s) else {
                break;
            };
            log.push(job);
            let (id, rung) = match job {
                Job::New => {
                    let id = search.trials.len() + 1;
                    search.apply(
                        &Event::Trial {
                            id,
                            sample: Sample::new(),
                        },
                        &s,
                    );
                    (id, 0)
                }
                Job::Promote { id, rung } => (id, rung),
            };
            search.apply(&Event::Start { id, rung }, &s);
            let score = score(id, rung);
            search.apply(
                &Event::Rung {
                    id,
                    rung,
                    score,
                    stopped_early: false,
                },
                &s,
            );
        }
        (search, log)
    }

    #[test]
    fn the_best_third_is_promoted_and_the_budget_holds() {
        // Trial 2 is the best at every rung.
        let (search, log) = play(|id, _| if id == 2 { 0.0 } else { id as f64 }, 1000);
        assert_eq!(log[..3], [Job::New, Job::New, Job::New]);
        assert_eq!(log[3], Job::Promote { id: 2, rung: 1 });
        assert!(search.spent <= 1000, "{}", search.spent);
        assert_eq!(search.ranking()[0].id, 2);
        assert_eq!(
            search.ranking()[0].scores.len(),
            3,
            "the best reached the last rung"
        );
        // Nothing more fits.
        assert_eq!(search.next_job(&schedule()), None);
        let full: usize = search.trials.iter().filter(|t| t.scores.len() == 3).count();
        assert!(full >= 1);
    }

    #[test]
    fn failed_and_stopped_trials_are_not_promoted() {
        let s = schedule();
        let mut search = Search::default();
        for id in 1..=3 {
            search.apply(
                &Event::Trial {
                    id,
                    sample: Sample::new(),
                },
                &s,
            );
            search.apply(&Event::Start { id, rung: 0 }, &s);
        }
        search.apply(
            &Event::Failed {
                id: 1,
                rung: 0,
                reason: "nan".into(),
            },
            &s,
        );
        search.apply(
            &Event::Rung {
                id: 2,
                rung: 0,
                score: 0.1,
                stopped_early: true,
            },
            &s,
        );
        search.apply(
            &Event::Rung {
                id: 3,
                rung: 0,
                score: 0.2,
                stopped_early: false,
            },
            &s,
        );
        assert_eq!(search.next_job(&s), Some(Job::New));
        assert_eq!(search.spent, 30);
        assert!(search.unfinished().is_empty());
    }
}

//! Classify requests that arrive together run as one model call: the first request
//! opens a batch, which takes the requests that come in the next
//! [`Limits::batch_window`] (up to [`Limits::max_batch`] names) and runs them in one
//! ONNX Runtime call, so a model call's fixed cost is paid once for many callers. A
//! batch stops waiting as soon as it holds every classify request in flight: a lone
//! caller waits for nobody.

use crate::{ApiError, Limits, Pool};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout_at, Instant};
use xp_serve::predict::{classify, Answer, Classified};

/// The answers of one classify request.
pub type Classifications = Result<Vec<Answer<Classified>>, ApiError>;

/// One request waiting in a batch.
struct Job {
    objective: String,
    names: Vec<String>,
    k: usize,
    reply: oneshot::Sender<Classifications>,
}

/// The handle requests send their names to.
#[derive(Clone)]
pub struct Batcher {
    jobs: mpsc::Sender<Job>,
    in_flight: Arc<AtomicUsize>,
}

impl Batcher {
    /// Starts the batching task (inside a tokio runtime).
    pub fn start(pool: Arc<Pool>, limits: Limits) -> Self {
        let (jobs, queue) = mpsc::channel(1024);
        let in_flight = Arc::new(AtomicUsize::new(0));
        tokio::spawn(collect(queue, pool, limits, in_flight.clone()));
        Self { jobs, in_flight }
    }

    /// The top `k` classes of each name by `objective`, batched with other requests.
    pub async fn classify(
        &self,
        objective: String,
        names: Vec<String>,
        k: usize,
    ) -> Classifications {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            objective,
            names,
            k,
            reply,
        };
        let _counted = InFlight::enter(&self.in_flight);
        self.jobs
            .send(job)
            .await
            .map_err(|_| ApiError::internal("the batcher has stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the batch was dropped"))?
    }
}

/// Counts a classify request from its start to its answer (or its caller leaving).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Gathers jobs into batches and starts each batch's model call.
async fn collect(
    mut queue: mpsc::Receiver<Job>,
    pool: Arc<Pool>,
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
) {
    while let Some(first) = queue.recv().await {
        let deadline = Instant::now() + limits.batch_window;
        let mut names = first.names.len();
        let mut jobs = vec![first];
        // Requests in flight and not in this batch are either running in an earlier
        // batch or about to arrive: only the latter are worth waiting for, and the
        // window bounds the wait when they are the former.
        while names < limits.max_batch && jobs.len() < in_flight.load(Ordering::SeqCst) {
            match timeout_at(deadline, queue.recv()).await {
                Ok(Some(job)) => {
                    names += job.names.len();
                    jobs.push(job);
                }
                _ => break,
            }
        }
        let mut by_objective: BTreeMap<String, Vec<Job>> = BTreeMap::new();
        for job in jobs {
            by_objective
                .entry(job.objective.clone())
                .or_default()
                .push(job);
        }
        for (objective, jobs) in by_objective {
            tokio::spawn(run(pool.clone(), objective, jobs, limits.max_batch));
        }
    }
}

/// One model call for `jobs`, its answers split back to each.
async fn run(pool: Arc<Pool>, objective: String, jobs: Vec<Job>, batch_size: usize) {
    let k = jobs.iter().map(|j| j.k).max().unwrap_or(1);
    let names: Vec<String> = jobs.iter().flat_map(|j| j.names.iter().cloned()).collect();
    let answers = pool
        .run(move |model| classify(model, &objective, &names, k, batch_size))
        .await
        .and_then(|r| r.map_err(ApiError::from));
    match answers {
        Ok(answers) => {
            let mut answers = answers.into_iter();
            for job in jobs {
                let mine: Vec<Answer<Classified>> = answers
                    .by_ref()
                    .take(job.names.len())
                    .map(|a| {
                        a.map(|mut c| {
                            c.top.truncate(job.k);
                            c
                        })
                    })
                    .collect();
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

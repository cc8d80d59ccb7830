//! ONNX Runtime sessions of one model, shared by all requests: a request borrows a
//! free session, runs on a blocking thread, and gives it back.

use crate::ApiError;
use std::sync::Mutex;
use tokio::sync::Semaphore;
use xp_serve::{ModelInfo, OnnxModel};

/// Sessions of one model.
pub struct Pool {
    free: Mutex<Vec<OnnxModel>>,
    permits: Semaphore,
    /// The model's metadata.
    pub info: ModelInfo,
}

impl Pool {
    /// `size` models (at least one) over the file of `model`, each with sessions of
    /// its own that share the cores out (they run at once).
    pub fn new(model: OnnxModel, size: usize) -> Self {
        let info = model.info.clone();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let model = model.with_threads(cores / size.max(1));
        let mut models: Vec<OnnxModel> = (1..size.max(1)).map(|_| model.share()).collect();
        models.push(model);
        Self {
            permits: Semaphore::new(models.len()),
            free: Mutex::new(models),
            info,
        }
    }

    /// Runs `work` on a free session, on a blocking thread.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut OnnxModel) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the server is stopping"))?;
        let mut model = self.take()?;
        let done = tokio::task::spawn_blocking(move || {
            let result = work(&mut model);
            (model, result)
        })
        .await;
        match done {
            Ok((model, result)) => {
                self.give_back(model);
                Ok(result)
            }
            Err(e) => {
                // The session went down with the failed task: one fewer to lend.
                permit.forget();
                Err(ApiError::internal(format!("a model call failed: {e}")))
            }
        }
    }

    fn take(&self) -> Result<OnnxModel, ApiError> {
        self.free
            .lock()
            .map_err(|_| ApiError::internal("the session pool is unusable"))?
            .pop()
            .ok_or_else(|| ApiError::internal("no free session despite a permit"))
    }

    fn give_back(&self, model: OnnxModel) {
        if let Ok(mut free) = self.free.lock() {
            free.push(model);
        }
    }
}

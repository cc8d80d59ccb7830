//! `xp serve`: a JSON API and a page over an exported xp model, axum on tokio.
//!
//! - `POST /api/classify` `{"names": [..], "k": 3}`: top-k languages per name;
//! - `POST /api/fill` `{"name": "Na_amura", "k": 5}`: candidates per `_` or `[MASK]`;
//! - `POST /api/generate` `{"prefix": "Mc", "count": 5, "temperature": 0.8, "seed": 1}`;
//! - `POST /api/attention` `{"name": "Nakamura", "objective": "cls"}`: every map;
//! - `GET /api/model`: the model's metadata; `GET /healthz`; `GET /`: the page.
//!
//! ONNX Runtime sessions live in a [`pool::Pool`] shared by all requests; classify
//! requests arriving together are run as one batch ([`batch`]). Bad requests get a 4xx
//! with `{"error": "..."}` saying what to change.

pub mod api;
pub mod batch;
pub mod error;
pub mod page;
pub mod pool;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use error::ApiError;
pub use pool::Pool;

/// What one request may ask, and how classify requests are batched.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most names in one classify request.
    pub max_names: usize,
    /// Most names in one generate request.
    pub max_generate: usize,
    /// How long a classify batch waits for more requests once the first arrived.
    pub batch_window: Duration,
    /// Most names in one batch.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_names: 256,
            max_generate: 64,
            batch_window: Duration::from_millis(2),
            max_batch: 256,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The model's sessions.
    pub pool: Arc<Pool>,
    /// The classify batcher.
    pub batcher: batch::Batcher,
    /// The limits.
    pub limits: Limits,
}

/// The service: API, page and health check.
pub fn router(pool: Arc<Pool>, limits: Limits) -> axum::Router {
    let batcher = batch::Batcher::start(pool.clone(), limits);
    api::routes(AppState {
        pool,
        batcher,
        limits,
    })
}

/// Serves `router` on `addr` until SIGINT or SIGTERM, then finishes the requests in
/// flight and returns. `ready` is told the bound address (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    router: axum::Router,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
}

/// Resolves at the first SIGINT or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

//! `xp serve`: loads the model into a pool of ONNX Runtime sessions and serves
//! `xp_http`'s router until SIGINT or SIGTERM.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use xp_http::{Limits, Pool};

/// `xp serve -m MODEL`.
pub fn serve(
    model: &Path,
    addr: SocketAddr,
    sessions: Option<usize>,
    limits: Limits,
) -> Result<()> {
    let sessions =
        sessions.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let source = crate::serving::ModelSource::at(model)?;
    let pool = Arc::new(Pool::new(source.open()?, sessions));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    let objectives: Vec<String> = pool.info.objectives.keys().cloned().collect();
    runtime.block_on(async move {
        let router = xp_http::router(pool, limits);
        xp_http::serve(addr, router, |bound| {
            println!(
                "serving {} ({}) on http://{bound} with {sessions} sessions; Ctrl-C to stop",
                model.display(),
                objectives.join(", ")
            );
        })
        .await
        .with_context(|| format!("cannot serve on {addr}"))
    })?;
    eprintln!("stopped: every request in flight was answered");
    Ok(())
}

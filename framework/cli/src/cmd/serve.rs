//! `xp serve`: loads the model into a pool of ONNX Runtime sessions and serves
//! `xp_http`'s router until SIGINT or SIGTERM.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use xp_http::{Limits, Pool};

/// `xp serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An exported model (.onnx), or a run folder (exported in memory, with
    /// attention maps).
    #[arg(long, short)]
    model: PathBuf,
    /// Address to listen on (port 0: a free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// ONNX Runtime sessions shared by the requests (default: the cores).
    #[arg(long)]
    sessions: Option<usize>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_body: usize,
    /// Most names in one classify request.
    #[arg(long, default_value_t = 256)]
    max_names: usize,
    /// Most names in one generate request.
    #[arg(long, default_value_t = 64)]
    max_generate: usize,
    /// How long a classify batch waits for more requests, in milliseconds (0:
    /// no batching across requests).
    #[arg(long, default_value_t = 2)]
    batch_window_ms: u64,
}

/// Runs `xp serve -m MODEL`.
pub fn run(args: Args) -> Result<()> {
    let (model, addr) = (&args.model, args.addr);
    let limits = Limits {
        max_body_bytes: args.max_body,
        max_names: args.max_names,
        max_generate: args.max_generate,
        batch_window: std::time::Duration::from_millis(args.batch_window_ms),
        ..Limits::default()
    };
    let sessions = args
        .sessions
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let source = crate::model_source::ModelSource::at(model)?;
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

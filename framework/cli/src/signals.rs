//! Ctrl-C and SIGTERM: the first asks the run to stop at the next step (it writes a
//! resume point and says how to continue); a second one ends the process at once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A flag that SIGINT and SIGTERM set.
pub fn stop_flag() -> std::io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so it sees the flag before this signal sets it: it exits
        // only on a second signal.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    Ok(flag)
}

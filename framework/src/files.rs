//! Writing files so that a reader never sees half of one, and a failure loses nothing.

use crate::error::{Result, XpError};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder, then renames it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| std::fs::File::create(tmp)?.write_all(bytes))
}

/// Lets `write` fill a temporary path beside `path`, then renames it over `path`.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Keep the extension: some writers pick the format from it.
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(".xp-tmp-")
        .suffix(&suffix)
        .tempfile_in(dir)
        .map_err(|e| XpError::write(path, e))?
        .into_temp_path();
    write(&tmp).map_err(|e| XpError::write(path, e))?;
    tmp.persist(path)
        .map_err(|e| XpError::write(path, e.error))?;
    Ok(())
}

//! Writing files so that a reader never sees half of one, and a failure loses nothing:
//! each file is written beside its destination under a temporary name, flushed to the
//! disk, renamed over the destination, and the folder's entry flushed too. New files
//! get the permissions the umask allows (as any tool's would), not the private mode of
//! a temporary file.

use crate::error::{Result, XpError};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (see the module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| File::create(tmp)?.write_all(bytes))
}

/// Lets `write` fill a temporary path beside `path`, then makes it `path` atomically
/// (see the module docs).
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
    let io = |e| XpError::write(path, e);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".xp-tmp-").suffix(&suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with mode 0666, which the kernel narrows by the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(io)?.into_temp_path();
    let mode = std::fs::metadata(&tmp).map_err(io)?.permissions();
    write(&tmp).map_err(io)?;
    // Some writers (safetensors) replace the file with their own private one.
    std::fs::set_permissions(&tmp, mode).map_err(io)?;
    File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    sync_dir(dir).map_err(io)
}

/// The SHA-256 of `bytes`, in lowercase hex (as `sha256sum` prints it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Flushes the entries of `dir` (a rename is durable only then).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_is_left() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| XpError::Run(e.to_string()))?;
        let path = dir.path().join("a.json");
        write_atomic(&path, b"first")?;
        write_atomic(&path, b"second")?;
        let failed = write_atomic_with(&path, |_| Err(std::io::Error::other("disk full")));
        let err = failed.expect_err("the writer failed").to_string();
        assert!(err.contains("a.json") && err.contains("disk full"), "{err}");
        assert_eq!(
            std::fs::read(&path).map_err(|e| XpError::read(&path, e))?,
            b"second"
        );
        let entries = std::fs::read_dir(dir.path())
            .map_err(|e| XpError::read(dir.path(), e))?
            .count();
        assert_eq!(entries, 1, "a temporary file was left behind");
        Ok(())
    }
}

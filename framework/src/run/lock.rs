//! The lock of a folder one process alone may write (a run's, a tune's): an advisory
//! lock on its lock file, which the system drops when the process ends however it
//! ends, with the writer's process id written in the file.

use super::RunFiles;
use crate::error::{Result, XpError};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

/// Tries to take the lock this long before refusing: a reader that asks who writes
/// (see [`writer`]) holds it for an instant.
const PATIENCE: Duration = Duration::from_millis(200);

/// Locks the folder `dir` for this process and writes this process's id in its lock
/// file; a lock held by another process is refused with that process's id.
pub fn lock(dir: &Path) -> Result<File> {
    let path = RunFiles::at(dir).lock();
    let io = |e| XpError::write(&path, e);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < PATIENCE => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(XpError::Run(format!(
                    "{} is being written by another xp (process {}): wait for it to end, or stop it",
                    dir.display(),
                    if holder.is_empty() { "unknown" } else { holder }
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(XpError::Run(format!("cannot lock {}: {e}", path.display())))
            }
        }
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(file)
}

/// The process id of the live process writing the folder `dir`, if one is (a lock
/// file left by a process that ended is not held). `Some(None)`: held, by a process
/// whose id the file does not say.
pub fn writer(dir: &Path) -> Option<Option<u32>> {
    let mut file = File::open(RunFiles::at(dir).lock()).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Some(holder.trim().parse().ok())
        }
        Err(TryLockError::Error(_)) => None,
    }
}

/// Removes what writers killed mid-file left in `dir`: their temporary files (call
/// it holding the folder's lock).
pub(crate) fn remove_temporaries(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| XpError::read(dir, e))?;
    for entry in entries.flatten() {
        if RunFiles::is_temporary(&entry.file_name().to_string_lossy()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| XpError::write(path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_writer_and_a_released_one_names_none() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| XpError::Run(e.to_string()))?;
        assert_eq!(writer(dir.path()), None, "no lock file yet");
        let held = lock(dir.path())?;
        assert_eq!(writer(dir.path()), Some(Some(std::process::id())));
        let again = lock(dir.path()).expect_err("a second writer is refused");
        assert!(
            again.to_string().contains(&std::process::id().to_string()),
            "{again}"
        );
        drop(held);
        // The file stays, with the old id in it: a stale lock.
        assert!(RunFiles::at(dir.path()).lock().exists());
        assert_eq!(writer(dir.path()), None);
        Ok(())
    }
}

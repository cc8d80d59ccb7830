//! Finding and loading the ONNX Runtime library (`ort` with `load-dynamic`).
//!
//! In order: `ORT_DYLIB_PATH`; the `onnxruntime` Python package of the active virtual
//! environment, of `./.venv`, or of `python3`/`python`; the system library path.

use crate::ServeError;
use ort::environment::Environment;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What a user is told when no library is found.
pub const INSTALL_HINT: &str = "install it with `pip install onnxruntime` (xp finds the \
library inside the Python package), or point ORT_DYLIB_PATH at libonnxruntime.so";

#[cfg(target_os = "macos")]
const LIB_NAME: &str = "libonnxruntime.dylib";
#[cfg(target_os = "windows")]
const LIB_NAME: &str = "onnxruntime.dll";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const LIB_NAME: &str = "libonnxruntime.so";

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process's ONNX Runtime environment, loading the library on first use.
pub fn environment() -> Result<&'static Environment, ServeError> {
    ENVIRONMENT
        .get_or_init(load)
        .as_ref()
        .map_err(|e| ServeError::Runtime(e.clone()))
}

fn load() -> Result<Environment, String> {
    let path = locate()?;
    let builder = ort::environment::init_from(&path).map_err(|e| {
        format!(
            "could not load ONNX Runtime from {}: {e}; {INSTALL_HINT}",
            path.display()
        )
    })?;
    builder
        .with_name("xp")
        .build()
        .map_err(|e| format!("could not start ONNX Runtime: {e}"))
}

/// The library to load: see the module docs for the order.
pub fn locate() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH is {}, which is not a file; {INSTALL_HINT}",
                path.display()
            ))
        };
    }
    for python in pythons() {
        if let Some(lib) = python_package_dir(&python).and_then(|d| library_in(&d.join("capi"))) {
            return Ok(lib);
        }
    }
    // Last resort: let the dynamic loader search the system library path.
    Ok(PathBuf::from(LIB_NAME))
}

fn pythons() -> Vec<PathBuf> {
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    let mut candidates = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        candidates.push(Path::new(&venv).join(bin).join("python"));
    }
    candidates.push(Path::new(".venv").join(bin).join("python"));
    candidates.push("python3".into());
    candidates.push("python".into());
    candidates
}

fn python_package_dir(python: &Path) -> Option<PathBuf> {
    let script = "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))";
    let out = Command::new(python).args(["-c", script]).output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// `libonnxruntime.so.1.31.1` and the like inside `dir`.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.") || n == "onnxruntime.dll")
        })
        .collect();
    found.sort();
    found.pop()
}

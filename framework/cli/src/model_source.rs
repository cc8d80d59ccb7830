//! A model to serve: an exported file, or a run folder exported in memory with its
//! attention maps (what `xp attention` and `xp serve` accept).

use anyhow::Result;
use std::path::{Path, PathBuf};
use xp_framework::export::{export_run, ExportOptions};
use xp_serve::OnnxModel;

/// A model to serve: an exported file, or a run folder exported in memory with its
/// attention maps (what `xp attention` and `xp serve` accept).
pub enum ModelSource {
    /// An `.onnx` file.
    File(PathBuf),
    /// A run, exported: the file's bytes and the run's folder.
    Run(Vec<u8>, String),
}

impl ModelSource {
    /// The source at `path`: a run folder when it is a folder, else a file.
    pub fn at(path: &Path) -> Result<Self> {
        if !path.is_dir() {
            return Ok(Self::File(path.to_path_buf()));
        }
        // An ensemble has no attention maps of its own.
        let attention = !xp_framework::run::RunFiles::at(path).is_ensemble();
        let (_, exported) = export_run(
            path,
            ExportOptions {
                attention,
                ..ExportOptions::default()
            },
        )?;
        Ok(Self::Run(exported.bytes, path.display().to_string()))
    }

    /// A session of the model.
    pub fn open(&self) -> std::result::Result<OnnxModel, xp_serve::ServeError> {
        match self {
            Self::File(path) => OnnxModel::load(path),
            Self::Run(bytes, origin) => OnnxModel::from_bytes(bytes, origin),
        }
    }
}

//! A run's figures as images of its TensorBoard event file (the images dashboard),
//! tagged by file stem (`metrics`, `confusion_CLS`) at the run's last step.

use super::RunFiles;
use crate::error::{Result, XpError};
use std::path::{Path, PathBuf};
use xp_tensorboard::{event, EventWriter};

/// Appends every PNG of `pngs` to the event file of the run folder `files` at `step`.
pub fn add_to_events(files: &RunFiles, step: usize, pngs: &[PathBuf]) -> Result<()> {
    let mut values = Vec::new();
    for path in pngs {
        let png = std::fs::read(path).map_err(|e| XpError::read(path, e))?;
        let Some((width, height)) = png_size(&png) else {
            return Err(XpError::Run(format!(
                "{} is not a PNG file",
                path.display()
            )));
        };
        values.push(event::image(&stem(path), &png, width, height));
    }
    if values.is_empty() {
        return Ok(());
    }
    let mut events = EventWriter::append(&files.tensorboard())?;
    events.write(step as u64, values)?;
    Ok(events.flush()?)
}

/// Width and height from a PNG's header (its first chunk, `IHDR`).
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !png.starts_with(SIGNATURE) || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let word = |at: usize| Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    Some((word(16)?, word(20)?))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pngs_size_is_read_from_its_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(640u32.to_be_bytes());
        png.extend(480u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((640, 480)));
        assert_eq!(png_size(b"GIF89a"), None);
        assert_eq!(png_size(&png[..20]), None);
    }
}

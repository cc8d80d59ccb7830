//! Finding the corpus, and fetching it from the PyTorch tutorial archive when absent.
//!
//! The archive holds `data/names/LANGUAGE.txt`; only those 18 files are kept. A sum
//! that differs from the known one is reported, not refused: the upstream bytes
//! cannot be checked from here, and a user who just fetched the corpus should get it.

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use xp_framework::data::{language_files, read_names, CorpusError};

/// The official archive of the PyTorch "classifying names" tutorial.
pub const CORPUS_URL: &str = "https://download.pytorch.org/tutorial/data.zip";

/// The 18 language files and their SHA-256 sums.
pub const LANGUAGES: [(&str, &str); 18] = [
    (
        "Arabic",
        "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc",
    ),
    (
        "Chinese",
        "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e",
    ),
    (
        "Czech",
        "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e",
    ),
    (
        "Dutch",
        "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3",
    ),
    (
        "English",
        "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2",
    ),
    (
        "French",
        "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95",
    ),
    (
        "German",
        "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db",
    ),
    (
        "Greek",
        "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6",
    ),
    (
        "Irish",
        "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058",
    ),
    (
        "Italian",
        "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4",
    ),
    (
        "Japanese",
        "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f",
    ),
    (
        "Korean",
        "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136",
    ),
    (
        "Polish",
        "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826",
    ),
    (
        "Portuguese",
        "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53",
    ),
    (
        "Russian",
        "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3",
    ),
    (
        "Scottish",
        "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd",
    ),
    (
        "Spanish",
        "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7",
    ),
    (
        "Vietnamese",
        "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d",
    ),
];

/// Fewer lines than this in the fetched files means the archive is not the corpus.
const MIN_LINES: usize = 15_000;

/// Why the corpus could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The download failed (offline, proxy, server error).
    #[error("could not download the names corpus from {url}: {reason}\n  fix: download {url} by hand, unzip it, and put the 18 files of data/names/ in {dest} (or point [data] dir at a folder that has them)")]
    Download {
        /// Where from.
        url: String,
        /// Where it was going.
        dest: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The archive is not the expected one.
    #[error("the archive from {url} is not the names corpus: {reason}")]
    NotTheCorpus {
        /// Where from.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing the corpus failed.
    #[error("cannot write the corpus to {dest}: {source}")]
    Write {
        /// Where to.
        dest: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading the extracted corpus failed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
}

/// What a fetch did.
#[derive(Debug, Clone)]
pub struct FetchReport {
    /// Where the corpus now is.
    pub dir: PathBuf,
    /// Files whose SHA-256 differs from the known sum.
    pub mismatched: Vec<String>,
}

/// `$XDG_CACHE_HOME/xp/names`, else `~/.cache/xp/names`, else `./.xp-cache/names`.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".xp-cache"));
    base.join("xp").join("names")
}

/// The corpus folder to read: `dir` if given (it must hold the corpus), else
/// `$XP_DATA_DIR`, else the cache, fetched there first when it is absent.
pub fn locate_corpus(dir: Option<&Path>) -> Result<PathBuf, FetchError> {
    if let Some(dir) = dir {
        language_files(dir)?;
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("XP_DATA_DIR") {
        let dir = PathBuf::from(dir);
        language_files(&dir)?;
        return Ok(dir);
    }
    let cache = default_cache_dir();
    if language_files(&cache).is_ok() {
        return Ok(cache);
    }
    let url = std::env::var("XP_CORPUS_URL").unwrap_or_else(|_| CORPUS_URL.to_owned());
    eprintln!(
        "The names corpus is not on this machine: fetching {url} into {}",
        cache.display()
    );
    let report = fetch_corpus(&url, &cache)?;
    warn_mismatches(&report);
    Ok(report.dir)
}

/// Prints a warning for every file whose sum differs from the known one.
pub fn warn_mismatches(report: &FetchReport) {
    for file in &report.mismatched {
        eprintln!("warning: {file} differs from the known copy (SHA-256); using it all the same");
    }
}

/// Downloads the archive at `url` and installs its `data/names/*.txt` in `dest`,
/// replacing what was there only once everything is verified.
pub fn fetch_corpus(url: &str, dest: &Path) -> Result<FetchReport, FetchError> {
    let download = |reason: String| FetchError::Download {
        url: url.to_owned(),
        dest: dest.to_path_buf(),
        reason,
    };
    let write = |source| FetchError::Write {
        dest: dest.to_path_buf(),
        source,
    };
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(write)?;
    let mut archive = tempfile::tempfile_in(parent).map_err(write)?;
    download_to(url, &mut archive).map_err(download)?;

    let staging = tempfile::tempdir_in(parent).map_err(write)?;
    let mismatched =
        extract_names(archive, staging.path()).map_err(|reason| FetchError::NotTheCorpus {
            url: url.to_owned(),
            reason,
        })?;
    let lines: usize = language_files(staging.path())?
        .iter()
        .map(|p| read_names(p).map(|n| n.len()))
        .sum::<Result<_, _>>()?;
    if lines < MIN_LINES {
        return Err(FetchError::NotTheCorpus {
            url: url.to_owned(),
            reason: format!("{lines} names, the corpus has about 20,000"),
        });
    }
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(write)?;
    }
    std::fs::rename(staging.keep(), dest).map_err(write)?;
    Ok(FetchReport {
        dir: dest.to_path_buf(),
        mismatched,
    })
}

fn download_to(url: &str, out: &mut std::fs::File) -> Result<(), String> {
    let mut response = ureq::get(url).call().map_err(|e| e.to_string())?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bar = ProgressBar::new(total.unwrap_or(0));
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_message("downloading names corpus");
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Writes the 18 language files of the archive to `dir`; returns those whose sum differs.
fn extract_names(archive: std::fs::File, dir: &Path) -> Result<Vec<String>, String> {
    let mut zip = zip::ZipArchive::new(archive).map_err(|e| format!("not a zip archive ({e})"))?;
    let mut mismatched = Vec::new();
    for (language, sum) in LANGUAGES {
        let file_name = format!("{language}.txt");
        let mut entry = zip
            .by_name(&format!("data/names/{file_name}"))
            .map_err(|_| format!("data/names/{file_name} is missing"))?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{file_name}: {e}"))?;
        if hex(&Sha256::digest(&bytes)) != sum {
            mismatched.push(file_name.clone());
        }
        std::fs::write(dir.join(&file_name), bytes).map_err(|e| format!("{file_name}: {e}"))?;
    }
    Ok(mismatched)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `experiment` with `data.dir` resolved by [`locate_corpus`] (fetching the corpus
/// into the cache when it is nowhere to be found).
pub fn with_corpus(
    mut experiment: xp_framework::config::Experiment,
) -> Result<xp_framework::config::Experiment, FetchError> {
    experiment.data.dir = Some(locate_corpus(experiment.data.dir.as_deref())?);
    Ok(experiment)
}

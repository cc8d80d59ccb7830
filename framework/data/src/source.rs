//! Which files `[data]` names, how each is read, and which files beside them are not
//! read (listed, never skipped in silence).

use crate::config::{DataConfig, Format};
use crate::split::SplitName;
use crate::DataError;
use std::path::{Path, PathBuf};

/// What the records of one file are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Every record is of this class (a class file: the file's name).
    Class(String),
    /// Records carry their own labels, if any (a CSV, a FASTA file, ...).
    Mixed,
    /// Every record belongs to this split of the user's own (`train_file`, ...).
    Split(SplitName),
}

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file on disk.
    Disk,
    /// A file of the corpus built into xp.
    Embedded(Vec<u8>),
}

/// One file to read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file (`embedded/NAME.txt` for the corpus built into xp).
    pub path: PathBuf,
    /// How it is read (never [`Format::Auto`]).
    pub format: Format,
    /// What its records are.
    pub role: Role,
    /// Where its bytes come from.
    pub origin: Origin,
}

impl SourceFile {
    /// The file's bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, DataError> {
        match &self.origin {
            Origin::Embedded(bytes) => Ok(bytes.clone()),
            Origin::Disk => std::fs::read(&self.path).map_err(|source| DataError::Unreadable {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// A file beside the data that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotRead {
    /// The file or folder.
    pub path: PathBuf,
    /// Why it is not read.
    pub why: String,
}

/// The files `[data]` names.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Where the data is, for people: a folder, a pattern, a file, or the corpus built
    /// into xp.
    pub description: String,
    /// The files read, in order.
    pub files: Vec<SourceFile>,
    /// Files beside them that are not read.
    pub not_read: Vec<NotRead>,
}

/// The files of `config`'s data.
pub fn list(config: &DataConfig) -> Result<Listing, DataError> {
    if let Some(dir) = &config.dir {
        return class_folder(dir, config.format);
    }
    if let Some(pattern) = &config.files {
        return class_glob(pattern, config.format);
    }
    if let Some(path) = &config.path {
        let file = one_file(path, "data.path", config.format, Role::Mixed)?;
        return Ok(Listing {
            description: path.display().to_string(),
            files: vec![file],
            not_read: Vec::new(),
        });
    }
    if let Some(train) = &config.train_file {
        return split_files(config, train);
    }
    embedded()
}

fn embedded() -> Result<Listing, DataError> {
    let files = xp_corpus::files()?
        .into_iter()
        .map(|f| SourceFile {
            path: Path::new("embedded").join(format!("{}.txt", f.language)),
            format: Format::Lines,
            role: Role::Class(f.language),
            origin: Origin::Embedded(f.bytes),
        })
        .collect();
    Ok(Listing {
        description: "the corpus built into xp".into(),
        files,
        not_read: Vec::new(),
    })
}

fn missing(path: &Path, field: &'static str, reason: impl Into<String>) -> DataError {
    DataError::Missing {
        path: path.to_path_buf(),
        field,
        reason: reason.into(),
    }
}

/// A class file: one text per line or FASTA records, the file's name its label.
fn class_file(path: PathBuf, format: Format) -> Result<SourceFile, DataError> {
    let format = format.of(&path);
    if !matches!(format, Format::Lines | Format::Fasta) {
        return Err(DataError::Layout {
            path,
            reason: format!(
                "a class folder holds one file per class, one text per line or FASTA, not {}: to read a {} file of texts and labels set data.path",
                format.name(),
                format.name()
            ),
        });
    }
    let label = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(SourceFile {
        path,
        format,
        role: Role::Class(label),
        origin: Origin::Disk,
    })
}

fn class_folder(dir: &Path, format: Format) -> Result<Listing, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let reason = match dir.is_file() {
            true => "it is a file: a file of texts and labels is data.path, a folder of class files data.dir".to_owned(),
            false => format!("{e}: expected a folder with one file per class, one text per line (leave [data] dir unset to use the corpus built into xp, or `xp data --write DIR` to write it out)"),
        };
        missing(dir, "data.dir", reason)
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut files, mut not_read) = (Vec::new(), Vec::new());
    for path in paths {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let why = match (hidden, path.is_dir()) {
            (_, true) => "a folder (class folders are not read recursively)",
            (true, false) => "a hidden file",
            (false, false) => {
                files.push(class_file(path, format)?);
                continue;
            }
        };
        not_read.push(NotRead {
            path,
            why: why.into(),
        });
    }
    if files.is_empty() {
        return Err(missing(
            dir,
            "data.dir",
            "the folder holds no file: expected one file per class, one text per line (leave [data] dir unset to use the corpus built into xp)",
        ));
    }
    Ok(Listing {
        description: dir.display().to_string(),
        files,
        not_read,
    })
}

fn class_glob(pattern: &str, format: Format) -> Result<Listing, DataError> {
    let bad = |reason: String| DataError::Invalid {
        field: "data.files".into(),
        reason,
    };
    let matches =
        glob::glob(pattern).map_err(|e| bad(format!("{pattern:?} is not a glob: {e}")))?;
    let mut paths: Vec<PathBuf> = matches
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(missing(
            Path::new(pattern),
            "data.files",
            "the pattern matches no file (a pattern is case-sensitive: `*.txt` does not match `A.TXT`)",
        ));
    }
    let matched: std::collections::HashSet<&PathBuf> = paths.iter().collect();
    let mut folders: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
    folders.dedup();
    let mut not_read = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let mut others: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !matched.contains(p))
            .collect();
        others.sort();
        not_read.extend(others.into_iter().map(|path| NotRead {
            path,
            why: format!("not matched by data.files = {pattern:?}"),
        }));
    }
    let files = paths
        .into_iter()
        .map(|p| class_file(p, format))
        .collect::<Result<_, _>>()?;
    Ok(Listing {
        description: pattern.to_owned(),
        files,
        not_read,
    })
}

fn one_file(
    path: &Path,
    field: &'static str,
    format: Format,
    role: Role,
) -> Result<SourceFile, DataError> {
    if path.is_dir() {
        return Err(missing(
            path,
            field,
            "it is a folder: a folder of class files is data.dir",
        ));
    }
    if !path.is_file() {
        return Err(missing(path, field, "no such file"));
    }
    Ok(SourceFile {
        path: path.to_path_buf(),
        format: format.of(path),
        role,
        origin: Origin::Disk,
    })
}

fn split_files(config: &DataConfig, train: &Path) -> Result<Listing, DataError> {
    let mut files = vec![one_file(
        train,
        "data.train_file",
        config.format,
        Role::Split(SplitName::Train),
    )?];
    for (path, field, split) in [
        (&config.valid_file, "data.valid_file", SplitName::Valid),
        (&config.test_file, "data.test_file", SplitName::Test),
    ] {
        if let Some(path) = path {
            files.push(one_file(path, field, config.format, Role::Split(split))?);
        }
    }
    let description = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Listing {
        description,
        files,
        not_read: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for name in ["Swedish.TXT", "Polish.txt", "a,b c.words", ".DS_Store"] {
            std::fs::write(dir.path().join(name), "x\n").unwrap_or_default();
        }
        std::fs::create_dir(dir.path().join("more")).unwrap_or_default();
        dir
    }

    #[test]
    fn a_folder_reads_every_file_and_lists_the_rest() {
        let dir = folder();
        let listing = list(&DataConfig {
            dir: Some(dir.path().to_path_buf()),
            ..DataConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let labels: Vec<Role> = listing.files.iter().map(|f| f.role.clone()).collect();
        assert_eq!(
            labels,
            ["Polish", "Swedish", "a,b c"].map(|l| Role::Class(l.into()))
        );
        let why: Vec<&str> = listing.not_read.iter().map(|n| n.why.as_str()).collect();
        assert_eq!(
            why,
            [
                "a hidden file",
                "a folder (class folders are not read recursively)"
            ]
        );
    }

    #[test]
    fn a_glob_lists_what_it_does_not_match() {
        let dir = folder();
        let pattern = format!("{}/*.txt", dir.path().display());
        let listing = list(&DataConfig {
            files: Some(pattern),
            ..DataConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listing.files.len(), 1);
        let names: Vec<String> = listing
            .not_read
            .iter()
            .filter_map(|n| n.path.file_name().map(|f| f.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, [".DS_Store", "Swedish.TXT", "a,b c.words"]);
    }

    #[test]
    fn a_file_where_a_folder_is_expected_and_the_reverse_are_named() {
        let dir = folder();
        let file = dir.path().join("Polish.txt");
        let as_dir = list(&DataConfig {
            dir: Some(file.clone()),
            ..DataConfig::default()
        });
        assert!(as_dir.err().is_some_and(|e| e
            .to_string()
            .contains("it is a file: a file of texts and labels is data.path")));
        let as_file = list(&DataConfig {
            path: Some(dir.path().to_path_buf()),
            ..DataConfig::default()
        });
        assert!(as_file
            .err()
            .is_some_and(|e| e.to_string().contains("it is a folder")));
    }
}

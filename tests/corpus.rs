//! The corpus built into xp: the published files byte for byte, the default when no
//! folder is named (offline, with an empty home folder), and the same runs as from the
//! folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{corpus_dir, stderr, tiny_experiment, write};
use std::path::Path;
use std::process::{Command, Output};

/// `xp` with `args`, no `XP_DATA_DIR`, and an empty home folder.
fn xp_offline(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(args)
        .env_remove("XP_DATA_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", home)
        .output()
        .unwrap()
}

#[test]
fn the_built_in_files_are_the_published_ones_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("names");
    let done = xp_offline(dir.path(), &["data", "--write", out.to_str().unwrap()]);
    assert!(done.status.success(), "{}", stderr(&done));
    let mut written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    written.sort();
    let mut published: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    published.sort();
    assert_eq!(written, published);
    assert_eq!(written.len(), 18);
    for name in &written {
        let ours = std::fs::read(out.join(name)).unwrap();
        let theirs = std::fs::read(corpus_dir().join(name)).unwrap();
        assert!(ours == theirs, "{name:?} differs");
    }
    // Written again: the same bytes are fine; a file that differs is never overwritten.
    let again = xp_offline(dir.path(), &["data", "--write", out.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    std::fs::write(out.join("Greek.txt"), "Mine\n").unwrap();
    let refused = xp_offline(dir.path(), &["data", "--write", out.to_str().unwrap()]);
    common::assert_clean_failure(&refused, "Greek.txt exists and differs");
    assert_eq!(
        std::fs::read_to_string(out.join("Greek.txt")).unwrap(),
        "Mine\n"
    );
}

#[test]
fn xp_data_says_which_corpus_runs_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = xp_offline(dir.path(), &["data"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("data: the corpus built into xp"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("all") && l.contains("20,074") && l.contains("19,151")),
        "{text}"
    );
    let folder = corpus_dir();
    let out = xp_offline(dir.path(), &["data", "--dir", folder.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("18 files, byte for byte the published names corpus"),
        "{text}"
    );
    // A folder with a changed file is read, and said not to be the published copy.
    let changed = dir.path().join("changed");
    std::fs::create_dir(&changed).unwrap();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), changed.join(entry.file_name())).unwrap();
    }
    std::fs::write(changed.join("Korean.txt"), "Kim\nPark\n").unwrap();
    let out = xp_offline(dir.path(), &["data", "--dir", changed.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("18 files, 17 of them byte for byte files of the published names corpus"),
        "{text}"
    );
}

#[test]
fn a_run_without_a_folder_reads_the_built_in_corpus_and_trains_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let from_folder = tiny_experiment("folder", common::ALL_OBJECTIVES);
    let dir_line = format!("dir = \"{}\"\n", corpus_dir().display());
    assert!(from_folder.contains(&dir_line));
    let built_in = from_folder.replace(&dir_line, "");
    let run = |name: &str, text: &str| {
        let exp = write(dir.path(), &format!("{name}.toml"), text);
        let out_dir = dir.path().join(name);
        let out = xp_offline(
            dir.path(),
            &[
                "run",
                exp.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        (out_dir, stderr(&out))
    };
    let (folder, _) = run("folder", &from_folder);
    let (embedded, err) = run("embedded", &built_in);
    assert!(err.contains("data: the corpus built into xp"), "{err}");
    for file in [
        "metrics.csv",
        "model.safetensors",
        "test_predictions_CLS.csv",
        "vocab.json",
    ] {
        let a = std::fs::read(folder.join(file)).unwrap();
        let b = std::fs::read(embedded.join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the folder and the built-in corpus"
        );
    }
    // The run records which corpus it read, and resumes from that one.
    let experiment = std::fs::read_to_string(embedded.join("experiment.toml")).unwrap();
    assert!(
        experiment.contains("embedded = true") && !experiment.contains("dir ="),
        "{experiment}"
    );
    let summary = std::fs::read_to_string(embedded.join("summary.json")).unwrap();
    assert!(summary.contains("\"corpus\": \"embedded\""), "{summary}");
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    let folder_field = format!("\"corpus\": \"{}\"", corpus_dir().display());
    assert!(summary.contains(&folder_field), "{summary}");
    // Asking for a folder and the built-in corpus at once is refused.
    let both = write(
        dir.path(),
        "both.toml",
        &from_folder.replace("[data]\n", "[data]\nembedded = true\n"),
    );
    let out = xp_offline(dir.path(), &["check", both.to_str().unwrap()]);
    common::assert_clean_failure(&out, "keep one");
}

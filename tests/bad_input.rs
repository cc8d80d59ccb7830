//! Bad input gets a clear error naming the problem, exit code 1, and no panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_clean_failure, tiny_experiment, write, xp, ALL_OBJECTIVES};

fn check_fails(body: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "exp.toml", body);
    assert_clean_failure(&xp(&["check", path.to_str().unwrap()]), needle);
}

fn with(objectives: &str, extra: &str) -> String {
    tiny_experiment("bad", objectives) + extra
}

#[test]
fn malformed_toml_names_line_and_column() {
    check_fails("name = \"x\"\n[model\ndim = 3\n", "line 2");
}

#[test]
fn unknown_field_names_the_nearest_valid_one() {
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace("[train]", "[train]\nstesp = 3"),
        "did you mean `steps`",
    );
    check_fails(
        &tiny_experiment("x", "[objectives.MLM]\nmask_prb = 0.2\n"),
        "did you mean `mask_prob`",
    );
}

#[test]
fn a_mistyped_field_is_named_with_the_line_of_the_users_file_or_its_set() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = common::corpus_dir();
    let text = format!(
        "name = \"x\"\n[train]\nlr = \"0.5\"\n[data]\ndir = {:?}\n[objectives.MLM]\nmask_prob = \"0.5\"\n",
        corpus.display().to_string()
    );
    let path = write(dir.path(), "exp.toml", &text);
    let path = path.to_str().unwrap();
    // Framework fields, with or without other overrides.
    for extra in [&[][..], &["--set", "train.steps=3"]] {
        let out = xp(&[&["check", path][..], extra].concat());
        assert_clean_failure(&out, "exp.toml, line 3: `train.lr`: invalid type: string");
    }
    let fixed = ["check", path, "--set", "train.lr=0.1"];
    assert_clean_failure(
        &xp(&fixed),
        "line 7: `objectives.MLM.mask_prob`: invalid type",
    );
    let set = [&fixed[..], &["--set", "objectives.MLM.mask_prob=\"a\""]].concat();
    assert_clean_failure(
        &xp(&set),
        "--set objectives.MLM.mask_prob=\"a\": `objectives.MLM",
    );
}

#[test]
fn unknown_objective_lists_the_registered_ones() {
    check_fails(
        &tiny_experiment("x", "[objectives.MLMM]\n"),
        "registered objectives: CLS, LA, MLM, NSP",
    );
}

#[test]
fn invalid_values_are_named() {
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace("heads = 2", "heads = 3"),
        "not divisible",
    );
    check_fails(
        &tiny_experiment("x", "[objectives.NSP]\n").replace("batch_size = 16", "batch_size = 1"),
        "batch_size to 2 or more",
    );
    check_fails(
        &tiny_experiment("x", "[objectives.MLM]\nmask_prob = 1.5\n"),
        "not a probability",
    );
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace("heads = 2", "heads = 2\nconv_width = 4"),
        "model.conv_width",
    );
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace(
            "heads = 2",
            "heads = 2\nhashed_ngrams = 64\nhashed_ngram_length = 9",
        ),
        "hashed_ngram_length from 2 to 8",
    );
    check_fails(&tiny_experiment("x", ""), "no objective");
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace("[train]", "[train]\nema = 1.5"),
        "not a decay in [0, 1)",
    );
    check_fails(
        &tiny_experiment("x", ALL_OBJECTIVES).replace("[data]", "[data]\nmin_len = 9\nmax_len = 3"),
        "min_len",
    );
    check_fails(
        &with("[objectives.CLS]\nweight = -1.0\n", ""),
        "non-negative",
    );
    check_fails(
        &with("[objectives.CLS]\npool = \"max\"\n", ""),
        "unknown variant",
    );
}

#[test]
fn a_missing_corpus_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let body = tiny_experiment("x", ALL_OBJECTIVES).replace(
        &common::corpus_dir().display().to_string(),
        "/nonexistent/names",
    );
    let path = write(dir.path(), "exp.toml", &body);
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap()]),
        "leave [data] dir unset to use the corpus built into xp",
    );
}

#[test]
fn empty_or_unreadable_corpus_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("names");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(corpus.join("Arabic.txt"), "Nasser\nKhoury\n").unwrap();
    std::fs::write(corpus.join("Czech.txt"), "").unwrap();
    let body = tiny_experiment("x", "[objectives.CLS]\n").replace(
        &common::corpus_dir().display().to_string(),
        &corpus.display().to_string(),
    );
    let path = write(dir.path(), "exp.toml", &body);
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap()]),
        "Czech.txt is empty",
    );
    std::fs::write(corpus.join("Czech.txt"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap()]),
        "Czech.txt has no readable record: line 1, not UTF-8 text",
    );
}

#[test]
fn bad_overrides_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "exp.toml",
        &tiny_experiment("x", ALL_OBJECTIVES),
    );
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap(), "--set", "train.steps"]),
        "expected key=value",
    );
    assert_clean_failure(
        &xp(&[
            "check",
            path.to_str().unwrap(),
            "--set",
            "train.lr=\"fast\"",
        ]),
        "train.lr",
    );
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap(), "--device", "tpu"]),
        "unknown device",
    );
    // Without the `cuda` feature a CUDA request names the build script; with it, on a
    // machine without a GPU, the device that could not be opened.
    let no_cuda = if cfg!(feature = "cuda") {
        "cannot open CUDA device"
    } else {
        "without CUDA"
    };
    assert_clean_failure(
        &xp(&["check", path.to_str().unwrap(), "--device", "cuda"]),
        no_cuda,
    );
    // `xp parity` compares against CUDA unless told otherwise.
    assert_clean_failure(&xp(&["parity", path.to_str().unwrap()]), no_cuda);
}

#[test]
fn an_unwritable_output_directory_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "exp.toml",
        &tiny_experiment("x", "[objectives.CLS]\n"),
    );
    let blocker = write(dir.path(), "a_file", "not a directory");
    let out = blocker.join("run");
    assert_clean_failure(
        &xp(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "cannot write",
    );
}

#[test]
fn a_missing_experiment_file_is_named() {
    let out = xp(&["check", "/nonexistent/exp.toml"]);
    assert_clean_failure(&out, "cannot read experiment /nonexistent/exp.toml");
    // The cause is said once, not once per level of the error chain.
    let err = common::stderr(&out);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

/// A copy of the test corpus in `dir`, with `edit` applied to its files' bytes.
fn odd_corpus(
    dir: &std::path::Path,
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
) -> std::path::PathBuf {
    let corpus = dir.join("names");
    std::fs::create_dir_all(&corpus).unwrap();
    for entry in std::fs::read_dir(common::corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(
            corpus.join(&name),
            edit(&name, std::fs::read(&path).unwrap()),
        )
        .unwrap();
    }
    corpus
}

#[test]
fn corpus_oddities_load_with_warnings_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = odd_corpus(dir.path(), |name, bytes| match name {
        // A byte-order mark, Windows line ends, blank lines, a name of symbols only.
        "Arabic.txt" => [&b"\xef\xbb\xbf"[..], &bytes].concat(),
        "Chinese.txt" => String::from_utf8(bytes)
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes(),
        "Czech.txt" => [&bytes[..], b"\n\n   \n\xe2\x98\x83\xe2\x98\x83\n"].concat(),
        _ => bytes,
    });
    std::fs::write(corpus.join("Tiny.txt"), "Onlyone\n").unwrap();
    let text = tiny_experiment("odd", "[objectives.CLS]\n").replace(
        &common::corpus_dir().display().to_string(),
        &corpus.display().to_string(),
    );
    let exp = write(dir.path(), "odd.toml", &text);
    let run = dir.path().join("run");
    let out = xp(&["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Czech.txt, line 523: \"☃☃\" is empty after normalisation"),
        "{err}"
    );
    assert!(err.contains("class \"Tiny\": only 1 kept text(s)"), "{err}");
    // Every record is counted: the blank lines too, as empty.
    assert!(
        err.contains("20,079 read, 19,152 kept (927 dropped: 4 empty"),
        "{err}"
    );
    // The mark and the line ends are gone: the vocabulary holds letters only.
    let vocab = std::fs::read_to_string(run.join("vocab.json")).unwrap();
    assert!(
        !vocab.contains("\\r") && !vocab.contains("\\ufeff"),
        "{vocab}"
    );
    // A line that is not UTF-8 is dropped and named with its file and line; the rest
    // of the file is read.
    let broken = odd_corpus(&dir.path().join("broken"), |name, bytes| match name {
        "Dutch.txt" => [&b"Smit\nBad\xff\xfeName\n"[..], &bytes].concat(),
        _ => bytes,
    });
    let text = tiny_experiment("broken", "[objectives.CLS]\n").replace(
        &common::corpus_dir().display().to_string(),
        &broken.display().to_string(),
    );
    let exp = write(dir.path(), "broken.toml", &text);
    let out = xp(&["check", exp.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Dutch.txt, line 2: not UTF-8 text; dropped (unreadable)"),
        "{err}"
    );
    let report = xp(&["data", exp.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let dutch = report["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "Dutch")
        .unwrap();
    assert_eq!(dutch["tally"]["dropped"]["unreadable"], 1, "{dutch}");
}

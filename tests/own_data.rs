//! A user's own data, end to end: CSV, TSV, FASTA, JSONL, class folders and globs,
//! labels of any script with commas and quotes, texts read as written, the user's
//! split, unlabeled data, every record counted, long texts refused before they are
//! allocated, and the vocabulary and normalisation carried into the exported model.

use crate::common::{self, assert_clean_failure, stderr, write, xp};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Labels a user may have: commas, quotes, spaces, other scripts.
const LABELS: [&str; 4] = ["Deutsch, alt", "Polski \"pl\"", "日本語", "Ελληνικά"];

/// Syllables of each class: texts of a class share them, so a model can tell them apart.
const SYLLABLES: [&[&str]; 4] = [
    &["sch", "ß", "ü", "ei", "berg", "mann", "-2"],
    &["ł", "ś", "cz", "ski", "owa", "rz", "ą"],
    &["カ", "タ", "ナ", "ヤ", "マ", "ー"],
    &["ό", "π", "ου", "λος", "ίδης", "ά"],
];

/// A fixed generator of numbers from `seed` (a linear congruential one).
fn generator(mut state: u64) -> impl FnMut() -> usize {
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    }
}

/// `n` texts per class, made of its syllables by a fixed generator: `(text, class)`.
fn texts(n: usize) -> Vec<(String, usize)> {
    let mut next = generator(12345);
    let mut out = Vec::new();
    for i in 0..n {
        for (class, syllables) in SYLLABLES.iter().enumerate() {
            let len = 2 + next() % 3;
            let text: String = (0..len)
                .map(|_| syllables[next() % syllables.len()])
                .collect();
            out.push((format!("{text}{}", i % 3), class));
        }
    }
    out
}

/// A CSV of `texts` with an id column, through the `csv` crate (quotes, commas).
fn csv_file(dir: &Path, name: &str, rows: &[(String, usize)]) -> PathBuf {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["id", "word", "lang"]).unwrap();
    for (i, (text, class)) in rows.iter().enumerate() {
        w.write_record([format!("w{i}").as_str(), text, LABELS[*class]])
            .unwrap();
    }
    w.flush().unwrap();
    path
}

/// A tiny, fast experiment over `data` (the body of its `[data]` table).
fn experiment(dir: &Path, name: &str, data: &str, objectives: &str) -> PathBuf {
    let text = format!(
        "name = \"{name}\"\nseed = 3\n[data]\n{data}\n[model]\ndim = 16\nheads = 2\nlayers = 1\nffn_dim = 32\n[train]\nsteps = 20\nbatch_size = 16\neval_batch_size = 256\nlr = 3e-3\nwarmup = 2\neval_every = 10\n{objectives}"
    );
    write(dir, &format!("{name}.toml"), &text)
}

/// Trains `exp` into `dir/name`; returns the run folder and standard error.
fn train(exp: &Path, run: &Path) -> String {
    let out = xp(&["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    err
}

/// Trains `exp` into `run` to a pause at step 7, then resumes it to the end.
fn pause_at_7_and_resume(exp: &Path, run: &Path) {
    let (exp, run) = (exp.to_str().unwrap(), run.to_str().unwrap());
    let out = xp(&["run", exp, "--out", run, "--pause-at", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = xp(&["run", "--resume", run]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The report `xp data --json` gives for `args`.
fn report(args: &[&str]) -> Value {
    let mut all = vec!["data"];
    all.extend(args);
    all.push("--json");
    let out = xp(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_csv_of_any_script_trains_exports_and_predicts_with_its_own_alphabet_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let rows = texts(40);
    csv_file(dir.path(), "words.csv", &rows);
    let data = "path = \"words.csv\"\ncolumns = { text = \"word\", label = \"lang\" }";
    let exp = experiment(
        dir.path(),
        "words",
        data,
        "[objectives.CLS]\n[objectives.MLM]\n",
    );
    let run = dir.path().join("run");
    let err = train(&exp, &run);
    assert!(
        err.contains("160 read, 160 kept; 4 classes; normalize none"),
        "{err}"
    );
    // Nothing is folded: every character of the file is a token.
    let vocab = json(&run.join("vocab.json"));
    let tokens: Vec<&str> = vocab["vocab"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for c in ["ß", "ł", "ą", "カ", "ー", "ό", "-", "2"] {
        assert!(tokens.contains(&c), "{c} missing from {tokens:?}");
    }
    assert_eq!(vocab["vocab"]["unknown"], true);
    let mut sorted = LABELS.to_vec();
    sorted.sort();
    assert_eq!(vocab["labels"], serde_json::json!(sorted));
    // The data report is in the run folder, and the recorded experiment reads the same.
    let data_json = json(&run.join("data.json"));
    assert_eq!(data_json["total"]["kept"], 160);
    let recorded = std::fs::read_to_string(run.join("experiment.toml")).unwrap();
    assert!(
        recorded.contains("normalize = \"none\"") && recorded.contains("alphabet = \"train\""),
        "{recorded}"
    );
    // The test predictions carry each text and id, and the user's labels as written.
    let mut reader = csv::Reader::from_path(run.join("test_predictions_CLS.csv")).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers[..5], ["row", "id", "text", "true", "predicted"]);
    let mut probabilities: Vec<&str> = headers[5..].iter().map(String::as_str).collect();
    probabilities.sort_unstable();
    let mut expected: Vec<String> = LABELS.iter().map(|l| format!("p_{l}")).collect();
    expected.sort_unstable();
    assert_eq!(probabilities, expected, "one probability column per label");
    let by_text: std::collections::HashMap<String, usize> = rows.iter().cloned().collect();
    let mut n = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let class = by_text[&row[2]];
        assert_eq!(&row[3], LABELS[class], "{row:?}");
        assert!(LABELS.contains(&&row[4]), "{row:?}");
        n += 1;
    }
    assert_eq!(n, data_json["split"]["test"].as_u64().unwrap() as usize);
    // The figures are drawn with those labels.
    assert!(run.join("confusion_CLS.png").exists());
    // Exported, the model says how it reads texts, and predict reads them that way: a
    // token the training texts never had reads as [UNK], and is counted.
    let onnx = dir.path().join("words.onnx");
    let out = common::export(&run, &onnx, &["--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = xp(&[
        "predict",
        "-m",
        onnx.to_str().unwrap(),
        "--json",
        "schberg",
        "łśżowa",
        "カタ",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(answers[0].get("unknown_tokens").is_none(), "{}", answers[0]);
    assert_eq!(
        answers[1]["unknown_tokens"], 1,
        "ż is no training token: {}",
        answers[1]
    );
    for a in &answers {
        let label = a["top"][0]["label"].as_str().unwrap();
        assert!(LABELS.contains(&label), "{a}");
    }
    // The API of xp serve gives the labels as written, and counts [UNK] the same way.
    let server = common::server::Server::start(&onnx, &[]);
    let (status, model) = server.send("GET", "/api/model", "", b"");
    assert_eq!(status, 200, "{model}");
    let mut sorted = LABELS.to_vec();
    sorted.sort();
    assert_eq!(model["labels"], serde_json::json!(sorted), "{model}");
    let (status, body) = server.post("/api/classify", &serde_json::json!({"names": ["łśżowa"]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["unknown_tokens"], 1, "{body}");
    drop(server);
    // Attention maps name the texts' own tokens, and xp compare reads the predictions
    // of labels with commas and quotes.
    let out = xp(&["attention", run.to_str().unwrap(), "カタ"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run.join("attention/attention_カタ.png").exists());
    let other = dir.path().join("other");
    let out = xp(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
        "--set",
        "train.lr=1e-3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = xp(&[
        "compare",
        run.to_str().unwrap(),
        other.to_str().unwrap(),
        "--against",
        "run",
    ]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(said.contains("McNemar") || said.contains("chi2"), "{said}");
    // For the Python check (tests/onnx_check.py): a client of its own reads these
    // texts by the model's metadata alone and must give xp predict's answers.
    if let Some(out) = std::env::var_os("XP_ONNX_FIXTURES") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&onnx, out.join("own_words.onnx")).unwrap();
        let texts = serde_json::to_string(&answers).unwrap();
        std::fs::write(out.join("own_words.texts.json"), texts).unwrap();
    }
    // The table lines up whatever the script: the labels start in one column.
    let out = xp(&["predict", "-m", onnx.to_str().unwrap(), "カタ", "schberg"]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let label_columns: Vec<usize> = table
        .lines()
        .map(|l| {
            let at = LABELS
                .iter()
                .filter_map(|label| l.find(label))
                .min()
                .unwrap();
            unicode_width::UnicodeWidthStr::width(&l[..at])
        })
        .collect();
    assert_eq!(label_columns, [21, 21], "{table}");
}

#[test]
fn a_tsv_with_quotes_a_bom_crlf_and_its_own_split_keeps_that_split() {
    let dir = tempfile::tempdir().unwrap();
    let mut tsv = String::from("\u{feff}id\ttext\tlabel\tsplit\r\n");
    for (i, (text, class)) in texts(30).iter().enumerate() {
        let split = ["train", "train", "train", "dev", "test"][i % 5];
        tsv.push_str(&format!(
            "{i}\t\"{text}\t\"\"q\"\"\"\t{}\t{split}\r\n",
            LABELS[*class].replace('"', "")
        ));
    }
    write(dir.path(), "set.tsv", &tsv);
    let r = report(&[
        "--set",
        &format!(
            "data.path={:?}",
            dir.path().join("set.tsv").display().to_string()
        ),
    ]);
    assert_eq!(r["total"]["read"], 120);
    assert_eq!(r["split"]["origin"]["given"]["cut_valid"], false);
    assert_eq!(
        (
            r["split"]["train"].as_u64(),
            r["split"]["valid"].as_u64(),
            r["split"]["test"].as_u64()
        ),
        (Some(72), Some(24), Some(24))
    );
    // A tab and quotes inside a quoted field are part of the text.
    let tokens: Vec<&str> = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert!(
        tokens.contains(&"\t") && tokens.contains(&"\""),
        "{tokens:?}"
    );
    let tab = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["token"] == "\t")
        .unwrap();
    assert_eq!(tab["flags"][0], "control", "{tab}");
    // A bad split value is named with its line.
    write(
        dir.path(),
        "bad.tsv",
        "text\tsplit\nabc\ttrain\nabd\ttset\n",
    );
    let out = xp(&[
        "data",
        "--set",
        &format!(
            "data.path={:?}",
            dir.path().join("bad.tsv").display().to_string()
        ),
    ]);
    assert_clean_failure(
        &out,
        "bad.tsv, line 3: split \"tset\" is none of train, valid",
    );
}

#[test]
fn fasta_reads_multi_line_sequences_and_labels_from_a_header_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut fasta = String::new();
    for (i, (text, class)) in texts(25).iter().enumerate() {
        let family = ["kinase", "globin", "lectin", "opsin"][*class];
        let (head, tail) = text.split_at(text.char_indices().nth(2).map_or(text.len(), |(k, _)| k));
        fasta.push_str(&format!(
            ">sp|P{i:05}|{family} some protein\n{head}\n{tail}\n"
        ));
    }
    write(dir.path(), "prot.fasta", &fasta);
    let data = "path = \"prot.fasta\"\nfasta = { label_field = 3, separator = \"|\" }";
    let exp = experiment(dir.path(), "prot", data, "[objectives.CLS]\n");
    let r = report(&[exp.to_str().unwrap()]);
    assert_eq!(r["total"]["kept"], 100);
    assert_eq!(
        r["labels"],
        serde_json::json!([
            "globin some protein",
            "kinase some protein",
            "lectin some protein",
            "opsin some protein"
        ])
    );
    // The lines of a record are one sequence.
    assert_eq!(
        r["lengths"]["max"].as_u64(),
        Some(
            texts(25)
                .iter()
                .map(|(t, _)| t.chars().count())
                .max()
                .unwrap() as u64
        )
    );
    // Without a label rule the file is unlabeled: CLS says what is missing, MLM trains.
    let unlabeled = experiment(
        dir.path(),
        "plain",
        "path = \"prot.fasta\"",
        "[objectives.CLS]\n",
    );
    assert_clean_failure(
        &xp(&["check", unlabeled.to_str().unwrap()]),
        "CLS needs labels and the data has none",
    );
    let mlm = experiment(
        dir.path(),
        "mlm",
        "path = \"prot.fasta\"",
        "[objectives.MLM]\n[objectives.LA]\n",
    );
    let err = train(&mlm, &dir.path().join("mlm-run"));
    assert!(err.contains("100 kept; unlabeled"), "{err}");
}

#[test]
fn jsonl_split_files_cut_a_missing_validation_set_from_training() {
    let dir = tempfile::tempdir().unwrap();
    let line = |(text, class): &(String, usize)| {
        serde_json::json!({"text": text, "label": LABELS[*class]}).to_string()
    };
    let rows = texts(30);
    let (train_rows, test_rows) = rows.split_at(100);
    let mut train_text: Vec<String> = train_rows.iter().map(line).collect();
    train_text.insert(3, "{\"text\": broken".into());
    write(dir.path(), "train.jsonl", &(train_text.join("\n") + "\n"));
    write(
        dir.path(),
        "test.jsonl",
        &test_rows.iter().map(line).collect::<Vec<_>>().join("\n"),
    );
    let data = "train_file = \"train.jsonl\"\ntest_file = \"test.jsonl\"\nvalid = 0.2";
    let exp = experiment(dir.path(), "splits", data, "[objectives.CLS]\n");
    let r = report(&[exp.to_str().unwrap()]);
    assert_eq!(r["split"]["origin"]["given"]["cut_valid"], true);
    assert_eq!(r["split"]["test"], 20);
    assert_eq!(
        r["split"]["train"].as_u64().unwrap() + r["split"]["valid"].as_u64().unwrap(),
        100
    );
    assert_eq!(r["total"]["dropped"]["unreadable"], 1);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("train.jsonl, line 4: not JSON"),
        "{}",
        r["warnings"]
    );
    let out = xp(&["data", exp.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("validation cut from its training texts"),
        "{text}"
    );
}

#[test]
fn class_folders_read_every_file_and_list_what_they_do_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("words");
    std::fs::create_dir_all(folder.join("old")).unwrap();
    let rows = texts(20);
    for (class, file) in ["Swedish.TXT", "a,b c.words", "Polish.txt"]
        .iter()
        .enumerate()
    {
        let body: Vec<&str> = rows
            .iter()
            .filter(|(_, c)| *c == class)
            .map(|(t, _)| t.as_str())
            .collect();
        std::fs::write(folder.join(file), body.join("\n")).unwrap();
    }
    std::fs::write(folder.join(".DS_Store"), "x").unwrap();
    let r = report(&["--dir", folder.to_str().unwrap()]);
    assert_eq!(
        r["labels"],
        serde_json::json!(["Polish", "Swedish", "a,b c"])
    );
    let not_read: Vec<&str> = r["not_read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["why"].as_str().unwrap())
        .collect();
    assert_eq!(
        not_read,
        [
            "a hidden file",
            "a folder (class folders are not read recursively)"
        ]
    );
    let glob = format!("{}/*.txt", folder.display());
    let r = report(&["--set", &format!("data.files={glob:?}")]);
    assert_eq!(r["labels"], serde_json::json!(["Polish"]));
    let unmatched: Vec<&str> = r["not_read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert!(
        unmatched.iter().any(|p| p.ends_with("Swedish.TXT")),
        "{unmatched:?}"
    );
    // One class is not a classifier.
    let exp = experiment(
        dir.path(),
        "one",
        &format!("files = {glob:?}"),
        "[objectives.CLS]\n",
    );
    assert_clean_failure(
        &xp(&["check", exp.to_str().unwrap()]),
        "CLS needs at least 2 classes and the data has 1 (\"Polish\")",
    );
}

#[test]
fn paths_in_an_experiment_file_are_read_from_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    std::fs::create_dir_all(study.join("data")).unwrap();
    csv_file(&study.join("data"), "w.csv", &texts(20));
    let data = "path = \"data/w.csv\"\ncolumns = { text = \"word\", label = \"lang\" }";
    let exp = experiment(&study, "rel", data, "[objectives.CLS]\n");
    // From another working folder, the file's own folder is where its paths start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(["data", exp.to_str().unwrap(), "--json"])
        .current_dir(dir.path())
        .env_remove("XP_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        Path::new(r["source"].as_str().unwrap()).is_absolute(),
        "{}",
        r["source"]
    );
    assert_eq!(r["total"]["kept"], 80);
    // A path on the command line is read from the working folder.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xp"))
        .args([
            "data",
            exp.to_str().unwrap(),
            "--set",
            "data.path=\"data/w.csv\"",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_clean_failure(&out, "no data at data/w.csv (data.path): no such file");
}

#[test]
fn long_texts_are_counted_cut_or_refused_before_memory_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = texts(10).into_iter().map(|(t, _)| t).collect();
    lines.push("x".repeat(40));
    lines.push("y".repeat(20_000));
    write(dir.path(), "long.txt", &lines.join("\n"));
    let base = "path = \"long.txt\"";
    let mlm = "[objectives.MLM]\n";
    let dropped = experiment(dir.path(), "drop", &format!("{base}\nmax_len = 30"), mlm);
    let r = report(&[dropped.to_str().unwrap()]);
    assert_eq!(r["total"]["dropped"]["too_long"], 2);
    let cut = experiment(
        dir.path(),
        "cut",
        &format!("{base}\nmax_len = 30\ntoo_long = \"truncate\""),
        mlm,
    );
    let r = report(&[cut.to_str().unwrap()]);
    assert_eq!(
        (
            r["total"]["kept"].as_u64(),
            r["total"]["truncated"].as_u64()
        ),
        (Some(42), Some(2))
    );
    assert_eq!(r["lengths"]["max"], 30);
    // All 20,000 characters: refused with the figure and the setting to turn, and
    // nothing written.
    let all = experiment(
        dir.path(),
        "all",
        base,
        "[objectives.MLM]\n[objectives.LA]\n",
    );
    let run = dir.path().join("all-run");
    let out = xp(&["run", all.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    assert_clean_failure(&out, "is available on this machine: attention alone needs");
    assert!(
        stderr(&out).contains("Lower data.max_len"),
        "{}",
        stderr(&out)
    );
    assert!(!run.exists());
}

#[test]
fn normalisation_and_grapheme_tokens_are_the_experiments_choice() {
    let dir = tempfile::tempdir().unwrap();
    // é written as e and a combining acute, and as one character.
    let words = ["Ame\u{301}lie", "Amélie", "CAFÉ", "cafe\u{301}"]
        .repeat(5)
        .join("\n");
    write(dir.path(), "w.txt", &words);
    let path = format!(
        "data.path={:?}",
        dir.path().join("w.txt").display().to_string()
    );
    let tokens = |extra: &str| -> Vec<String> {
        let r = report(&["--set", &path, "--set", &format!("data.{extra}")]);
        r["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["token"].as_str().unwrap().to_owned())
            .collect()
    };
    let none = tokens("normalize=\"none\"");
    let nfc = tokens("normalize=\"nfc\"");
    let graphemes = tokens("tokens=\"graphemes\"");
    let lower = tokens("lowercase=true");
    assert!(
        none.contains(&"\u{301}".to_owned()) && none.contains(&"é".to_owned()),
        "{none:?}"
    );
    assert!(!nfc.contains(&"\u{301}".to_owned()), "{nfc:?}");
    assert!(
        graphemes.contains(&"e\u{301}".to_owned()) && graphemes.contains(&"é".to_owned()),
        "{graphemes:?}"
    );
    assert!(
        !lower.iter().any(|t| t.chars().any(char::is_uppercase)),
        "{lower:?}"
    );
}

#[test]
fn a_run_on_own_data_paused_and_resumed_equals_one_never_paused() {
    let dir = tempfile::tempdir().unwrap();
    csv_file(dir.path(), "words.csv", &texts(30));
    let data = "path = \"words.csv\"\ncolumns = { text = \"word\", label = \"lang\" }";
    let exp = experiment(
        dir.path(),
        "pr",
        data,
        "[objectives.CLS]\n[objectives.MLM]\n",
    );
    let (whole, paused) = (dir.path().join("whole"), dir.path().join("paused"));
    train(&exp, &whole);
    pause_at_7_and_resume(&exp, &paused);
    common::assert_same_outputs(&whole, &paused);
    assert_eq!(
        std::fs::read(whole.join("data.json")).unwrap(),
        std::fs::read(paused.join("data.json")).unwrap()
    );
}

#[test]
fn a_run_recorded_before_the_normalisation_settings_reads_as_it_was_trained() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "old.toml",
        &common::tiny_experiment("old", "[objectives.CLS]\n"),
    );
    let run = dir.path().join("run");
    train(&exp, &run);
    let eval = || {
        let out = xp(&["eval", run.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = eval();
    // What an xp of before wrote: no normalize, no alphabet, a vocabulary of `chars`.
    let recorded = std::fs::read_to_string(run.join("experiment.toml")).unwrap();
    let old: String = recorded
        .lines()
        .filter(|l| !l.starts_with("normalize") && !l.starts_with("alphabet"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(run.join("experiment.toml"), old).unwrap();
    let mut vocab = json(&run.join("vocab.json"));
    let chars = vocab["vocab"]["tokens"].take();
    vocab["vocab"] = serde_json::json!({ "chars": chars });
    vocab.as_object_mut().unwrap().remove("normalization");
    std::fs::write(run.join("vocab.json"), vocab.to_string()).unwrap();
    assert_eq!(eval(), before);
}

/// `n` DNA-like reads per class of 100 to 512 bases, GC-rich or AT-rich, by a fixed
/// generator: `(text, class)`.
fn reads(n: usize, longest: usize) -> Vec<(String, usize)> {
    let mut next = generator(777);
    let bases = [
        ["G", "C", "G", "C", "A", "T"],
        ["A", "T", "A", "T", "G", "C"],
    ];
    let mut out = Vec::new();
    for _ in 0..n {
        for (class, pick) in bases.iter().enumerate() {
            let len = 100 + next() % (longest - 99);
            out.push(((0..len).map(|_| pick[next() % 6]).collect(), class));
        }
    }
    out
}

/// A CLS + MLM run, bucketed, over `n` reads per class of up to `longest` bases,
/// trained whole and paused at step 7 and resumed; returns the whole run's folder.
fn bucketed_reads_run(dir: &Path, n: usize, longest: usize) -> PathBuf {
    csv_file(dir, "reads.csv", &reads(n, longest));
    let data = format!(
        "path = \"reads.csv\"\ncolumns = {{ text = \"word\", label = \"lang\" }}\nmax_len = {longest}"
    );
    let exp = experiment(dir, "reads", &data, "[objectives.CLS]\n[objectives.MLM]\n");
    let text = std::fs::read_to_string(&exp).unwrap().replace(
        "batch_size = 16\neval_batch_size = 256",
        "batch_size = 8\neval_batch_size = 32\nbucket = 4",
    );
    std::fs::write(&exp, text).unwrap();
    let (whole, paused) = (dir.join("whole"), dir.join("paused"));
    train(&exp, &whole);
    let recorded = std::fs::read_to_string(whole.join("experiment.toml")).unwrap();
    assert!(recorded.contains("bucket = 4"), "{recorded}");
    let info = json(&whole.join("data.json"));
    assert!(info.to_string().contains(&longest.to_string()), "{info}");
    pause_at_7_and_resume(&exp, &paused);
    common::assert_same_outputs(&whole, &paused);
    whole
}

#[test]
fn a_bucketed_run_of_512_base_reads_resumes_byte_identically() {
    let dir = tempfile::tempdir().unwrap();
    bucketed_reads_run(dir.path(), 40, 512);
}

#[test]
fn a_run_of_1024_base_reads_resumes_byte_identically_exports_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let run = bucketed_reads_run(dir.path(), 12, 1024);
    let onnx = dir.path().join("reads.onnx");
    let out = common::export(&run, &onnx, &["--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The longest read: the model's positions go as far as the longest it trained on.
    let (read, _) = reads(12, 1024)
        .into_iter()
        .max_by_key(|(r, _)| r.len())
        .unwrap();
    assert!(read.len() > 900, "{}", read.len());
    let out = xp(&["predict", "-m", onnx.to_str().unwrap(), "--json", &read]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = answer["top"].as_array().expect("a class answer");
    assert!(
        top.len() == 2 && top.iter().all(|t| t["label"].is_string()),
        "{answer}"
    );
    assert!(answer.get("error").is_none(), "{answer}");
}

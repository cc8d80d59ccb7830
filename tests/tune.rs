//! `xp tune`: a search killed at drawn moments (its trials with it, mid-rung) and
//! started again ends with the trials and scores of a search never stopped; a trial
//! paused at rungs and promoted trains the numbers of a run never paused; bad tune
//! files are refused, naming the field and its line, before anything runs.

use crate::common;

use common::{assert_clean_failure, stderr, tiny_experiment, write, xp};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use xp_study::tune::Event;

/// A tiny base experiment and a tune of it: 20 and 60 steps, a budget for a dozen
/// trials, and no final comparison unless `final_runs`.
pub fn tune_files(dir: &Path, final_runs: &str) -> PathBuf {
    let base = tiny_experiment("tiny", "[objectives.CLS]\n[objectives.MLM]\n").replace(
        "eval_every = 15",
        "eval_every = 10\ncheckpoint_every = 7\nmonitor = \"CLS.loss\"",
    );
    write(dir, "base.toml", &base);
    write(
        dir,
        "tune.toml",
        &format!(
            r#"base = "base.toml"
seed = 3
budget = 400
startup = 4
[rungs]
steps = [20, 60]
eta = 3
[space]
"train.lr" = {{ log_uniform = [1e-3, 2e-2] }}
"model.dim" = {{ choice = [16, 24] }}
objectives = {{ choice = [["CLS"], ["CLS", "MLM"]] }}
"objectives.MLM.mask_prob" = {{ uniform = [0.1, 0.3] }}
{final_runs}
"#
        ),
    )
}

pub const NO_FINAL: &str = "[final]\ntop = 0\nseeds = []\n";

/// `xp tune FILE --out OUT --jobs 1`'s arguments.
fn tune_args<'a>(file: &'a Path, out: &'a Path) -> [&'a str; 6] {
    let (file, out) = (file.to_str().unwrap(), out.to_str().unwrap());
    ["tune", file, "--out", out, "--jobs", "1"]
}

/// `xp tune FILE --out OUT --jobs 1` as a child, quiet.
fn spawn_tune(file: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(tune_args(file, out))
        .env_remove("XP_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn tune(file: &Path, out: &Path) -> std::process::Output {
    xp(&tune_args(file, out))
}

/// The journal's trials and results, in order (jobs started again left out).
pub fn results(out: &Path) -> Vec<Event> {
    let text = std::fs::read_to_string(out.join("tune.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Event>(l).unwrap())
        .filter(|e| !matches!(e, Event::Start { .. }))
        .collect()
}

#[test]
fn a_killed_search_ends_with_the_trials_and_scores_of_one_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let reference = dir.path().join("reference");
    let started = std::time::Instant::now();
    let done = tune(&file, &reference);
    assert!(done.status.success(), "{}", stderr(&done));
    let whole = started.elapsed();
    let expected = results(&reference);
    let promoted = expected
        .iter()
        .filter(|e| matches!(e, Event::Rung { rung: 1, .. }))
        .count();
    assert!(expected.len() > 10 && promoted >= 2, "{expected:?}");
    // Kills spread over the search, drawn afresh each test run: the search and its
    // running trial together, as when a machine goes down, or the search alone (its
    // trial trains on, and the search started again waits for it).
    let mut state = 0x51_7cc1_b727_220au64 ^ u64::from(std::process::id());
    let out = dir.path().join("killed");
    for i in 0..4 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = whole.mul_f64((state % 1000) as f64 / 1000.0);
        let mut child = spawn_tune(&file, &out);
        std::thread::sleep(at);
        match i % 2 {
            0 => kill_search(child.id()),
            _ => {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
    }
    let finished = tune(&file, &out);
    assert!(finished.status.success(), "{}", stderr(&finished));
    assert_eq!(
        results(&out),
        expected,
        "the search went another way after the kills"
    );
}

#[test]
fn a_promoted_trial_trains_the_numbers_of_a_run_never_paused() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let out = dir.path().join("tune");
    let done = tune(&file, &out);
    assert!(done.status.success(), "{}", stderr(&done));
    let id = results(&out)
        .iter()
        .find_map(|e| match e {
            Event::Rung { id, rung: 1, .. } => Some(*id),
            _ => None,
        })
        .expect("a trial reached the last rung");
    let trial = out.join("trials").join(format!("trial-{id:03}"));
    let unpaused = dir.path().join("unpaused");
    let run = xp(&[
        "run",
        trial.with_extension("toml").to_str().unwrap(),
        "--out",
        unpaused.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    common::assert_same_outputs(&trial, &unpaused);
}

#[test]
fn the_best_trials_are_retrained_with_fresh_seeds_beside_the_references() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(
        dir.path(),
        "[final]\ntop = 2\nseeds = [1, 2]\nagainst = [\"base.toml\"]\n",
    );
    let out = dir.path().join("tune");
    let done = tune(&file, &out);
    assert!(done.status.success(), "{}", stderr(&done));
    let events = xp_study::tune::Journal::read(&out).unwrap();
    let tune = xp_study::tune::Tune::load(&file, &[]).unwrap();
    let search = xp_study::tune::Search::replay(&events, &tune.schedule);
    let best: Vec<String> = search.ranking()[..2]
        .iter()
        .map(|t| format!("trial-{:03}", t.id))
        .collect();
    for point in [best[0].as_str(), best[1].as_str(), "base"] {
        for seed in [1, 2] {
            let run = out.join("final").join(point).join(format!("seed-{seed}"));
            let summary: serde_json::Value =
                serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
            assert_eq!(summary["seed"], seed, "{}", run.display());
        }
    }
    let compared = xp(&[
        "compare",
        out.join("final").to_str().unwrap(),
        "--against",
        "base",
    ]);
    assert!(compared.status.success(), "{}", stderr(&compared));
    let status = xp(&["tune", "--status", out.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(said.contains("best so far: trial"), "{said}");
    assert!(said.contains("done (last rung)"), "{said}");
}

#[test]
fn a_search_goes_on_to_a_new_budget_but_refuses_other_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let out = dir.path().join("tune");
    let with = |more: &[&str]| xp(&[&tune_args(&file, &out)[..], more].concat());
    let first = with(&["--budget", "100"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let trials = |out: &Path| {
        results(out)
            .iter()
            .filter(|e| matches!(e, Event::Trial { .. }))
            .count()
    };
    let before = trials(&out);
    let longer = with(&["--budget", "200"]);
    assert!(longer.status.success(), "{}", stderr(&longer));
    assert!(
        trials(&out) > before,
        "no new trial under the larger budget"
    );
    let other = with(&["--budget", "200", "--set", "train.lr=0.01"]);
    assert_clean_failure(&other, "another tune file or other overrides");
}

#[test]
fn two_searches_never_write_one_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let out = dir.path().join("tune");
    let mut first = spawn_tune(&file, &out);
    // Once the first has sampled a trial, it holds the folder.
    while !out.join("tune.jsonl").exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = tune(&file, &out);
    let first_ok = first.wait().unwrap().success();
    assert!(first_ok, "the first search failed");
    assert_clean_failure(&second, "is being written by another xp");
}

#[test]
fn bad_tune_files_say_what_to_change_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(tune_files(dir.path(), NO_FINAL)).unwrap();
    let cases = [
        (
            "\"train.lr\" = { log_uniform = [1e-3, 2e-2] }",
            "\"train.lrr\" = { log_uniform = [1e-3, 2e-2] }",
            "did you mean `lr`",
        ),
        (
            "\"train.lr\" = { log_uniform = [1e-3, 2e-2] }",
            "\"train.lr\" = { uniform = [2e-2, 1e-3] }",
            "is empty",
        ),
        (
            "\"train.lr\" = { log_uniform = [1e-3, 2e-2] }",
            "\"train.lr\" = { log_uniform = [0, 2e-2] }",
            "above 0",
        ),
        (
            "\"model.dim\" = { choice = [16, 24] }",
            "\"model.dim\" = { choice = [16, \"big\"] }",
            "the value \"big\" makes no valid trial",
        ),
        (
            "budget = 400",
            "budget = 400\nbugdet = 3",
            "unknown field `bugdet`",
        ),
        (
            "budget = 400",
            "budget = 400\n[set]\nseed = 5",
            "`[final] seeds`; set it there",
        ),
    ];
    for (i, (from, to, reason)) in cases.iter().enumerate() {
        let file = write(dir.path(), &format!("bad{i}.toml"), &good.replace(from, to));
        let out = dir.path().join(format!("out{i}"));
        let refused = tune(&file, &out);
        assert_clean_failure(&refused, reason);
        assert!(
            stderr(&refused).contains(&format!("bad{i}.toml")),
            "{}",
            stderr(&refused)
        );
        assert!(
            !out.exists(),
            "case {i}: a refused tune wrote {}",
            out.display()
        );
    }
}

/// SIGKILL to process `pid` and every process below it (its trial), each by its own
/// id, read from /proc.
fn kill_with_descendants(pid: u32) {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", all[i]));
        for task in tasks.into_iter().flatten().flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            all.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        i += 1;
    }
    let pids: Vec<String> = all.iter().map(u32::to_string).collect();
    let _ = Command::new("kill").arg("-KILL").args(&pids).status();
}

/// [`kill_with_descendants`], the search frozen first so that it starts no trial
/// between the reading of /proc and the kill.
fn kill_search(pid: u32) {
    let _ = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status();
    kill_with_descendants(pid);
}

/// `--device` reaches the trials' experiments; on an xp built without CUDA a GPU is
/// refused before the search writes anything.
#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_this_build_cannot_use_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let out = dir.path().join("out");
    let (file_arg, out_arg) = (file.to_str().unwrap(), out.to_str().unwrap());
    let refused = xp(&["tune", file_arg, "--out", out_arg, "--device", "cuda:1"]);
    assert_clean_failure(&refused, "built without CUDA");
    assert!(
        stderr(&refused).contains("tune.toml"),
        "{}",
        stderr(&refused)
    );
    assert!(!out.exists(), "a refused search wrote {}", out.display());
    let unknown = xp(&["tune", file_arg, "--out", out_arg, "--device", "tpu"]);
    assert_clean_failure(&unknown, "unknown device `tpu`");
    assert!(!out.exists());
}

/// Writes `names.csv` in `dir` from four languages of the test corpus, with its own
/// split (a tenth each to valid and test); `scramble` gives every test text another
/// language.
fn split_corpus(dir: &Path, scramble: bool) -> PathBuf {
    let languages = ["Czech", "German", "Italian", "Japanese"];
    let mut out = csv::Writer::from_path(dir.join("names.csv")).unwrap();
    out.write_record(["text", "label", "split"]).unwrap();
    for (l, language) in languages.iter().enumerate() {
        let file = common::corpus_dir().join(format!("{language}.txt"));
        let text = std::fs::read_to_string(file).unwrap();
        for (i, name) in text.lines().filter(|n| !n.trim().is_empty()).enumerate() {
            let split = ["test", "valid"].get(i % 10).copied().unwrap_or("train");
            let label = match (split, scramble) {
                ("test", true) => languages[(l + 1) % languages.len()],
                _ => language,
            };
            out.write_record([name, label, split]).unwrap();
        }
    }
    out.flush().unwrap();
    dir.join("names.csv")
}

#[test]
fn a_search_chooses_on_validation_alone() {
    // Two searches of data that differ only in the test split's labels: every trial,
    // every rung's score and every promotion are the same.
    let dir = tempfile::tempdir().unwrap();
    let mut journals = Vec::new();
    for scramble in [false, true] {
        let sub = dir.path().join(format!("scramble-{scramble}"));
        std::fs::create_dir_all(&sub).unwrap();
        let data = split_corpus(&sub, scramble);
        let file = tune_files(&sub, NO_FINAL);
        let base = std::fs::read_to_string(sub.join("base.toml")).unwrap();
        let own = base.replace(
            &format!("dir = \"{}\"", common::corpus_dir().display()),
            &format!("path = \"{}\"", data.display()),
        );
        assert_ne!(own, base, "the base experiment reads the CSV");
        write(&sub, "base.toml", &own);
        let out = sub.join("tune");
        let done = tune(&file, &out);
        assert!(done.status.success(), "{}", stderr(&done));
        journals.push(results(&out));
    }
    let rungs = journals[0]
        .iter()
        .filter(|e| matches!(e, Event::Rung { rung: 1, .. }))
        .count();
    assert!(journals[0].len() > 10 && rungs >= 2, "{:?}", journals[0]);
    assert_eq!(journals[0], journals[1], "a test label moved the search");
}

#[test]
fn a_search_can_choose_the_ngram_baseline_which_reaches_every_rung_fitted_once() {
    let dir = tempfile::tempdir().unwrap();
    let cls = "[objectives.CLS]\nmasked = false\n[model.ngram]\nmax_iterations = 12\n";
    let base = tiny_experiment("tiny", cls).replace(
        "eval_every = 15",
        "eval_every = 10\nmonitor = \"CLS.accuracy\"",
    );
    write(dir.path(), "base.toml", &base);
    let file = write(
        dir.path(),
        "tune.toml",
        &format!(
            r#"base = "base.toml"
seed = 3
budget = 200
startup = 4
[rungs]
steps = [20, 60]
eta = 3
[space]
"model.kind" = {{ choice = ["transformer", "ngram"] }}
"train.lr" = {{ log_uniform = [1e-3, 2e-2] }}
{NO_FINAL}"#
        ),
    );
    let out = dir.path().join("tune");
    let done = tune(&file, &out);
    assert!(done.status.success(), "{}", stderr(&done));
    let events = results(&out);
    let ngram: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Trial { id, sample } => {
                let kind = sample.get("model.kind").and_then(|v| v.as_str());
                (kind == Some("ngram")).then_some(*id)
            }
            _ => None,
        })
        .collect();
    assert!(!ngram.is_empty(), "{events:?}");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Failed { .. })),
        "{events:?}"
    );
    // Its 12 iterations are fewer than the first rung's 20 steps, and promoted it
    // keeps its score at no cost.
    let promoted = events
        .iter()
        .any(|e| matches!(e, Event::Rung { id, rung: 1, .. } if ngram.contains(id)));
    assert!(promoted, "{events:?}");
}

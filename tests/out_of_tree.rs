//! A user's own crate holds an objective, links it into its own binary that runs the
//! unchanged xp CLI, and trains it: built from `tests/fixtures/out_of_tree`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{tiny_experiment, write};
use std::path::Path;
use std::process::Command;

/// Copies the fixture tree to `to`, writing each `X.template` as `X` with `@XP@` set to
/// the xp checkout.
fn copy_fixture(from: &Path, to: &Path, xp_root: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            copy_fixture(&path, &to.join(&name), xp_root);
        } else if let Some(real) = name.strip_suffix(".template") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace("@XP@", &xp_root.display().to_string());
            std::fs::write(to.join(real), text).unwrap();
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

#[test]
fn an_objective_in_a_users_crate_trains_and_exports_through_the_xp_cli() {
    let xp_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("my-xp");
    copy_fixture(
        &xp_root.join("tests/fixtures/out_of_tree"),
        &project,
        xp_root,
    );
    // The objective crate depends on the SDK, candle and serde only.
    let manifest = std::fs::read_to_string(project.join("len/Cargo.toml")).unwrap();
    assert_eq!(
        dependencies(&manifest),
        ["xp-objective", "candle-core", "serde"]
    );
    // The binary names xp once, then the project's own crates.
    let manifest = std::fs::read_to_string(project.join("app/Cargo.toml")).unwrap();
    assert_eq!(dependencies(&manifest), ["xp", "xp-objective-len"]);
    // The project copies xp's profiles, as the docs say, so that a shared target
    // folder reuses what was built for xp.
    let ours = profiles(&std::fs::read_to_string(xp_root.join("Cargo.toml")).unwrap());
    let theirs = profiles(&std::fs::read_to_string(project.join("Cargo.toml")).unwrap());
    assert_eq!(ours, theirs, "the fixture's profiles differ from xp's");
    // The same versions, profile and target folder as xp's: dependencies built for xp
    // are reused, not rebuilt.
    std::fs::copy(xp_root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let xp_bin = Path::new(env!("CARGO_BIN_EXE_xp"));
    let target = xp_bin.parent().and_then(Path::parent).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let bin = target.join("debug/my-xp");

    let listed = Command::new(&bin).arg("objectives").output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains("LEN") && listed.contains("CLS"), "{listed}");
    assert!(
        listed.contains("# \"start\" reads the [CLS] state"),
        "{listed}"
    );

    let exp = write(
        dir.path(),
        "len.toml",
        &tiny_experiment("len", "[objectives.LEN]\n[objectives.CLS]\n"),
    );
    let run = dir.path().join("run");
    let err = succeed(
        &bin,
        &["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()],
    );
    assert!(
        err.contains("gradients from the total and from each of 2 objectives"),
        "{err}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(metrics.contains(",LEN,"), "{metrics}");

    let onnx = dir.path().join("len.onnx");
    let (run, onnx_arg) = (run.to_str().unwrap(), onnx.to_str().unwrap());
    let out = succeed(&bin, &["export", "--onnx", run, "-o", onnx_arg, "--check"]);
    assert!(onnx.is_file());
    for objective in ["LEN", "CLS"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("check {objective} ")));
        assert!(line.is_some_and(|l| l.ends_with("ok")), "{out}");
    }

    // A head without an export: left out with a warning, or refused with --strict.
    let experiment = Path::new(run).join("experiment.toml");
    let text = std::fs::read_to_string(&experiment).unwrap();
    assert!(text.contains("export = true"), "{text}");
    let text = text.replace("export = true", "export = false");
    std::fs::write(&experiment, text).unwrap();
    let strict = dir.path().join("strict.onnx");
    let strict_arg = strict.to_str().unwrap();
    let out = Command::new(&bin)
        .args(["export", "--onnx", run, "-o", strict_arg, "--strict"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("LEN has no ONNX export"),
        "{err}"
    );
    assert!(!strict.exists(), "--strict wrote {}", strict.display());
    let err = succeed(&bin, &["export", "--onnx", run, "-o", strict_arg]);
    assert!(err.contains("left out (no ONNX export): LEN"), "{err}");

    // A class objective of the project's own: its confusion matrix, and its own
    // prediction in the attention picture's title.
    let text = std::fs::read_to_string(&experiment).unwrap();
    std::fs::write(&experiment, text.replace("export = false", "export = true")).unwrap();
    assert!(Path::new(run).join("confusion_LEN.png").is_file());
    let said = succeed(&bin, &["attention", run, "Nakamura", "--objective", "LEN"]);
    assert!(
        said.contains("(LEN: ") && said.contains("letters"),
        "{said}"
    );

    // A crate that is a dependency but not named in main_with: what to do, on run and
    // on export (not a blamed checkpoint).
    let unnamed = target.join("debug/unnamed");
    for args in [
        vec!["run", exp.to_str().unwrap(), "--out", "/nonexistent/x"],
        vec!["export", "--onnx", run, "-o", strict_arg],
    ] {
        let out = Command::new(&unnamed).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains("unknown objective `LEN`")
                && err.contains("xp::main_with(&[my_crate::OBJECTIVE])"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("does not fit"), "{err}");
    }
}

/// The names of a manifest's `[dependencies]`, in order.
fn dependencies(manifest: &str) -> Vec<String> {
    let table: toml::Table = manifest.parse().unwrap();
    let deps = table["dependencies"].as_table().unwrap();
    let mut names: Vec<(usize, String)> = deps
        .keys()
        .map(|k| {
            (
                manifest.find(&format!("\n{k} ")).unwrap_or(usize::MAX),
                k.clone(),
            )
        })
        .collect();
    names.sort();
    names.into_iter().map(|(_, k)| k).collect()
}

/// A manifest's `[profile]` table.
fn profiles(manifest: &str) -> toml::Value {
    let table: toml::Table = manifest.parse().unwrap();
    table["profile"].clone()
}

/// Runs `bin` with `args`, asserts that it succeeds, and returns its standard output
/// and error.
fn succeed(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    format!("{}{err}", String::from_utf8_lossy(&out.stdout))
}

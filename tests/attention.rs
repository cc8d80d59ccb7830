//! `xp attention`: a PNG per name from a run folder (exported in memory) or from a
//! model exported with `--attention`, for each kind of encoder pass; names it cannot
//! read and models without attention outputs get clear errors. `xp figures` draws a
//! run's figures again, with counts in the confusion cells on request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_clean_failure, stderr, trained_export, xp, ALL_OBJECTIVES};
use std::path::Path;

/// The PNG's width and height, from its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        path.display()
    );
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn attention_maps_are_drawn_per_name_for_each_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (run, plain) = trained_export(dir.path(), "att", ALL_OBJECTIVES, &["model.layers=2"]);
    let run_arg = run.to_str().unwrap();
    let out = xp(&["attention", run_arg, "Nakamura", "Schmidt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Each name with the predicted language and its probability, then its figure.
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = said.lines().next().unwrap();
    assert!(
        first.starts_with("Nakamura (") && first.ends_with("attention_Nakamura.png"),
        "{said}"
    );
    // Two layers of two heads: a 2 x 2 grid, wider and taller than one map.
    let (w, h) = png_size(&run.join("attention/attention_Nakamura.png"));
    assert!(w > 500 && h > 500, "{w} x {h}");
    assert!(run.join("attention/attention_Schmidt.png").exists());
    // The causal pass (LA) and a pair pass (NSP, `A|B`) into a folder of our choice.
    let figures = dir.path().join("figures");
    let figures_arg = figures.to_str().unwrap();
    for (objective, name, file) in [
        ("la", "Nakamura", "Nakamura"),
        ("nsp", "Naka|mura", "Naka_mura"),
    ] {
        let out = xp(&[
            "attention",
            run_arg,
            name,
            "--objective",
            objective,
            "--out",
            figures_arg,
        ]);
        assert!(out.status.success(), "{objective}: {}", stderr(&out));
        png_size(&figures.join(format!("attention_{file}.png")));
    }
    // A name it cannot read fails alone; the others are drawn.
    let out = xp(&[
        "attention",
        run_arg,
        "Nakamura",
        "X",
        "--objective",
        "nsp",
        "--out",
        figures_arg,
    ]);
    assert_clean_failure(&out, "a pair objective needs two parts");
    assert!(
        stderr(&out).contains("1 of 2 names not drawn"),
        "{}",
        stderr(&out)
    );
    // A model exported without attention outputs says how to get them.
    let out = xp(&[
        "attention",
        plain.to_str().unwrap(),
        "Nakamura",
        "--out",
        figures_arg,
    ]);
    assert_clean_failure(
        &out,
        "export it again with `xp export --onnx RUN_DIR --attention`",
    );
}

#[test]
fn figures_are_drawn_again_with_counts_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = trained_export(dir.path(), "figs", "[objectives.CLS]\n", &[]);
    let confusion = run.join("confusion_CLS.png");
    let before = std::fs::read(&confusion).unwrap();
    let out = xp(&["figures", run.to_str().unwrap(), "--counts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    for figure in ["metrics.png", "total_loss.png", "confusion_CLS.png"] {
        assert!(said.contains(figure), "{said}");
        png_size(&run.join(figure));
    }
    let after = std::fs::read(&confusion).unwrap();
    assert_ne!(before, after, "the cells now hold counts, not percents");
    let out = xp(&["figures", dir.path().to_str().unwrap()]);
    assert_clean_failure(&out, "has no metrics.jsonl with rows");
}

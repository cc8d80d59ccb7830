use super::*;

fn tune(space: &str) -> Tune {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "name = \"b\"\n[objectives.CLS]\n[objectives.MLM]\n",
    )
    .unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(
        &path,
        format!("base = \"base.toml\"\nbudget = 100\n[rungs]\nsteps = [10, 30]\n[space]\n{space}"),
    )
    .unwrap();
    Tune::load(&path, &[]).unwrap()
}

#[test]
fn a_field_of_an_objective_the_trial_does_not_train_is_not_sampled() {
    let t = tune(
        "objectives = { choice = [[\"CLS\"], [\"CLS\", \"MLM\"]] }\n\"objectives.MLM.mask_prob\" = { uniform = [0.1, 0.3] }\n",
    );
    let search = Search::default();
    let samples: Vec<Sample> = (1..40).map(|id| t.sample(id, &search)).collect();
    for s in &samples {
        let mlm = s["objectives"].as_array().unwrap().len() == 2;
        assert_eq!(s.contains_key("objectives.MLM.mask_prob"), mlm, "{s:?}");
        let exp = t.trial_experiment(1, s).unwrap();
        assert_eq!(exp.train.steps, 30, "trials are planned for the last rung");
    }
    assert!(samples.iter().any(|s| s.len() == 1) && samples.iter().any(|s| s.len() == 2));
    // The same trial of the same search draws the same fields.
    assert_eq!(t.sample(5, &search), samples[4]);
}

#[test]
fn the_base_objectives_decide_when_the_space_has_no_set_of_them() {
    let t = tune("\"objectives.MLM.mask_prob\" = { uniform = [0.1, 0.3] }\n");
    let s = t.sample(1, &Search::default());
    assert!(s.contains_key("objectives.MLM.mask_prob"), "{s:?}");
}

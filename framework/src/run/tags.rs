//! The TensorBoard tags of a run's event file, built in one place: what the run
//! writes and what a sweep's HParams dashboard asks for agree.

/// The tag of the learning rate.
pub const LR: &str = "lr";
/// The name of the loss metric in a tag.
pub const LOSS: &str = "loss";
/// The name of the accuracy metric in a tag.
pub const ACCURACY: &str = "accuracy";

/// `OBJECTIVE/SPLIT/METRIC` (`total` for the weighted total loss), under `best/` for
/// the best checkpoint's figures written at the run's end.
pub fn metric(objective: &str, split: &str, metric: &str, best: bool) -> String {
    let prefix = if best { "best/" } else { "" };
    format!("{prefix}{objective}/{split}/{metric}")
}

/// The running mean of an objective's training loss between evaluations.
pub fn running_loss(objective: &str) -> String {
    format!("{objective}/train/running_loss")
}

/// The `best/` tags a run of `objectives` writes for validation and test: the metrics
/// of a sweep's HParams table.
pub fn best_metrics<'a>(objectives: impl IntoIterator<Item = &'a str> + Clone) -> Vec<String> {
    let mut tags = Vec::new();
    for split in ["valid", "test"] {
        for objective in objectives.clone() {
            tags.push(metric(objective, split, ACCURACY, true));
            tags.push(metric(objective, split, LOSS, true));
        }
        tags.push(metric("total", split, LOSS, true));
    }
    tags
}

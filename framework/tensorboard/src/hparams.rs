//! TensorBoard's HParams plugin data (`tensorboard/plugins/hparams/api.proto`,
//! `plugin_data.proto`): an experiment names the hyperparameters and the metrics of a
//! study, each session (a run) states its hyperparameters when it starts and its status
//! when it ends. The plugin reads a session's metrics from the run's own scalars.

use crate::event::plugin_value;
use crate::proto::Message;

const PLUGIN: &str = "hparams";
const EXPERIMENT_TAG: &str = "_hparams_/experiment";
const SESSION_START_TAG: &str = "_hparams_/session_start_info";
const SESSION_END_TAG: &str = "_hparams_/session_end_info";

/// A hyperparameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum HParam {
    /// A number.
    Number(f64),
    /// A string (lists and tables are written as their TOML text).
    Text(String),
    /// A flag.
    Bool(bool),
}

impl HParam {
    /// `google.protobuf.Value`.
    fn message(&self) -> Message {
        match self {
            Self::Number(n) => Message::new().double(2, *n),
            Self::Text(s) => Message::new().string(3, s),
            Self::Bool(b) => Message::new().bool(4, *b),
        }
    }

    /// The `DataType` of `HParamInfo`.
    fn data_type(&self) -> i64 {
        match self {
            Self::Text(_) => 1,
            Self::Bool(_) => 2,
            Self::Number(_) => 3,
        }
    }
}

/// A searched hyperparameter and the values the study gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct HParamInfo {
    /// Its name (a dotted experiment field).
    pub name: String,
    /// Every value it takes, all of one kind.
    pub values: Vec<HParam>,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It finished.
    Success,
    /// It failed.
    Failure,
    /// It still runs (or stopped and may resume).
    Running,
}

/// The summary value that describes a study: its hyperparameters and the scalar tags
/// that are its metrics.
pub fn experiment(name: &str, hparams: &[HParamInfo], metric_tags: &[String]) -> Message {
    let mut experiment = Message::new().string(6, name);
    for info in hparams {
        let mut entry = Message::new().string(1, &info.name);
        if let Some(first) = info.values.first() {
            entry = entry.int(4, first.data_type());
        }
        let domain = info
            .values
            .iter()
            .fold(Message::new(), |list, v| list.message(1, v.message()));
        // `differs`: the dashboard shows such hyperparameters first.
        let entry = entry.message(5, domain).bool(7, info.values.len() > 1);
        experiment = experiment.message(4, entry);
    }
    for tag in metric_tags {
        let name = Message::new().string(2, tag);
        experiment = experiment.message(5, Message::new().message(1, name));
    }
    plugin_value(EXPERIMENT_TAG, PLUGIN, plugin_data(2, experiment))
}

/// The summary value a session writes when it starts: its hyperparameters.
pub fn session_start(hparams: &[(String, HParam)], start_time_secs: f64) -> Message {
    let mut info = Message::new();
    for (name, value) in hparams {
        let entry = Message::new().string(1, name).message(2, value.message());
        info = info.message(1, entry);
    }
    let info = info.double(5, start_time_secs);
    plugin_value(SESSION_START_TAG, PLUGIN, plugin_data(3, info))
}

/// The summary value a session writes when it ends.
pub fn session_end(status: Status, end_time_secs: f64) -> Message {
    let code = match status {
        Status::Success => 1,
        Status::Failure => 2,
        Status::Running => 3,
    };
    let info = Message::new().int(1, code).double(2, end_time_secs);
    plugin_value(SESSION_END_TAG, PLUGIN, plugin_data(4, info))
}

/// `HParamsPluginData { version: 0, <field>: data }`.
fn plugin_data(field: u32, data: Message) -> Vec<u8> {
    Message::new().int(1, 0).message(field, data).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_start_encodes_as_tensorboards_own() {
        // HParamsPluginData with session_start_info.hparams["a"].number_value = 2,
        // serialised by TensorBoard's Python protobuf classes, after the version field.
        let data = plugin_data(
            3,
            Message::new().message(
                1,
                Message::new()
                    .string(1, "a")
                    .message(2, HParam::Number(2.0).message()),
            ),
        );
        let python = [
            0x1a, 0x10, 0x0a, 0x0e, 0x0a, 0x01, 0x61, 0x12, 0x09, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x40,
        ];
        assert_eq!(data[..2], [0x08, 0x00]);
        assert_eq!(data[2..], python);
    }
}

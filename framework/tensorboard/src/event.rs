//! The `Event` messages of an event file (`tensorflow/core/util/event.proto`,
//! `summary.proto`): the file's version line, scalars, PNG images, and summaries that
//! carry a plugin's data.

use crate::proto::Message;

/// `Event` fields.
mod field {
    pub const WALL_TIME: u32 = 1;
    pub const STEP: u32 = 2;
    pub const FILE_VERSION: u32 = 3;
    pub const SUMMARY: u32 = 5;
}

/// `Summary.value` (repeated `Summary.Value`).
const SUMMARY_VALUE: u32 = 1;

/// `Summary.Value` fields.
mod value {
    pub const TAG: u32 = 1;
    pub const SIMPLE_VALUE: u32 = 2;
    pub const IMAGE: u32 = 4;
    pub const TENSOR: u32 = 8;
    pub const METADATA: u32 = 9;
}

/// The version every event file states in its first record.
pub const FILE_VERSION: &str = "brain.Event:2";

/// The `Event` field that holds the step, for readers of encoded events.
pub const STEP_FIELD: u32 = field::STEP;

/// The first event of a file: its format version.
pub fn file_version(wall_time: f64) -> Vec<u8> {
    Message::new()
        .double(field::WALL_TIME, wall_time)
        .string(field::FILE_VERSION, FILE_VERSION)
        .into_bytes()
}

/// An event at `step` holding a summary of `values` (`Summary.Value` messages).
pub fn summary(wall_time: f64, step: u64, values: Vec<Message>) -> Vec<u8> {
    let summary = values
        .into_iter()
        .fold(Message::new(), |m, v| m.message(SUMMARY_VALUE, v));
    Message::new()
        .double(field::WALL_TIME, wall_time)
        .int(field::STEP, step as i64)
        .message(field::SUMMARY, summary)
        .into_bytes()
}

/// A scalar: `tag` has `value` (TensorBoard's scalars dashboard).
pub fn scalar(tag: &str, value: f32) -> Message {
    Message::new()
        .string(value::TAG, tag)
        .float(value::SIMPLE_VALUE, value)
}

/// An image: a PNG file's bytes and its size in pixels (TensorBoard's images
/// dashboard).
pub fn image(tag: &str, png: &[u8], width: u32, height: u32) -> Message {
    /// `Summary.Image` fields; colour space 4 is RGBA.
    const HEIGHT: u32 = 1;
    const WIDTH: u32 = 2;
    const COLORSPACE: u32 = 3;
    const ENCODED: u32 = 4;
    let image = Message::new()
        .int(HEIGHT, i64::from(height))
        .int(WIDTH, i64::from(width))
        .int(COLORSPACE, 4)
        .bytes(ENCODED, png);
    Message::new()
        .string(value::TAG, tag)
        .message(value::IMAGE, image)
}

/// A value that carries `content` for the plugin `plugin` (its `SummaryMetadata`),
/// with the empty float tensor such values hold.
pub fn plugin_value(tag: &str, plugin: &str, content: Vec<u8>) -> Message {
    const PLUGIN_DATA: u32 = 1;
    const PLUGIN_NAME: u32 = 1;
    const CONTENT: u32 = 2;
    let plugin_data = Message::new()
        .string(PLUGIN_NAME, plugin)
        .bytes(CONTENT, &content);
    let metadata = Message::new().message(PLUGIN_DATA, plugin_data);
    Message::new()
        .string(value::TAG, tag)
        .message(value::METADATA, metadata)
        .message(value::TENSOR, empty_float_tensor())
}

/// `TensorProto { dtype: DT_FLOAT, tensor_shape { dim { size: 0 } } }`.
fn empty_float_tensor() -> Message {
    const DTYPE: u32 = 1;
    const DT_FLOAT: i64 = 1;
    const SHAPE: u32 = 2;
    const DIM: u32 = 2;
    Message::new()
        .int(DTYPE, DT_FLOAT)
        .message(SHAPE, Message::new().message(DIM, Message::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::read_varint_field;

    #[test]
    fn the_null_tensor_is_tensorboards() {
        // tensorboard.plugins.hparams.metadata.NULL_TENSOR serialised.
        assert_eq!(
            empty_float_tensor().into_bytes(),
            [0x08, 0x01, 0x12, 0x02, 0x12, 0x00]
        );
    }

    #[test]
    fn an_event_states_its_step() {
        let event = summary(1.5, 4000, vec![scalar("CLS/valid/accuracy", 0.5)]);
        assert_eq!(read_varint_field(&event, STEP_FIELD), Some(4000));
        assert_eq!(read_varint_field(&file_version(1.5), STEP_FIELD), None);
    }
}

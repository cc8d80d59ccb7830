//! The few protocol-buffer wire rules an event file needs: varints, fixed-width
//! numbers and length-delimited fields to write, and the varint fields of a message to
//! read back. Field numbers are those of TensorBoard's `.proto` files, named where used.

/// Wire type of a varint field (`int32`, `int64`, `enum`, `bool`).
const VARINT: u8 = 0;
/// Wire type of a `double` or `fixed64`.
const FIXED64: u8 = 1;
/// Wire type of a string, bytes or embedded message.
const LEN: u8 = 2;
/// Wire type of a `float` or `fixed32`.
const FIXED32: u8 = 5;

/// One message's encoded fields, written in the order they are added.
#[derive(Debug, Default, Clone)]
pub struct Message(Vec<u8>);

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn key(&mut self, field: u32, wire: u8) {
        put_varint(&mut self.0, (u64::from(field) << 3) | u64::from(wire));
    }

    /// An `int32`, `int64` or enum field (negative numbers as ten-byte varints).
    pub fn int(mut self, field: u32, value: i64) -> Self {
        self.key(field, VARINT);
        put_varint(&mut self.0, value as u64);
        self
    }

    /// A `bool` field.
    pub fn bool(self, field: u32, value: bool) -> Self {
        self.int(field, i64::from(value))
    }

    /// A `double` field.
    pub fn double(mut self, field: u32, value: f64) -> Self {
        self.key(field, FIXED64);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// A `float` field.
    pub fn float(mut self, field: u32, value: f32) -> Self {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// A `bytes` field.
    pub fn bytes(mut self, field: u32, value: &[u8]) -> Self {
        self.key(field, LEN);
        put_varint(&mut self.0, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    /// A `string` field.
    pub fn string(self, field: u32, value: &str) -> Self {
        self.bytes(field, value.as_bytes())
    }

    /// An embedded message field.
    pub fn message(self, field: u32, value: Message) -> Self {
        self.bytes(field, &value.0)
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One field of an encoded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// Its number.
    pub number: u32,
    /// Its bytes as encoded, key included.
    pub raw: &'a [u8],
    wire: u8,
    value: &'a [u8],
}

/// The fields of the encoded message `bytes`, in order; `None` when the bytes are not
/// a message.
pub fn fields(bytes: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        let start = at;
        let key = take_varint(bytes, &mut at)?;
        let (number, wire) = (u32::try_from(key >> 3).ok()?, (key & 7) as u8);
        let value_start = at;
        match wire {
            VARINT => {
                take_varint(bytes, &mut at)?;
            }
            FIXED64 => at = at.checked_add(8)?,
            FIXED32 => at = at.checked_add(4)?,
            LEN => {
                let len = usize::try_from(take_varint(bytes, &mut at)?).ok()?;
                at = at.checked_add(len)?;
            }
            _ => return None,
        }
        out.push(Field {
            number,
            raw: bytes.get(start..at)?,
            wire,
            value: bytes.get(value_start..at)?,
        });
    }
    Some(out)
}

/// The value of varint field `field` of the encoded message `bytes` (the last one, as
/// protobuf reads a repeated scalar into a singular field); `None` when absent or when
/// the bytes are not a message.
pub fn read_varint_field(bytes: &[u8], field: u32) -> Option<u64> {
    let fields = fields(bytes)?;
    let found = fields
        .iter()
        .rev()
        .find(|f| f.number == field && f.wire == VARINT)?;
    take_varint(found.value, &mut 0)
}

fn take_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_encode_as_the_protobuf_wire_format_says() {
        // The examples of the protobuf encoding guide: 150 in field 1 is 08 96 01, the
        // string "testing" in field 2 is 12 07 74 65 73 74 69 6e 67.
        assert_eq!(Message::new().int(1, 150).into_bytes(), [0x08, 0x96, 0x01]);
        assert_eq!(
            Message::new().string(2, "testing").into_bytes(),
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        assert_eq!(
            Message::new().double(1, 1.0).into_bytes(),
            [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
        );
        assert_eq!(
            Message::new().float(2, 1.0).into_bytes(),
            [0x15, 0, 0, 0x80, 0x3f]
        );
        assert_eq!(Message::new().int(1, -1).into_bytes().len(), 11);
    }

    #[test]
    fn a_varint_field_is_read_back_past_fields_of_every_other_wire_type() {
        let inner = Message::new().int(2, 99);
        let bytes = Message::new()
            .double(1, 3.5)
            .float(4, 1.5)
            .message(5, inner)
            .int(2, 1_234_567_890_123)
            .into_bytes();
        assert_eq!(read_varint_field(&bytes, 2), Some(1_234_567_890_123));
        assert_eq!(read_varint_field(&bytes, 3), None);
        // Cut short: not a message.
        assert_eq!(read_varint_field(&bytes[..bytes.len() - 1], 2), None);
        let numbers: Vec<u32> = fields(&bytes)
            .unwrap_or_default()
            .iter()
            .map(|f| f.number)
            .collect();
        assert_eq!(numbers, [1, 4, 5, 2]);
        let raw: Vec<u8> = fields(&bytes)
            .unwrap_or_default()
            .iter()
            .flat_map(|f| f.raw.to_vec())
            .collect();
        assert_eq!(raw, bytes);
    }
}

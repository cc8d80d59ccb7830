//! TFRecord framing, the container of an event file: each record is its length
//! (`u64`, little-endian), the masked CRC-32C of those eight bytes, the data, and the
//! masked CRC-32C of the data.

const CASTAGNOLI: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// The CRC-32C of `bytes`, rotated and offset as TFRecord stores it (a CRC of data
/// that holds CRCs is weak, hence the mask).
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = CASTAGNOLI.checksum(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// `data` framed as one record.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The whole, intact records at the start of `bytes`, each as its framed bytes and its
/// data; reading stops at the first record that is cut short or fails its checksum (what
/// a process killed mid-write leaves).
pub fn records(bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((framed, data)) = record_at(bytes, at) {
        at += framed.len();
        out.push((framed, data));
    }
    out
}

fn record_at(bytes: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    let rest = bytes.get(at..)?;
    let len_bytes = rest.get(..8)?;
    let len_crc = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?);
    if masked_crc(len_bytes) != len_crc {
        return None;
    }
    let len = usize::try_from(u64::from_le_bytes(len_bytes.try_into().ok()?)).ok()?;
    let end = len.checked_add(16)?;
    let data = rest.get(12..12 + len)?;
    let data_crc = u32::from_le_bytes(rest.get(12 + len..end)?.try_into().ok()?);
    (masked_crc(data) == data_crc).then(|| (&rest[..end], data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_crc32c_masked() {
        // CRC-32C of "123456789" is 0xe3069283 (the catalogue's check value).
        assert_eq!(
            CASTAGNOLI.checksum(b"123456789"),
            0xe306_9283,
            "not CRC-32C"
        );
        let expected = 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8);
        assert_eq!(masked_crc(b"123456789"), expected);
    }

    #[test]
    fn records_read_back_until_the_first_damaged_one() {
        let mut file = frame(b"first");
        file.extend(frame(b""));
        file.extend(frame(b"third"));
        let read: Vec<&[u8]> = records(&file).into_iter().map(|(_, d)| d).collect();
        assert_eq!(read, [&b"first"[..], b"", b"third"]);
        // A record cut short ends the reading, the records before it stay.
        let cut = &file[..file.len() - 3];
        assert_eq!(records(cut).len(), 2);
        // So does a flipped byte.
        let mut flipped = file.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 1;
        assert_eq!(records(&flipped).len(), 2);
    }
}

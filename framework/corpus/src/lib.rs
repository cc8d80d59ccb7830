//! The names corpus of the PyTorch "classifying names" tutorial, built into xp: 18
//! files, one per language of origin, one surname per line, UTF-8, exactly as published
//! (`names/`, with their SHA-256 sums in [`FILES`]). The build script deflates them
//! into one blob; [`files`] inflates it.

/// Every file: its language (the file stem) and the SHA-256 of its bytes, by name.
pub const FILES: [(&str, &str); 18] = [
    (
        "Arabic",
        "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc",
    ),
    (
        "Chinese",
        "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e",
    ),
    (
        "Czech",
        "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e",
    ),
    (
        "Dutch",
        "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3",
    ),
    (
        "English",
        "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2",
    ),
    (
        "French",
        "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95",
    ),
    (
        "German",
        "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db",
    ),
    (
        "Greek",
        "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6",
    ),
    (
        "Irish",
        "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058",
    ),
    (
        "Italian",
        "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4",
    ),
    (
        "Japanese",
        "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f",
    ),
    (
        "Korean",
        "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136",
    ),
    (
        "Polish",
        "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826",
    ),
    (
        "Portuguese",
        "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53",
    ),
    (
        "Russian",
        "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3",
    ),
    (
        "Scottish",
        "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd",
    ),
    (
        "Spanish",
        "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7",
    ),
    (
        "Vietnamese",
        "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d",
    ),
];

/// Where the corpus comes from, for people: the tutorial's archive.
pub const ORIGIN: &str = "data/names/ of https://download.pytorch.org/tutorial/data.zip";

const PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/names.deflate"));

/// One file of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesFile {
    /// The language, as the file is named (`Arabic` for `Arabic.txt`).
    pub language: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// The packed corpus does not unpack: the binary is damaged.
#[derive(Debug, thiserror::Error)]
#[error("the corpus built into xp does not unpack ({0}): the binary is damaged; rebuild xp, or set [data] dir to a folder of LANGUAGE.txt files")]
pub struct UnpackError(String);

/// The 18 files, in name order.
pub fn files() -> Result<Vec<NamesFile>, UnpackError> {
    let blob = miniz_oxide::inflate::decompress_to_vec(PACKED)
        .map_err(|e| UnpackError(format!("{e:?}")))?;
    let mut files = Vec::with_capacity(FILES.len());
    let mut at = 0;
    while at < blob.len() {
        let language_len = usize::from(u16::from_le_bytes(take(&blob, &mut at)?));
        let language = String::from_utf8(take_slice(&blob, &mut at, language_len)?.to_vec())
            .map_err(|e| UnpackError(e.to_string()))?;
        let len = u32::from_le_bytes(take(&blob, &mut at)?) as usize;
        let bytes = take_slice(&blob, &mut at, len)?.to_vec();
        files.push(NamesFile { language, bytes });
    }
    Ok(files)
}

fn take<const N: usize>(blob: &[u8], at: &mut usize) -> Result<[u8; N], UnpackError> {
    take_slice(blob, at, N)?
        .try_into()
        .map_err(|_| UnpackError("cut short".into()))
}

fn take_slice<'a>(blob: &'a [u8], at: &mut usize, len: usize) -> Result<&'a [u8], UnpackError> {
    let slice = blob
        .get(*at..*at + len)
        .ok_or_else(|| UnpackError("cut short".into()))?;
    *at += len;
    Ok(slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_embedded_files_are_the_published_ones() -> Result<(), UnpackError> {
        let files = files()?;
        let languages: Vec<&str> = files.iter().map(|f| f.language.as_str()).collect();
        let expected: Vec<&str> = FILES.iter().map(|(l, _)| *l).collect();
        assert_eq!(languages, expected);
        for (file, (_, sum)) in files.iter().zip(FILES) {
            let digest = format!("{:x}", Sha256::digest(&file.bytes));
            assert_eq!(digest, sum, "{}", file.language);
        }
        let lines: usize = files
            .iter()
            .map(|f| f.bytes.iter().filter(|&&b| b == b'\n').count())
            .sum();
        assert_eq!(lines, 20_074);
        // Compressed: the binary carries less than the files' 204 KB.
        assert!(PACKED.len() < 100_000, "{} bytes packed", PACKED.len());
        Ok(())
    }
}

//! Packs `names/*.txt` into one deflated blob in `OUT_DIR`: for each file in name
//! order, its language (`u16` length, UTF-8), its size (`u32`) and its bytes, all
//! little-endian.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=names");
    let mut files: Vec<_> = std::fs::read_dir("names")
        .expect("framework/corpus/names: the corpus files")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut blob = Vec::new();
    for path in &files {
        let language = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let bytes = std::fs::read(path).expect("read a corpus file");
        blob.extend_from_slice(&(language.len() as u16).to_le_bytes());
        blob.extend_from_slice(language.as_bytes());
        blob.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        blob.extend_from_slice(&bytes);
    }
    let packed = miniz_oxide::deflate::compress_to_vec(&blob, 10);
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("names.deflate");
    std::fs::write(out, packed).expect("write the packed corpus");
}

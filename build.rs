//! Links every objective crate the `xp` binary depends on: one `extern crate` per
//! `xp-objective-*` dependency of this package, so the linker cannot drop an
//! objective's `inventory` registration and adding one is a dependency line only.

use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    let manifest = std::fs::read_to_string("Cargo.toml").expect("read Cargo.toml");
    let table: toml::Table = manifest.parse().expect("parse Cargo.toml");
    let mut code = String::new();
    if let Some(deps) = table.get("dependencies").and_then(|d| d.as_table()) {
        for name in deps.keys().filter(|k| k.starts_with("xp-objective-")) {
            let _ = writeln!(code, "extern crate {} as _;", name.replace('-', "_"));
        }
    }
    let out =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("objectives.rs");
    std::fs::write(out, code).expect("write objectives.rs");
}

//! Lists every objective crate this package depends on: each `xp-objective-*`
//! dependency becomes one entry of `BUILTIN`, which `xp::main_with` hands to
//! `xp_cli::main_with`. Naming a crate keeps the linker from dropping it with its
//! registration, and adding an objective is a dependency line only.

use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    let manifest = std::fs::read_to_string("Cargo.toml").expect("read Cargo.toml");
    let table: toml::Table = manifest.parse().expect("parse Cargo.toml");
    let mut code = String::from(
        "/// The objectives built into xp, one per `xp-objective-*` crate it depends on.\npub const BUILTIN: &[ObjectiveEntry] = &[\n",
    );
    if let Some(deps) = table.get("dependencies").and_then(|d| d.as_table()) {
        for name in deps.keys().filter(|k| k.starts_with("xp-objective-")) {
            let _ = writeln!(code, "    {}::OBJECTIVE,", name.replace('-', "_"));
        }
    }
    code.push_str("];\n");
    let out =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("objectives.rs");
    std::fs::write(out, code).expect("write objectives.rs");
}

//! The command line's own layout: its modules import each other without a circle, and
//! no command imports another command (what keeps adding a command to one file).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module of `src/` (`cmd::run`, `watch`, ...) and the modules of the crate its code
/// names (`crate::NAME`, `super::NAME`), comments left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            match path.is_dir() {
                true => dirs.push(path),
                false if path.extension().is_some_and(|e| e == "rs") => files.push(path),
                false => {}
            }
        }
    }
    let mut graph = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = relative
            .with_extension("")
            .to_string_lossy()
            .replace('/', "::")
            .trim_end_matches("::mod")
            .to_owned();
        let parent = module.rsplit_once("::").map(|(p, _)| p.to_owned());
        let text = std::fs::read_to_string(&file).expect("a source file");
        // A file's own tests (`super::` there is the file itself) import nothing of
        // the program.
        let code_text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut named = BTreeSet::new();
        for line in code_text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (prefix, base) in [("crate::", None), ("super::", parent.as_deref())] {
                for (at, _) in code.match_indices(prefix) {
                    let rest = &code[at + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let target = match base {
                        Some(base) => format!("{base}::{name}"),
                        None => name,
                    };
                    // `crate::cmd::run` names the module `cmd::run`.
                    let deeper = rest[target.rsplit("::").next().map_or(0, str::len)..]
                        .strip_prefix("::")
                        .map(|r| {
                            r.chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect::<String>()
                        });
                    let target = match deeper {
                        Some(sub) if target == "cmd" && !sub.is_empty() => format!("cmd::{sub}"),
                        _ => target,
                    };
                    if !target.is_empty() && target != module {
                        named.insert(target);
                    }
                }
            }
        }
        graph.insert(module, named);
    }
    graph
}

#[test]
fn the_modules_import_each_other_without_a_circle() {
    let graph = imports();
    // Depth-first search for a back edge.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|m| *m == module) {
            panic!(
                "modules import each other in a circle: {}",
                path[at..].join(" -> ")
            );
        }
        if !done.insert(module) {
            return;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if graph.contains_key(next) {
                visit(next, graph, path, done);
            }
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("cmd::run"), "{:?}", graph.keys());
}

#[test]
fn no_command_imports_another() {
    for (module, named) in imports() {
        let Some(command) = module.strip_prefix("cmd::") else {
            continue;
        };
        let others: Vec<&String> = named
            .iter()
            .filter(|n| n.starts_with("cmd::") && n.as_str() != module)
            .collect();
        assert!(others.is_empty(), "command {command} imports {others:?}");
        assert!(
            !named.contains("cmd"),
            "command {command} imports the command list"
        );
    }
}

//! The guide and the command line agree: every command (and subcommand) of `xp --help`
//! has its section in `docs/guide/commands.md` naming each of its options, the guide has
//! no section for a command that does not exist, and the README's tour names every
//! command.

use clap::CommandFactory;
use std::path::Path;

/// `(full name, long options)` of every visible command, subcommands as `bench train`.
fn commands() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let root = xp_cli::Cli::command();
    for command in root.get_subcommands().filter(|c| !c.is_hide_set()) {
        let name = command.get_name().to_owned();
        if name == "help" {
            continue;
        }
        let subcommands: Vec<_> = command
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .collect();
        if subcommands.is_empty() {
            out.push((name.clone(), long_options(command)));
        }
        for sub in subcommands {
            let mut options = long_options(sub);
            options.extend(long_options(command));
            out.push((format!("{name} {}", sub.get_name()), options));
        }
    }
    out
}

fn long_options(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .filter(|l| l != "--help" && l != "--version")
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The sections of the command reference: heading `xp NAME` -> its text.
fn sections(page: &str) -> Vec<(String, String)> {
    page.split("\n### ")
        .skip(1)
        .map(|s| {
            let (heading, body) = s.split_once('\n').unwrap_or((s, ""));
            let name = heading.trim().trim_matches('`').trim_start_matches("xp ");
            (name.to_owned(), body.to_owned())
        })
        .collect()
}

#[test]
fn the_command_reference_covers_every_command_and_option() {
    let page = read("docs/guide/commands.md");
    let sections = sections(&page);
    let commands = commands();
    assert!(commands.len() >= 15, "{commands:?}");
    for (name, options) in &commands {
        let Some((_, body)) = sections.iter().find(|(s, _)| s == name) else {
            panic!("docs/guide/commands.md has no section `xp {name}`");
        };
        for option in options {
            assert!(
                body.contains(option.as_str()),
                "docs/guide/commands.md, `xp {name}`: {option} is not described"
            );
        }
    }
    for (section, _) in &sections {
        assert!(
            commands.iter().any(|(name, _)| name == section),
            "docs/guide/commands.md describes `xp {section}`, which xp does not have"
        );
    }
}

#[test]
fn the_readme_tours_every_command() {
    let readme = read("README.md");
    for (name, _) in commands() {
        let top = name.split(' ').next().unwrap_or(&name);
        assert!(
            readme.contains(&format!("xp {top}")),
            "README.md does not mention `xp {top}`"
        );
    }
}

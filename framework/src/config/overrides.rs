//! `--set a.b=value` on the parsed TOML document, before it is typed.

use super::ConfigError;

/// Sets the dotted `key` of `doc` to `value`, read as TOML (`500`, `true`, `"adamw"`,
/// `[1, 2]`), or as a bare string when it is not valid TOML (`--set train.optimizer=adamw`).
pub fn apply_override(doc: &mut toml::Table, assignment: &str) -> Result<(), ConfigError> {
    let (key, raw) = assignment
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| ConfigError::Override(assignment.to_owned()))?;
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let parts: Vec<&str> = key.trim().split('.').collect();
    let (last, path) = parts
        .split_last()
        .ok_or_else(|| ConfigError::Override(assignment.to_owned()))?;
    let mut table = doc;
    for part in path {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| {
            ConfigError::invalid(key, format!("`{part}` is a value, not a table"))
        })?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_values_with_toml_types() {
        let mut doc: toml::Table = toml::from_str("[train]\nsteps = 10").unwrap();
        apply_override(&mut doc, "train.steps=500").unwrap();
        apply_override(&mut doc, "train.optimizer=adamw").unwrap();
        apply_override(&mut doc, "objectives.MLM.mask_prob=0.2").unwrap();
        assert_eq!(doc["train"]["steps"].as_integer(), Some(500));
        assert_eq!(doc["train"]["optimizer"].as_str(), Some("adamw"));
        assert_eq!(doc["objectives"]["MLM"]["mask_prob"].as_float(), Some(0.2));
        assert!(apply_override(&mut doc, "nokey").is_err());
        assert!(apply_override(&mut doc, "train.steps.x=1").is_err());
    }
}

//! `--set a.b=value` on the parsed TOML document, before it is typed.

use super::ConfigError;

/// Sets the dotted `key` of `doc` to `value`, read as TOML (`500`, `true`, `"adamw"`,
/// `[1, 2]`), or as a bare string when it is not valid TOML (`--set train.optimizer=adamw`).
/// An array of tables is entered by a 0-based index or by a table's `name`:
/// `stages.1.train.lr=5e-5`, `stages.finetune.steps=2000`.
pub fn apply_override(doc: &mut toml::Table, assignment: &str) -> Result<(), ConfigError> {
    let (key, raw) = assignment
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| ConfigError::Override(assignment.to_owned()))?;
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts
        .split_last()
        .ok_or_else(|| ConfigError::Override(assignment.to_owned()))?;
    let mut table = doc;
    let mut parts = path.iter().peekable();
    while let Some(part) = parts.next() {
        let mut entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        while let toml::Value::Array(items) = entry {
            let Some(index) = parts.next() else {
                return Err(ConfigError::invalid(
                    key,
                    format!("`{part}` is a list: name an entry, e.g. `{part}.0.{last}`"),
                ));
            };
            entry = array_entry(items, index, part, key)?;
        }
        table = entry.as_table_mut().ok_or_else(|| {
            ConfigError::invalid(key, format!("`{part}` is a value, not a table"))
        })?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// The entry of `items` (the list `list`) that `index` names: a 0-based position or
/// the `name` of a table.
fn array_entry<'a>(
    items: &'a mut [toml::Value],
    index: &str,
    list: &str,
    key: &str,
) -> Result<&'a mut toml::Value, ConfigError> {
    let position = index.parse::<usize>().ok().or_else(|| {
        items
            .iter()
            .position(|item| item.get("name").and_then(toml::Value::as_str) == Some(index))
    });
    let len = items.len();
    position
        .and_then(|i| items.get_mut(i))
        .ok_or_else(|| {
            ConfigError::invalid(
                key,
                format!("`{list}` has {len} entries (0 to {}), none is `{index}`: name one by its position or its `name`", len.saturating_sub(1)),
            )
        })
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

    #[test]
    fn enters_lists_of_tables_by_position_or_name() {
        let text =
            "[[stages]]\nname = \"pre\"\nsteps = 1\n[[stages]]\nname = \"fine\"\nsteps = 2\n";
        let mut doc: toml::Table = toml::from_str(text).unwrap();
        apply_override(&mut doc, "stages.1.train.lr=5e-5").unwrap();
        apply_override(&mut doc, "stages.pre.steps=7").unwrap();
        assert_eq!(doc["stages"][1]["train"]["lr"].as_float(), Some(5e-5));
        assert_eq!(doc["stages"][0]["steps"].as_integer(), Some(7));
        let err = apply_override(&mut doc, "stages.2.steps=1").unwrap_err();
        assert!(err.to_string().contains("has 2 entries"), "{err}");
        assert!(apply_override(&mut doc, "stages.steps=1").is_err());
    }
}

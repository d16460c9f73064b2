//! dbt config resolution: reading the `models:`/`seeds:`/… trees of the
//! project file along a node's fqn, merging config layers with dbt's merge
//! rules, and dbt's defaults per resource type.

use serde_json::{Map, Value};

/// Resource types that carry a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Model,
    Seed,
    Snapshot,
    /// Data tests, generic and singular.
    Test,
    Analysis,
    /// `on-run-start`/`on-run-end` hooks and `run-operation`.
    Operation,
    Source,
    UnitTest,
    Exposure,
}

impl ResourceType {
    /// The name dbt uses in unique ids and manifests (`model`, `test`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Model => "model",
            ResourceType::Seed => "seed",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Test => "test",
            ResourceType::Analysis => "analysis",
            ResourceType::Operation => "operation",
            ResourceType::Source => "source",
            ResourceType::UnitTest => "unit_test",
            ResourceType::Exposure => "exposure",
        }
    }
}

/// Configs whose values are mappings: written without `+` they are still
/// configs (not folders) unless their mapping holds `+` keys.
const MAPPING_CONFIGS: &[&str] = &[
    "meta",
    "docs",
    "persist_docs",
    "grants",
    "contract",
    "quoting",
    "column_types",
    "freshness",
    "snapshot_meta_column_names",
    "labels",
    "partition_by",
];

/// The configs that apply to a node from one config tree (`models:` …).
///
/// `fqn` is `[package, folders…, name]`. Levels are walked from the tree's
/// root down the fqn; the most specific level wins (later levels overwrite
/// earlier ones, with [`merge_config`]'s rules). At each level, `+key` is a
/// config; a key without `+` is a config when its value is not a mapping or
/// it names a mapping-valued config; other keys are folders.
pub fn folder_config(tree: &Value, package: &str, fqn: &[String]) -> Map<String, Value> {
    let mut result = Map::new();
    let Value::Object(root) = tree else {
        return result;
    };
    merge_config(&mut result, &level_configs(root));
    // dbt walks the fqn, whose first part is the package.
    let parts = fqn.iter().map(String::as_str);
    let path: Vec<&str> = if fqn.first().map(String::as_str) == Some(package) {
        parts.collect()
    } else {
        std::iter::once(package).chain(parts).collect()
    };
    let mut level = root;
    for part in path {
        match level.get(part) {
            Some(Value::Object(next)) => {
                merge_config(&mut result, &level_configs(next));
                level = next;
            }
            _ => break,
        }
    }
    result
}

/// Whether the tree has a level for the node itself (the last part of
/// `fqn`), so that its config can differ from its folder's. When it does not,
/// every node of a folder gets the same [`folder_config`].
pub fn configures_leaf(tree: &Value, package: &str, fqn: &[String]) -> bool {
    let Value::Object(root) = tree else {
        return false;
    };
    let prefix = (fqn.first().map(String::as_str) != Some(package)).then_some(package);
    let mut level = root;
    for part in prefix.into_iter().chain(fqn.iter().map(String::as_str)) {
        match level.get(part) {
            Some(Value::Object(next)) => level = next,
            _ => return false,
        }
    }
    true
}

/// The configs set at one level of a tree, `+` stripped.
fn level_configs(level: &Map<String, Value>) -> Map<String, Value> {
    let mut configs = Map::new();
    for (key, value) in level {
        if let Some(stripped) = key.strip_prefix('+') {
            configs.insert(stripped.trim().to_string(), value.clone());
        } else if is_config_without_plus(key, value) {
            configs.insert(key.clone(), value.clone());
        }
    }
    configs
}

fn is_config_without_plus(key: &str, value: &Value) -> bool {
    match value {
        Value::Object(inner) => {
            MAPPING_CONFIGS.contains(&key) && !inner.keys().any(|k| k.starts_with('+'))
        }
        _ => true,
    }
}

/// How one config key combines with an earlier value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MergeBehavior {
    /// Lists concatenated (duplicates dropped for tags).
    Append,
    /// Mappings merged key by key, the overlay winning.
    Update,
    /// Mappings merged; a `+key` in the overlay appends to the list at `key`.
    DictKeyAppend,
    /// The overlay replaces the value.
    Clobber,
}

fn merge_behavior(key: &str) -> MergeBehavior {
    match key {
        "tags" | "pre-hook" | "post-hook" | "packages" => MergeBehavior::Append,
        "meta" | "docs" | "persist_docs" | "contract" | "quoting" | "column_types" => {
            MergeBehavior::Update
        }
        "grants" => MergeBehavior::DictKeyAppend,
        _ => MergeBehavior::Clobber,
    }
}

/// Merges `overlay` into `base` with dbt's rules: `tags`, `pre-hook`,
/// `post-hook` and `packages` are appended; `meta`, `docs`, `persist_docs`,
/// `contract`, `quoting`, `column_types` are merged as mappings; `grants`
/// merges mappings where `+privilege` appends grantees; anything else is
/// replaced. Hooks are normalised to `pre-hook`/`post-hook` lists.
pub fn merge_config(base: &mut Map<String, Value>, overlay: &Map<String, Value>) {
    normalise_hook_keys(base);
    for (key, value) in overlay {
        let key = canonical_key(key);
        let value = if is_hook_key(key) {
            hook_list(value)
        } else {
            value.clone()
        };
        let merged = match (merge_behavior(key), base.remove(key)) {
            (_, None) if key == "tags" => Value::Array(dedup(as_list(&value))),
            (_, None) => value,
            (MergeBehavior::Append, Some(old)) => append(key, &old, &value),
            (MergeBehavior::Update, Some(old)) => update(old, value),
            (MergeBehavior::DictKeyAppend, Some(old)) => dict_key_append(old, value),
            (MergeBehavior::Clobber, Some(_)) => value,
        };
        base.insert(key.to_string(), merged);
    }
}

fn canonical_key(key: &str) -> &str {
    match key {
        "pre_hook" => "pre-hook",
        "post_hook" => "post-hook",
        other => other,
    }
}

fn is_hook_key(key: &str) -> bool {
    key == "pre-hook" || key == "post-hook"
}

fn normalise_hook_keys(map: &mut Map<String, Value>) {
    for (from, to) in [("pre_hook", "pre-hook"), ("post_hook", "post-hook")] {
        if let Some(value) = map.remove(from) {
            let mut hooks = map.remove(to).map(|v| as_list(&v)).unwrap_or_default();
            hooks.extend(as_list(&hook_list(&value)));
            map.insert(to.to_string(), Value::Array(hooks));
        }
    }
}

/// A hook config as a list: one SQL string or `{sql, transaction}` becomes a
/// one-element list; `null` becomes empty.
fn hook_list(value: &Value) -> Value {
    Value::Array(as_list(value))
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn dedup(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn append(key: &str, old: &Value, new: &Value) -> Value {
    let mut items = as_list(old);
    items.extend(as_list(new));
    if key == "tags" {
        items = dedup(items);
    }
    Value::Array(items)
}

fn update(old: Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(mut old), Value::Object(new)) => {
            old.extend(new);
            Value::Object(old)
        }
        (_, new) => new,
    }
}

fn dict_key_append(old: Value, new: Value) -> Value {
    let (Value::Object(mut old), Value::Object(new)) = (old, new.clone()) else {
        return new;
    };
    for (key, value) in new {
        match key.strip_prefix('+') {
            Some(stripped) => {
                let merged = match old.remove(stripped) {
                    Some(existing) => append(stripped, &existing, &value),
                    None => Value::Array(as_list(&value)),
                };
                old.insert(stripped.to_string(), merged);
            }
            None => {
                old.insert(key, value);
            }
        }
    }
    Value::Object(old)
}

#[cfg(test)]
mod tests;

//! Property YAML applied to nodes: descriptions, columns, config, meta,
//! tags and docs, as dbt's patch step does.

use std::collections::HashMap;

use hangar_artifacts::manifest::{ColumnConfig, ColumnInfo};
use hangar_graph::ResourceType;
use hangar_project::config::merge_config;
use hangar_project::properties::{ColumnDef, NodePatch, PropertyFile};
use serde_json::{Value, json};

use super::drafts::string_list;
use crate::node::Node;

/// A patch and the property file it came from.
pub struct PatchRef<'a> {
    pub patch: &'a NodePatch,
    pub file: &'a PropertyFile,
}

/// Patches by (package, resource type, name). A second patch for the same
/// node is reported by the caller.
pub type PatchIndex<'a> = HashMap<(String, ResourceType, String), PatchRef<'a>>;

pub fn index_patches<'a>(
    files: impl Iterator<Item = &'a PropertyFile>,
    duplicates: &mut Vec<(PatchRef<'a>, PatchRef<'a>)>,
) -> PatchIndex<'a> {
    let mut index: PatchIndex<'a> = HashMap::new();
    for file in files {
        let groups: [(ResourceType, &Vec<NodePatch>); 4] = [
            (ResourceType::Model, &file.models),
            (ResourceType::Seed, &file.seeds),
            (ResourceType::Snapshot, &file.snapshots),
            (ResourceType::Analysis, &file.analyses),
        ];
        for (rt, patches) in groups {
            for patch in patches {
                let key = (file.package.clone(), rt, patch.name.clone());
                let new = PatchRef { patch, file };
                if let Some(old) = index.remove(&key) {
                    duplicates.push((old, PatchRef { patch, file }));
                    index.insert(key, new);
                } else {
                    index.insert(key, new);
                }
            }
        }
    }
    index
}

/// Apply a patch: config first (so `config()` in SQL still wins later).
pub fn apply_patch(node: &mut Node, patch: &PatchRef<'_>) {
    let p = patch.patch;
    let mut patch_config = p.config.clone();
    if !p.tags.is_empty() {
        let mut tags = string_list(patch_config.get("tags"));
        tags.extend(p.tags.iter().cloned());
        patch_config.insert("tags".into(), json!(tags));
    }
    if !p.meta.is_empty() {
        let mut meta = patch_config
            .get("meta")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in &p.meta {
            meta.entry(k.clone()).or_insert_with(|| v.clone());
        }
        patch_config.insert("meta".into(), Value::Object(meta));
    }
    if !p.docs.is_empty() {
        patch_config.insert("docs".into(), Value::Object(p.docs.clone()));
    }
    // Configs are shared between nodes: copy one only to change it.
    if !patch_config.is_empty() {
        merge_config(std::sync::Arc::make_mut(&mut node.config), &patch_config);
        merge_config(
            std::sync::Arc::make_mut(&mut node.unrendered_config),
            &patch_config,
        );
    }
    node.description = p.description.clone().unwrap_or_default();
    node.columns = columns_json(&p.columns);
    node.patch_path = Some(format!(
        "{}://{}",
        patch.file.package,
        patch.file.path.to_string_lossy().replace('\\', "/")
    ));
    node.constraints = p.constraints.clone();
    node.latest_version = p.latest_version.as_ref().map(json_scalar_string);
}

fn json_scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A column constraint with the fields dbt's `ColumnLevelConstraint` fills
/// in when they are not given.
fn column_constraint(constraint: &Value) -> Value {
    let Value::Object(given) = constraint else {
        return constraint.clone();
    };
    let mut full = serde_json::Map::new();
    let defaults = [
        ("type", Value::Null),
        ("name", Value::Null),
        ("expression", Value::Null),
        ("warn_unenforced", Value::Bool(true)),
        ("warn_unsupported", Value::Bool(true)),
        ("to", Value::Null),
        ("to_columns", Value::Array(Vec::new())),
    ];
    for (key, default) in defaults {
        full.insert(key.to_string(), given.get(key).cloned().unwrap_or(default));
    }
    for (key, value) in given {
        full.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(full)
}

/// Columns as dbt writes them in the manifest, keyed by name in file order.
pub fn columns_json(columns: &[ColumnDef]) -> crate::node::Columns {
    columns
        .iter()
        .map(|c| {
            let info = ColumnInfo {
                name: c.name.clone(),
                description: c.description.clone().unwrap_or_default(),
                meta: c.meta.clone(),
                data_type: c.data_type.clone(),
                constraints: c.constraints.iter().map(column_constraint).collect(),
                quote: c.quote,
                config: ColumnConfig {
                    meta: c.meta.clone(),
                    tags: c.tags.clone(),
                },
                tags: c.tags.clone(),
                granularity: None,
                doc_blocks: Vec::new(),
            };
            (c.name.clone(), info)
        })
        .collect()
}

/// Fill in the derived fields from the final config.
pub fn finish_config(node: &mut Node) {
    node.tags = string_list(node.config.get("tags"));
    node.meta = node
        .config
        .get("meta")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(docs) = node.config.get("docs").filter(|d| d.is_object()) {
        node.docs = serde_json::from_value(docs.clone()).unwrap_or_default();
    }
}

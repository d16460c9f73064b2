//! Source tables from property YAML.

use hangar_graph::ResourceType;
use hangar_project::Package;
use hangar_project::config::merge_config;
use hangar_project::properties::{PropertyFile, SourceDef, SourceTableDef};
use rayon::prelude::*;
use serde_json::{Map, Value};

use super::drafts::{folder_configs, fqn_for, path_string, string_list, yaml_path_in_folder};
use super::patches::columns_json;
use crate::node::SourceNode;

pub fn source_nodes(
    file: &PropertyFile,
    package: &Package,
    root: &Package,
    target_database: Option<&str>,
) -> Vec<SourceNode> {
    let original_path = path_string(&file.path);
    let original = original_path.as_str();
    let in_folder = yaml_path_in_folder(original, &package.config);
    // A large project declares thousands of tables, often in one file.
    let tables: Vec<(&SourceDef, &SourceTableDef)> = file
        .sources
        .iter()
        .flat_map(|src| src.tables.iter().map(move |table| (src, table)))
        .collect();
    tables
        .par_iter()
        .map(|(src, table)| {
            source_node(
                package,
                root,
                src,
                table,
                in_folder,
                original,
                target_database,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn source_node(
    package: &Package,
    root: &Package,
    src: &SourceDef,
    table: &SourceTableDef,
    in_folder: &str,
    original: &str,
    target_database: Option<&str>,
) -> SourceNode {
    let mut fqn = fqn_for(&package.name, in_folder, &src.name);
    fqn.push(table.name.clone());
    let mut config = folder_configs(ResourceType::Source, package, root, &fqn).config;
    merge_config(&mut config, &src.config);
    merge_config(&mut config, &table.config);
    let schema = src.schema.clone();
    let database = src
        .database
        .clone()
        .or_else(|| target_database.map(str::to_string));
    let identifier = table
        .identifier
        .clone()
        .unwrap_or_else(|| table.name.clone());
    let mut tags = string_list(config.get("tags"));
    tags.extend(src.tags.iter().cloned());
    tags.extend(table.tags.iter().cloned());
    tags.dedup();
    let mut quoting = src.quoting.clone();
    quoting.extend(table.quoting.clone());
    // dbt 1.10+ takes both from `config:` too, and writes a freshness's
    // `filter` even when none is given.
    if let Some(Value::Object(freshness)) = config.get_mut("freshness") {
        freshness.entry("filter").or_insert(Value::Null);
    }
    let loaded_at_field = table
        .loaded_at_field
        .clone()
        .or_else(|| src.loaded_at_field.clone())
        .or_else(|| {
            config
                .get("loaded_at_field")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let freshness = match merge_freshness(src.freshness.as_ref(), table.freshness.as_ref()) {
        Value::Null => config.get("freshness").cloned().unwrap_or(Value::Null),
        given => given,
    };
    SourceNode {
        unique_id: format!("source.{}.{}.{}", package.name, src.name, table.name),
        source_name: src.name.clone(),
        name: table.name.clone(),
        package_name: package.name.clone(),
        original_file_path: original.to_string(),
        path: original.to_string(),
        fqn,
        database,
        schema,
        identifier,
        relation_name: String::new(),
        description: table.description.clone().unwrap_or_default(),
        source_description: src.description.clone().unwrap_or_default(),
        loader: src.loader.clone().unwrap_or_default(),
        columns: columns_json(&table.columns),
        meta: table.meta.clone(),
        source_meta: src.meta.clone(),
        tags,
        config: crate::node::share_config(config),
        quoting,
        loaded_at_field,
        freshness,
        external: table.external.clone().unwrap_or(Value::Null),
    }
}

/// A table's freshness overrides its source's key by key.
fn merge_freshness(source: Option<&Value>, table: Option<&Value>) -> Value {
    match (source, table) {
        (s, Some(Value::Object(t))) => {
            let mut merged: Map<String, Value> =
                s.and_then(Value::as_object).cloned().unwrap_or_default();
            merged.extend(t.clone());
            Value::Object(merged)
        }
        (s, None) => s.cloned().unwrap_or(Value::Null),
        (_, Some(t)) => t.clone(),
    }
}

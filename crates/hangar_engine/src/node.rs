//! The engine's view of a project node after parsing.

use std::sync::Arc;

use hangar_graph::ResourceType;
use serde_json::{Map, Value};

/// Column properties by name, in the order the YAML declares them (dbt keeps
/// that order in the manifest and in contracted tables).
pub type Columns = indexmap::IndexMap<String, Value>;

/// A `ref()` call found while rendering a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub package: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// 1-based line of the call in the node's file (0 when unknown).
    pub line: usize,
}

/// Test-specific data of a generic or singular test.
#[derive(Debug, Clone)]
pub struct TestNodeData {
    pub test_name: Option<String>,
    pub namespace: Option<String>,
    pub kwargs: Map<String, Value>,
    pub column_name: Option<String>,
    pub attached_node: Option<String>,
    pub file_key_name: Option<String>,
    pub is_generic: bool,
}

/// A model, seed, snapshot, test, analysis or operation.
#[derive(Debug, Clone)]
pub struct Node {
    pub unique_id: String,
    pub resource_type: ResourceType,
    pub name: String,
    pub package_name: String,
    /// Path relative to the package root, e.g. `models/staging/stg_members.sql`.
    pub original_file_path: String,
    /// Path relative to the resource's path folder, e.g. `staging/stg_members.sql`.
    pub path: String,
    pub fqn: Vec<String>,
    pub raw_code: Arc<str>,
    pub checksum: String,
    /// Complete config: defaults, project tree, properties, then `config()`.
    /// Shared with the graph node and render inputs (one copy per node);
    /// change it with `Arc::make_mut`.
    pub config: Arc<Map<String, Value>>,
    /// Config as written by the user (project tree, properties and `config()`).
    pub unrendered_config: Map<String, Value>,
    pub description: String,
    pub columns: Columns,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub docs: Value,
    pub patch_path: Option<String>,
    pub refs: Vec<NodeRef>,
    pub sources: Vec<(String, String)>,
    pub depends_on_nodes: Vec<String>,
    pub depends_on_macros: Vec<String>,
    pub test: Option<TestNodeData>,
    /// A unit test's inputs, expectation and overrides.
    pub unit: Option<Box<crate::unit_tests::UnitTestData>>,
    pub database: Option<String>,
    pub schema: String,
    pub alias: String,
    pub relation_name: Option<String>,
    pub compiled_code: Option<String>,
    pub version: Option<String>,
    pub latest_version: Option<String>,
    pub constraints: Vec<Value>,
    /// Seeds: the package root, which dbt reports as `root_path`.
    pub root_path: Option<String>,
    /// Full path on disk of the file this node came from.
    pub abs_path: std::path::PathBuf,
}

impl Node {
    /// A node with its identity set and every other field empty; callers fill
    /// in what they know with struct update syntax.
    pub fn new(
        resource_type: ResourceType,
        package: &str,
        name: &str,
        config: Map<String, Value>,
    ) -> Node {
        Node {
            unique_id: format!("{resource_type}.{package}.{name}"),
            resource_type,
            name: name.to_string(),
            package_name: package.to_string(),
            original_file_path: String::new(),
            path: String::new(),
            fqn: vec![package.to_string(), name.to_string()],
            raw_code: Arc::from(""),
            checksum: String::new(),
            config: Arc::new(config),
            unrendered_config: Map::new(),
            description: String::new(),
            columns: Columns::new(),
            meta: Map::new(),
            tags: Vec::new(),
            docs: serde_json::json!({"show": true, "node_color": null}),
            patch_path: None,
            refs: Vec::new(),
            sources: Vec::new(),
            depends_on_nodes: Vec::new(),
            depends_on_macros: Vec::new(),
            test: None,
            unit: None,
            database: None,
            schema: String::new(),
            alias: name.to_string(),
            relation_name: None,
            compiled_code: None,
            version: None,
            latest_version: None,
            constraints: Vec::new(),
            root_path: None,
            abs_path: std::path::PathBuf::new(),
        }
    }

    pub fn materialized(&self) -> &str {
        self.config
            .get("materialized")
            .and_then(Value::as_str)
            .unwrap_or("view")
    }

    pub fn is_ephemeral(&self) -> bool {
        self.resource_type == ResourceType::Model && self.materialized() == "ephemeral"
    }

    pub fn enabled(&self) -> bool {
        self.config
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    pub fn config_str(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(Value::as_str)
    }
}

/// A source table declared in property YAML.
#[derive(Debug, Clone)]
pub struct SourceNode {
    pub unique_id: String,
    pub source_name: String,
    pub name: String,
    pub package_name: String,
    pub original_file_path: String,
    pub path: String,
    pub fqn: Vec<String>,
    pub database: Option<String>,
    pub schema: String,
    pub identifier: String,
    pub relation_name: String,
    pub description: String,
    pub source_description: String,
    pub loader: String,
    pub columns: Columns,
    pub meta: Map<String, Value>,
    pub source_meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub config: Map<String, Value>,
    pub quoting: Map<String, Value>,
    pub loaded_at_field: Option<String>,
    pub freshness: Value,
    pub external: Value,
}

//! The engine's view of a project node after parsing.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use hangar_graph::ResourceType;
use serde_json::{Map, Value};

/// A config map as nodes hold it: shared, copied on write.
pub type SharedConfig = Arc<Map<String, Value>>;

/// Every distinct config map seen by this process, once. Large projects
/// repeat a handful of configs across tens of thousands of nodes (10,000
/// synthetic models have 8 distinct configs), so sharing them cut that
/// project's parse peak by a sixth, and the page faults that come with it.
static CONFIG_POOL: LazyLock<Mutex<ConfigSet>> = LazyLock::new(Default::default);

/// Hashing every config map with std's SipHash showed in profiles; the pool
/// needs no protection against crafted keys.
type ConfigSet = HashSet<SharedConfig, foldhash::fast::FixedState>;

/// The pooled copy of `config`, added to the pool if it is new.
pub fn share_config(config: Map<String, Value>) -> SharedConfig {
    let mut pool = CONFIG_POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(shared) = pool.get(&config) {
        return shared.clone();
    }
    let shared = Arc::new(config);
    pool.insert(shared.clone());
    shared
}

/// Replaces `config` by its pooled copy (after it was changed in place).
pub fn reshare_config(config: &mut SharedConfig) {
    let mut pool = CONFIG_POOL.lock().unwrap_or_else(|e| e.into_inner());
    match pool.get(config) {
        Some(shared) => *config = shared.clone(),
        None => {
            pool.insert(config.clone());
        }
    }
}

/// `config` with `alias` set, when there is one to set: a private copy.
fn with_alias(config: &SharedConfig, alias: Option<&str>) -> SharedConfig {
    match alias {
        None => config.clone(),
        Some(alias) => {
            let mut own = (**config).clone();
            own.insert("alias".into(), Value::String(alias.to_string()));
            Arc::new(own)
        }
    }
}

/// Column properties by name, in the order the YAML declares them (dbt keeps
/// that order in the manifest and in contracted tables).
pub type Columns = indexmap::IndexMap<String, hangar_artifacts::manifest::ColumnInfo>;

/// A `ref()` call found while rendering a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub package: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// 1-based line of the call in the node's file (0 when unknown).
    pub line: usize,
}

/// A generic test's arguments, sorted by name as the manifest lists them.
/// A boxed slice rather than a map: a `BTreeMap` leaf takes 630 bytes even
/// for the one or two arguments most tests have, 19 MB over 30,000 tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestKwargs(Box<[(String, Value)]>);

impl TestKwargs {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn as_slice(&self) -> &[(String, Value)] {
        &self.0
    }
}

impl From<Map<String, Value>> for TestKwargs {
    fn from(map: Map<String, Value>) -> Self {
        let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        TestKwargs(pairs.into_boxed_slice())
    }
}

/// Test-specific data of a generic or singular test.
#[derive(Debug, Clone)]
pub struct TestNodeData {
    pub test_name: Option<String>,
    pub namespace: Option<String>,
    pub kwargs: TestKwargs,
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
    /// Shared with every node whose config is equal (see [`share_config`]),
    /// its graph node and render inputs; change it with `Arc::make_mut`, then
    /// pool it again with [`Node::share_configs`].
    pub config: SharedConfig,
    /// Config as written by the user (project tree, properties and `config()`),
    /// shared like `config`.
    pub unrendered_config: SharedConfig,
    /// The `alias` that belongs in both configs but is kept beside them: a
    /// generic test with a hashed name gets it as its own alias, and holding
    /// it in the maps would give each such test two private maps (about
    /// 2.5 KB; 10,000 of the 30,000 synthetic tests). Readers of a whole
    /// config use [`Node::full_config`] and [`Node::full_unrendered_config`];
    /// the manifest carries it beside the maps too
    /// (`ManifestNode::config_alias`) and writes it into them.
    pub config_alias: Option<String>,
    pub description: String,
    /// Unique ids of the doc blocks `description` names (`{{ doc('x') }}`).
    pub doc_blocks: Vec<String>,
    /// A model's primary key as dbt infers it (see `parse::primary_key`).
    pub primary_key: Vec<String>,
    pub columns: Columns,
    pub meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub docs: hangar_artifacts::manifest::Docs,
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
        config: impl Into<SharedConfig>,
    ) -> Node {
        Node {
            unique_id: [resource_type.as_str(), ".", package, ".", name].concat(),
            resource_type,
            name: name.to_string(),
            package_name: package.to_string(),
            original_file_path: String::new(),
            path: String::new(),
            fqn: vec![package.to_string(), name.to_string()],
            raw_code: Arc::from(""),
            checksum: String::new(),
            config: config.into(),
            unrendered_config: SharedConfig::default(),
            config_alias: None,
            description: String::new(),
            doc_blocks: Vec::new(),
            primary_key: Vec::new(),
            columns: Columns::new(),
            meta: Map::new(),
            tags: Vec::new(),
            docs: Default::default(),
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

    /// The complete config, `config_alias` included.
    pub fn full_config(&self) -> SharedConfig {
        with_alias(&self.config, self.config_alias.as_deref())
    }

    /// The config as written, `config_alias` included.
    pub fn full_unrendered_config(&self) -> SharedConfig {
        with_alias(&self.unrendered_config, self.config_alias.as_deref())
    }

    /// The config value of `key`, `config_alias` included.
    pub fn config_value(&self, key: &str) -> Option<Value> {
        match &self.config_alias {
            Some(alias) if key == "alias" => Some(Value::String(alias.clone())),
            _ => self.config.get(key).cloned(),
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

    /// Pools both configs once they are final (see [`share_config`]).
    pub fn share_configs(&mut self) {
        reshare_config(&mut self.config);
        reshare_config(&mut self.unrendered_config);
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
    /// Pooled: thousands of sources share a handful of configs.
    pub config: SharedConfig,
    pub quoting: Map<String, Value>,
    pub loaded_at_field: Option<String>,
    pub freshness: Value,
    pub external: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(materialized: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("materialized".into(), Value::from(materialized));
        map.insert("enabled".into(), Value::from(true));
        map
    }

    #[test]
    fn test_kwargs_are_sorted_and_found_by_name() {
        let mut map = Map::new();
        map.insert("model".into(), Value::from("m"));
        map.insert("values".into(), Value::from(vec![1, 2]));
        map.insert("column_name".into(), Value::from("id"));
        let kwargs = TestKwargs::from(map.clone());
        let names: Vec<&str> = kwargs.as_slice().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["column_name", "model", "values"]);
        assert_eq!(kwargs.get("model"), Some(&Value::from("m")));
        assert_eq!(kwargs.get("where"), None);
        assert_eq!(
            kwargs
                .as_slice()
                .iter()
                .cloned()
                .collect::<Map<String, Value>>(),
            map
        );
    }

    #[test]
    fn an_alias_kept_beside_the_config_joins_it_when_read_whole() {
        let mut node = Node::new(ResourceType::Test, "p", "t", share_config(config("test")));
        assert!(Arc::ptr_eq(&node.full_config(), &node.config));
        node.config_alias = Some("t_short".into());
        assert!(node.config.get("alias").is_none());
        assert_eq!(node.full_config()["alias"], Value::from("t_short"));
        assert_eq!(node.full_config()["materialized"], Value::from("test"));
        assert_eq!(
            node.full_unrendered_config()["alias"],
            Value::from("t_short")
        );
        assert_eq!(node.config_value("alias"), Some(Value::from("t_short")));
        assert_eq!(node.config_value("enabled"), Some(Value::from(true)));
    }

    #[test]
    fn equal_configs_share_one_map() {
        let a = share_config(config("pooled_view"));
        let b = share_config(config("pooled_view"));
        assert!(Arc::ptr_eq(&a, &b));
        let c = share_config(config("pooled_table"));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn a_changed_config_is_copied_then_pooled_again() {
        let shared = share_config(config("pooled_incremental"));
        let mut node = Node::new(ResourceType::Model, "p", "m", shared.clone());
        Arc::make_mut(&mut node.config).insert("materialized".into(), "pooled_other".into());
        assert_eq!(shared["materialized"], "pooled_incremental");
        node.share_configs();
        let again = share_config(config("pooled_other"));
        assert!(Arc::ptr_eq(&node.config, &again));
    }
}

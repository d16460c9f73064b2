//! The plain node type the graph selects over, and dbt's resource types.

use std::fmt;
use std::str::FromStr;

/// dbt's resource types, spelled as dbt spells them (`Display`/`FromStr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Model,
    Seed,
    Snapshot,
    Test,
    Analysis,
    Source,
    Exposure,
    Operation,
    UnitTest,
    Metric,
    SemanticModel,
    SavedQuery,
}

impl ResourceType {
    pub const ALL: [ResourceType; 12] = [
        ResourceType::Model,
        ResourceType::Seed,
        ResourceType::Snapshot,
        ResourceType::Test,
        ResourceType::Analysis,
        ResourceType::Source,
        ResourceType::Exposure,
        ResourceType::Operation,
        ResourceType::UnitTest,
        ResourceType::Metric,
        ResourceType::SemanticModel,
        ResourceType::SavedQuery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Model => "model",
            ResourceType::Seed => "seed",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Test => "test",
            ResourceType::Analysis => "analysis",
            ResourceType::Source => "source",
            ResourceType::Exposure => "exposure",
            ResourceType::Operation => "operation",
            ResourceType::UnitTest => "unit_test",
            ResourceType::Metric => "metric",
            ResourceType::SemanticModel => "semantic_model",
            ResourceType::SavedQuery => "saved_query",
        }
    }

    /// Nodes that live in dbt's `manifest.nodes` (plus unit tests): the ones
    /// dbt's `fqn:` method and bare names search.
    pub(crate) fn is_fqn_selectable(self) -> bool {
        matches!(
            self,
            ResourceType::Model
                | ResourceType::Seed
                | ResourceType::Snapshot
                | ResourceType::Test
                | ResourceType::Analysis
                | ResourceType::Operation
                | ResourceType::UnitTest
        )
    }

    /// Nodes kept in dbt's `manifest.nodes`.
    pub(crate) fn is_manifest_node(self) -> bool {
        self.is_fqn_selectable() && self != ResourceType::UnitTest
    }

    /// Nodes whose `config` dbt's `config.<key>:` method looks at
    /// (`manifest.nodes` and sources).
    pub(crate) fn is_configurable(self) -> bool {
        self.is_manifest_node() || self == ResourceType::Source
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unknown name, for a "not a resource type" message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a resource type")]
pub struct UnknownResourceType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownResourceType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownResourceType(s.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestKind {
    Generic,
    Singular,
    Unit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestInfo {
    pub kind: TestKind,
    /// Generic tests: "unique", "not_null", "dbt_utils.expression_is_true"…
    pub test_name: Option<String>,
    pub attached_node: Option<String>,
    pub column_name: Option<String>,
}

/// One node of the project as the graph sees it: no SQL, no Jinja.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    pub unique_id: String,
    pub name: String,
    pub resource_type: ResourceType,
    pub package_name: String,
    pub fqn: Vec<String>,
    /// Relative to the package root, `/`-separated.
    pub original_file_path: String,
    pub path: String,
    pub tags: Vec<String>,
    /// Resolved config, for `config.<key>:` selection.
    pub config: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
    /// The config's `alias` when it is kept out of the shared `config` map
    /// (a generic test's hashed name); see [`GraphNode::config_value`].
    pub config_alias: Option<String>,
    pub source_name: Option<String>,
    pub test: Option<TestInfo>,
    pub version: Option<String>,
    pub checksum: String,
}

impl GraphNode {
    /// The config value of `key`, the alias kept beside the map included.
    pub fn config_value(&self, key: &str) -> Option<std::borrow::Cow<'_, serde_json::Value>> {
        use std::borrow::Cow;
        match &self.config_alias {
            Some(alias) if key == "alias" => Some(Cow::Owned(alias.as_str().into())),
            _ => self.config.get(key).map(Cow::Borrowed),
        }
    }

    /// dbt leaves disabled nodes out of the graph; they are never selected.
    pub fn is_enabled(&self) -> bool {
        !matches!(
            self.config.get("enabled"),
            Some(serde_json::Value::Bool(false))
        )
    }

    /// The kind of test this node is, if it is a test of any sort.
    pub fn test_kind(&self) -> Option<TestKind> {
        match (&self.test, self.resource_type) {
            (Some(info), _) => Some(info.kind),
            (None, ResourceType::UnitTest) => Some(TestKind::Unit),
            (None, ResourceType::Test) => Some(TestKind::Singular),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_round_trip_through_dbt_names() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
        }
        assert_eq!("unit_test".parse(), Ok(ResourceType::UnitTest));
        assert!("models".parse::<ResourceType>().is_err());
    }
}

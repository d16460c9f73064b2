//! `catalog.json`, schema v1: what `docs generate` found in the warehouse.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ArtifactMetadata;

pub const CATALOG_SCHEMA_URL: &str = "https://schemas.getdbt.com/dbt/catalog/v1.json";

/// The whole `catalog.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub metadata: ArtifactMetadata,
    #[serde(default)]
    pub nodes: BTreeMap<String, CatalogTable>,
    #[serde(default)]
    pub sources: BTreeMap<String, CatalogTable>,
    /// Errors from catalog queries; `null` when there were none.
    #[serde(default)]
    pub errors: Option<Vec<String>>,
}

/// One relation as the warehouse describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogTable {
    pub metadata: TableMetadata,
    /// In the relation's column order (the `index` order).
    pub columns: IndexMap<String, CatalogColumn>,
    #[serde(default = "no_stats")]
    pub stats: IndexMap<String, StatsItem>,
    #[serde(default)]
    pub unique_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMetadata {
    /// `BASE TABLE`, `VIEW`, ... as the warehouse names it.
    #[serde(rename = "type")]
    pub type_: String,
    pub schema: String,
    pub name: String,
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogColumn {
    #[serde(rename = "type")]
    pub type_: String,
    /// 1-based position in the relation.
    pub index: i64,
    pub name: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// One statistic of a table (row count, bytes, ...), shown by dbt-docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsItem {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub value: Value,
    pub include: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// The stats dbt writes for a relation the adapter has no statistics for:
/// a single hidden `has_stats: false` entry.
pub fn no_stats() -> IndexMap<String, StatsItem> {
    let item = StatsItem {
        id: "has_stats".to_string(),
        label: "Has Stats?".to_string(),
        value: Value::Bool(false),
        include: false,
        description: Some("Indicates whether there are statistics for this table".to_string()),
    };
    IndexMap::from([("has_stats".to_string(), item)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_stats_matches_dbt() {
        let json = serde_json::to_value(no_stats()).unwrap();
        assert_eq!(json["has_stats"]["label"], "Has Stats?");
        assert_eq!(json["has_stats"]["value"], false);
    }
}

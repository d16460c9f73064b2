//! The complete `config` object dbt writes for each resource type when the
//! project sets nothing, copied from a dbt-core 1.11.16 manifest. The engine
//! starts from these and overlays the project's and the node's own configs,
//! so every key dbt writes is present in hangar's manifest.

use serde_json::{Value, json};

use crate::JsonMap;
use crate::manifest::ResourceType;

/// Default config for a node of the given resource type (sources included).
pub fn for_resource_type(resource_type: ResourceType) -> JsonMap {
    match resource_type {
        ResourceType::Model => model_config(),
        ResourceType::Seed => seed_config(),
        ResourceType::Snapshot => snapshot_config(),
        ResourceType::Test => test_config(),
        ResourceType::Analysis | ResourceType::Operation => node_config("view"),
        ResourceType::Source => source_config(),
        ResourceType::Macro => macro_config(),
        ResourceType::Doc => JsonMap::new(),
    }
}

/// dbt's `NodeConfig`: shared by models, seeds, snapshots, analyses, hooks.
fn node_config(materialized: &str) -> JsonMap {
    object(json!({
        "enabled": true,
        "alias": null,
        "schema": null,
        "database": null,
        "tags": [],
        "meta": {},
        "group": null,
        "static_analysis": null,
        "materialized": materialized,
        "incremental_strategy": null,
        "batch_size": null,
        "lookback": 1,
        "begin": null,
        "persist_docs": {},
        "post-hook": [],
        "pre-hook": [],
        "quoting": {},
        "column_types": {},
        "full_refresh": null,
        "unique_key": null,
        "on_schema_change": "ignore",
        "on_configuration_change": "apply",
        "grants": {},
        "packages": [],
        "docs": {"show": true, "node_color": null},
        "contract": {"enforced": false, "alias_types": true},
        "event_time": null,
        "concurrent_batches": null,
    }))
}

fn model_config() -> JsonMap {
    let mut config = node_config("view");
    config.insert("access".into(), json!("protected"));
    config.insert("freshness".into(), Value::Null);
    config
}

fn seed_config() -> JsonMap {
    let mut config = node_config("seed");
    config.insert("delimiter".into(), json!(","));
    config.insert("quote_columns".into(), Value::Null);
    config
}

fn snapshot_config() -> JsonMap {
    let mut config = node_config("snapshot");
    config.extend(object(json!({
        "strategy": null,
        "target_schema": null,
        "target_database": null,
        "updated_at": null,
        "check_cols": null,
        "snapshot_meta_column_names": {
            "dbt_valid_to": null,
            "dbt_valid_from": null,
            "dbt_scd_id": null,
            "dbt_updated_at": null,
            "dbt_is_deleted": null,
        },
        "dbt_valid_to_current": null,
    })));
    config
}

/// dbt's `TestConfig`; the `dbt_test__audit` schema is dbt's default for
/// stored failures and is written even when failures are not stored.
fn test_config() -> JsonMap {
    object(json!({
        "enabled": true,
        "alias": null,
        "schema": "dbt_test__audit",
        "database": null,
        "tags": [],
        "meta": {},
        "group": null,
        "static_analysis": null,
        "materialized": "test",
        "severity": "ERROR",
        "store_failures": null,
        "store_failures_as": null,
        "where": null,
        "limit": null,
        "fail_calc": "count(*)",
        "warn_if": "!= 0",
        "error_if": "!= 0",
    }))
}

fn source_config() -> JsonMap {
    object(json!({
        "enabled": true,
        "event_time": null,
        "freshness": {
            "warn_after": {"count": null, "period": null},
            "error_after": {"count": null, "period": null},
            "filter": null,
        },
        "loaded_at_field": null,
        "loaded_at_query": null,
        "meta": {},
        "tags": [],
        "static_analysis": null,
    }))
}

fn macro_config() -> JsonMap {
    object(json!({"meta": {}, "docs": {"show": true, "node_color": null}}))
}

fn object(value: Value) -> JsonMap {
    match value {
        Value::Object(map) => map,
        _ => JsonMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_config_has_model_only_keys() {
        let config = for_resource_type(ResourceType::Model);
        assert_eq!(config["access"], "protected");
        assert_eq!(config.len(), 30);
        assert!(!for_resource_type(ResourceType::Analysis).contains_key("access"));
    }

    #[test]
    fn test_config_defaults_match_dbt() {
        let config = for_resource_type(ResourceType::Test);
        assert_eq!(config["severity"], "ERROR");
        assert_eq!(config["materialized"], "test");
        assert!(!config.contains_key("persist_docs"));
    }
}

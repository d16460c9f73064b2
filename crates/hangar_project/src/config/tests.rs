use serde_json::json;

use super::*;

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not a mapping: {other}"),
    }
}

fn fqn(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn folder_config_cases() {
    let tree = json!({
        "+persist_docs": {"relation": true},
        "materialized": "view",
        "shop": {
            "+materialized": "table",
            "+tags": ["shop"],
            "meta": {"owner": "data"},
            "staging": {
                "+materialized": "view",
                "+tags": "staging",
                "schema": "stg",
                "stg_members": {"+enabled": false}
            },
            "docs": {"+schema": "docs_folder"},
            "marts": {"+ schema": "marts"}
        },
        "dbt_utils": {"+enabled": false}
    });
    let cases: Vec<(&str, &[&str], Value)> = vec![
        (
            "root and package levels",
            &["shop", "orders"],
            json!({"persist_docs": {"relation": true}, "materialized": "table", "tags": ["shop"], "meta": {"owner": "data"}}),
        ),
        (
            "folder overrides package, tags append",
            &["shop", "staging", "stg_orders"],
            json!({"persist_docs": {"relation": true}, "materialized": "view", "tags": ["shop", "staging"], "meta": {"owner": "data"}, "schema": "stg"}),
        ),
        (
            "node name level",
            &["shop", "staging", "stg_members"],
            json!({"persist_docs": {"relation": true}, "materialized": "view", "tags": ["shop", "staging"], "meta": {"owner": "data"}, "schema": "stg", "enabled": false}),
        ),
        (
            "folder named like a config with + keys is a folder",
            &["shop", "docs", "x"],
            json!({"persist_docs": {"relation": true}, "materialized": "table", "tags": ["shop"], "meta": {"owner": "data"}, "schema": "docs_folder"}),
        ),
        (
            "key after + is trimmed",
            &["shop", "marts", "x"],
            json!({"persist_docs": {"relation": true}, "materialized": "table", "tags": ["shop"], "meta": {"owner": "data"}, "schema": "marts"}),
        ),
        (
            "other package",
            &["dbt_utils", "m"],
            json!({"persist_docs": {"relation": true}, "materialized": "view", "enabled": false}),
        ),
        (
            "unknown package gets root level only",
            &["other", "m"],
            json!({"persist_docs": {"relation": true}, "materialized": "view"}),
        ),
    ];
    for (name, path, expected) in cases {
        let package = path[0];
        assert_eq!(
            Value::Object(folder_config(&tree, package, &fqn(path))),
            expected,
            "{name}"
        );
    }
}

#[test]
fn folder_config_without_package_in_fqn_and_empty_tree() {
    let tree = json!({"shop": {"+materialized": "table"}});
    assert_eq!(
        folder_config(&tree, "shop", &fqn(&["m"]))["materialized"],
        json!("table")
    );
    assert!(folder_config(&Value::Null, "shop", &fqn(&["shop", "m"])).is_empty());
}

#[test]
fn configures_leaf_only_when_the_tree_names_the_node() {
    let tree = json!({"shop": {
        "staging": {"+materialized": "view", "stg_orders": {"+materialized": "table"}},
        "marts": {"+materialized": "table"},
    }});
    let cases = [
        (&["shop", "staging", "stg_orders"][..], true),
        (&["shop", "staging", "stg_items"][..], false),
        (&["shop", "marts", "orders"][..], false),
        (&["shop", "other", "stg_orders"][..], false),
        (&["staging", "stg_orders"][..], true),
    ];
    for (parts, expected) in cases {
        assert_eq!(
            configures_leaf(&tree, "shop", &fqn(parts)),
            expected,
            "{parts:?}"
        );
        if !expected {
            // What the shortcut relies on: the folder alone decides the config.
            let folder = &parts[..parts.len() - 1];
            assert_eq!(
                folder_config(&tree, "shop", &fqn(parts)),
                folder_config(&tree, "shop", &fqn(folder)),
                "{parts:?}"
            );
        }
    }
    assert!(!configures_leaf(&Value::Null, "shop", &fqn(&["shop", "m"])));
}

#[test]
fn merge_config_cases() {
    let cases: Vec<(&str, Value, Value, Value)> = vec![
        (
            "clobber",
            json!({"materialized": "view"}),
            json!({"materialized": "table"}),
            json!({"materialized": "table"}),
        ),
        (
            "tags append and dedupe",
            json!({"tags": ["a", "b"]}),
            json!({"tags": ["b", "c"]}),
            json!({"tags": ["a", "b", "c"]}),
        ),
        (
            "tag string",
            json!({}),
            json!({"tags": "a"}),
            json!({"tags": ["a"]}),
        ),
        (
            "tags onto string",
            json!({"tags": "a"}),
            json!({"tags": "b"}),
            json!({"tags": ["a", "b"]}),
        ),
        (
            "hooks append and normalise",
            json!({"pre-hook": ["a"]}),
            json!({"pre_hook": "b", "post-hook": {"sql": "c", "transaction": false}}),
            json!({"pre-hook": ["a", "b"], "post-hook": [{"sql": "c", "transaction": false}]}),
        ),
        (
            "base underscore hook normalised",
            json!({"post_hook": "a"}),
            json!({"post-hook": ["b"]}),
            json!({"post-hook": ["a", "b"]}),
        ),
        (
            "null hook",
            json!({}),
            json!({"pre-hook": null}),
            json!({"pre-hook": []}),
        ),
        (
            "packages append",
            json!({"packages": ["a"]}),
            json!({"packages": ["b"]}),
            json!({"packages": ["a", "b"]}),
        ),
        (
            "meta is dict-merged",
            json!({"meta": {"a": 1, "b": 1}}),
            json!({"meta": {"b": 2, "c": 3}}),
            json!({"meta": {"a": 1, "b": 2, "c": 3}}),
        ),
        (
            "docs and contract merge",
            json!({"docs": {"show": true, "node_color": null}, "contract": {"enforced": false, "alias_types": true}}),
            json!({"docs": {"show": false}, "contract": {"enforced": true}}),
            json!({"docs": {"show": false, "node_color": null}, "contract": {"enforced": true, "alias_types": true}}),
        ),
        (
            "persist_docs merge",
            json!({"persist_docs": {"relation": true}}),
            json!({"persist_docs": {"columns": true}}),
            json!({"persist_docs": {"relation": true, "columns": true}}),
        ),
        (
            "grants replace per key, +key appends",
            json!({"grants": {"select": ["a"], "insert": ["x"]}}),
            json!({"grants": {"+select": ["b"], "insert": ["y"]}}),
            json!({"grants": {"select": ["a", "b"], "insert": ["y"]}}),
        ),
        (
            "grants +key on empty",
            json!({"grants": {}}),
            json!({"grants": {"+select": "b"}}),
            json!({"grants": {"select": ["b"]}}),
        ),
        (
            "meta replaced by non-map",
            json!({"meta": {"a": 1}}),
            json!({"meta": null}),
            json!({"meta": null}),
        ),
        (
            "unique_key list clobbers",
            json!({"unique_key": "id"}),
            json!({"unique_key": ["a", "b"]}),
            json!({"unique_key": ["a", "b"]}),
        ),
    ];
    for (name, base, overlay, expected) in cases {
        let mut merged = map(base);
        merge_config(&mut merged, &map(overlay));
        assert_eq!(Value::Object(merged), expected, "{name}");
    }
}

#[test]
fn defaults_then_folder_then_node_config() {
    let tree = json!({"shop": {"+materialized": "table", "+tags": ["a"]}});
    // The engine starts from dbt's complete defaults (hangar_artifacts).
    let mut config = map(json!({"materialized": "view", "tags": [], "meta": {}}));
    merge_config(
        &mut config,
        &folder_config(&tree, "shop", &fqn(&["shop", "m"])),
    );
    merge_config(
        &mut config,
        &map(json!({"tags": ["b"], "materialized": "incremental"})),
    );
    assert_eq!(config["materialized"], json!("incremental"));
    assert_eq!(config["tags"], json!(["a", "b"]));
}

//! Round-trips the artifacts captured from dbt-core 1.11.16 (see
//! `fixtures/reference_project/README.md`) through hangar's types, so that a
//! field dbt writes and hangar drops, renames or adds is caught.

use std::path::PathBuf;

use hangar_artifacts::catalog::Catalog;
use hangar_artifacts::manifest::Manifest;
use hangar_artifacts::run_results::RunResults;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Parses `original` as `T` and serialises it again.
fn round_trip<T: Serialize + DeserializeOwned>(original: &Value) -> Value {
    let typed: T = serde_json::from_value(original.clone()).unwrap();
    serde_json::to_value(&typed).unwrap()
}

/// Every object key present on one side only, with its JSON path.
fn key_differences(path: &str, dbt: &Value, hangar: &Value, out: &mut Vec<String>) {
    match (dbt, hangar) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("missing in hangar: {path}.{key}"));
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("not written by dbt: {path}.{key}"));
            }
            for (key, value) in a {
                if let Some(other) = b.get(key) {
                    key_differences(&format!("{path}.{key}"), value, other, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                key_differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ => {}
    }
}

/// dbt writes `0` where hangar writes `0.0`; both are the same JSON number.
fn numbers_as_floats(value: &Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map(Value::from).unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), numbers_as_floats(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn assert_round_trips<T: Serialize + DeserializeOwned>(name: &str) {
    let dbt = fixture(name);
    let hangar = round_trip::<T>(&dbt);
    let mut differences = Vec::new();
    key_differences("$", &dbt, &hangar, &mut differences);
    assert!(
        differences.is_empty(),
        "{name}:\n{}",
        differences.join("\n")
    );
    assert_eq!(
        numbers_as_floats(&dbt),
        numbers_as_floats(&hangar),
        "{name}: values differ"
    );
}

#[test]
fn compiled_manifest_round_trips() {
    assert_round_trips::<Manifest>("manifest_build.json");
}

#[test]
fn parsed_manifest_round_trips() {
    assert_round_trips::<Manifest>("manifest_parse.json");
}

#[test]
fn run_results_round_trip() {
    assert_round_trips::<RunResults>("run_results.json");
}

#[test]
fn catalog_round_trips() {
    assert_round_trips::<Catalog>("catalog.json");
}

#[test]
fn reference_covers_every_node_type() {
    let manifest = fixture("manifest_build.json");
    let mut kinds: Vec<String> = manifest["nodes"]
        .as_object()
        .unwrap()
        .values()
        .map(|node| {
            let generic = if node.get("test_metadata").is_some() {
                "/generic"
            } else {
                ""
            };
            format!("{}{generic}", node["resource_type"].as_str().unwrap())
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    let expected = [
        "analysis",
        "model",
        "operation",
        "seed",
        "snapshot",
        "test",
        "test/generic",
    ];
    assert_eq!(kinds, expected);
}

//! dbt's JSON artifacts (`manifest.json` v12, `run_results.json` v6,
//! `catalog.json` v1) as serde types, so that tools reading dbt's artifacts
//! (dagster-dbt, astronomer-cosmos, dbt-docs) read hangar's unchanged.
//!
//! **Invariant**: no IO other than writing artifacts ([`write_json`], [`write_with`]); no Jinja, no warehouse.
//! The shapes were captured from dbt-core 1.11.16 (see
//! `tests/fixtures/reference_project/`) and are checked against those files.
//!
//! Determinism: every map whose order is not meaningful is a `BTreeMap` or a
//! `serde_json::Map` (sorted keys); column maps are `IndexMap`s because their
//! order (YAML declaration order, or table column order in the catalog) is
//! shown to people by dbt-docs.

pub mod catalog;
pub mod config_defaults;
mod json_text;
pub mod manifest;
pub mod run_results;
mod write;

pub use write::{write_json, write_with};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// The `dbt_version` written into every artifact's metadata.
///
/// Tools gate behaviour on this value (dagster-dbt and cosmos parse it as a
/// version), so hangar reports the dbt release whose artifacts it mirrors
/// instead of its own version: a plain `MAJOR.MINOR.PATCH` that every version
/// parser accepts.
pub const DBT_VERSION: &str = "1.11.0";

/// A JSON object with sorted keys (serde_json's default `Map`).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// A config map shared with the engine's nodes, so writing a manifest of
/// tens of thousands of nodes copies none of them.
pub type SharedJsonMap = std::sync::Arc<JsonMap>;

/// Writes a [`SharedJsonMap`] (serde's `rc` feature is not enabled).
fn serialize_shared_map<S: serde::Serializer>(
    map: &SharedJsonMap,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&**map, serializer)
}

/// Reads a [`SharedJsonMap`] (serde's `rc` feature is not enabled).
fn deserialize_shared_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<SharedJsonMap, D::Error> {
    <JsonMap as serde::Deserialize>::deserialize(deserializer).map(SharedJsonMap::new)
}

/// The metadata block shared by `run_results.json` and `catalog.json`
/// (dbt's `BaseArtifactMetadata`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMetadata {
    pub dbt_schema_version: String,
    #[serde(default = "default_dbt_version")]
    pub dbt_version: String,
    pub generated_at: String,
    #[serde(default)]
    pub invocation_id: Option<String>,
    #[serde(default)]
    pub invocation_started_at: Option<String>,
    /// `DBT_ENV_CUSTOM_ENV_*` variables, prefix stripped.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl ArtifactMetadata {
    /// Metadata for the artifact with the given schema URL, generated now.
    pub fn new(
        dbt_schema_version: &str,
        invocation_id: &str,
        invocation_started_at: DateTime<Utc>,
    ) -> Self {
        ArtifactMetadata {
            dbt_schema_version: dbt_schema_version.to_string(),
            dbt_version: DBT_VERSION.to_string(),
            generated_at: dbt_timestamp(Utc::now()),
            invocation_id: Some(invocation_id.to_string()),
            invocation_started_at: Some(dbt_timestamp(invocation_started_at)),
            env: BTreeMap::new(),
        }
    }
}

fn default_dbt_version() -> String {
    DBT_VERSION.to_string()
}

/// dbt's `project_id`: the md5 hex digest of the project name.
pub fn project_id(project_name: &str) -> String {
    hex::encode(Md5::digest(project_name.as_bytes()))
}

/// A timestamp in the format dbt writes in artifacts: UTC, microseconds, `Z`
/// (`2024-01-01T00:00:00.000000Z`).
pub fn dbt_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Seconds since the Unix epoch as a float, dbt's `created_at`.
pub fn unix_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn project_id_matches_dbt() {
        // Captured from `dbt parse` of the reference project named "jaffle".
        assert_eq!(project_id("jaffle"), "f9d1e024ef226b4dca0863d7d3ade287");
    }

    #[test]
    fn timestamps_have_microseconds_and_z() {
        let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(dbt_timestamp(t), "2024-01-01T00:00:00.000000Z");
        let t = t + chrono::Duration::microseconds(1_500);
        assert_eq!(dbt_timestamp(t), "2024-01-01T00:00:00.001500Z");
    }

    #[test]
    fn unix_seconds_keeps_sub_second_part() {
        let t = Utc.timestamp_opt(1_700_000_000, 250_000_000).unwrap();
        assert_eq!(unix_seconds(t), 1_700_000_000.25);
    }
}

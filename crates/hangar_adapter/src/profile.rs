//! Reading profile output settings (dbt's `profiles.yml` keys) and building adapters.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::{Adapter, AdapterError};

pub(crate) fn adapter_from_profile(
    adapter_type: &str,
    target_name: &str,
    settings: &Map<String, Value>,
    project_root: &Path,
) -> Result<Arc<dyn Adapter>, AdapterError> {
    let settings = Settings {
        target: target_name,
        map: settings,
    };
    // The project root is only needed by file-based warehouses.
    let _ = project_root;
    match adapter_type {
        #[cfg(feature = "duckdb")]
        "duckdb" => Ok(Arc::new(crate::duckdb::DuckDbAdapter::from_settings(
            &settings,
            project_root,
        )?)),
        #[cfg(feature = "postgres")]
        "postgres" => Ok(Arc::new(crate::postgres::PostgresAdapter::from_settings(
            &settings,
        )?)),
        #[cfg(feature = "snowflake")]
        "snowflake" => Ok(Arc::new(crate::snowflake::SnowflakeAdapter::from_settings(
            &settings,
            project_root,
        )?)),
        other => Err(AdapterError::Unsupported(format!(
            "target '{target_name}' has type '{other}', which this build of hangar does not support (supported: {})",
            supported_types().join(", ")
        ))),
    }
}

fn supported_types() -> Vec<&'static str> {
    let mut types = Vec::new();
    if cfg!(feature = "duckdb") {
        types.push("duckdb");
    }
    if cfg!(feature = "postgres") {
        types.push("postgres");
    }
    if cfg!(feature = "snowflake") {
        types.push("snowflake");
    }
    types
}

/// Typed access to one profile output. Values rendered from `env_var()` arrive as
/// strings, so numbers and booleans are accepted in either form.
#[derive(Clone, Copy)]
pub(crate) struct Settings<'a> {
    pub target: &'a str,
    pub map: &'a Map<String, Value>,
}

impl<'a> Settings<'a> {
    pub fn config_error(&self, message: impl Into<String>) -> AdapterError {
        AdapterError::Config {
            target: self.target.to_string(),
            message: message.into(),
        }
    }

    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string setting; numbers are accepted and rendered as text.
    pub fn string(&self, key: &str) -> Result<Option<String>, AdapterError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(self.config_error(format!("'{key}' must be a string"))),
        }
    }

    pub fn u64(&self, key: &str) -> Result<Option<u64>, AdapterError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.not_a_count(key, &n.to_string())),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.not_a_count(key, s)),
            Some(other) => Err(self.not_a_count(key, &other.to_string())),
        }
    }

    fn not_a_count(&self, key: &str, value: &str) -> AdapterError {
        self.config_error(format!("'{key}' must be a whole number, got '{value}'"))
    }

    /// `threads`, at least 1.
    pub fn threads(&self) -> Result<usize, AdapterError> {
        let threads = self.u64("threads")?.unwrap_or(1).max(1);
        usize::try_from(threads).map_err(|_| self.config_error("'threads' is too large"))
    }
}

/// The database (catalog) a target's relations live in, known without
/// connecting: what dbt puts in `target.database`. DuckDB names it after the
/// file (`target/gym.duckdb` → `gym`, in memory `memory`), Postgres after `dbname`.
pub fn target_database(adapter_type: &str, settings: &Map<String, Value>) -> Option<String> {
    let text = |k: &str| settings.get(k).and_then(Value::as_str).map(str::to_string);
    match adapter_type {
        "duckdb" => text("database").or_else(|| {
            let file = text("path").filter(|p| !p.is_empty() && p != ":memory:");
            Some(
                file.and_then(|p| {
                    Path::new(&p)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "memory".to_string()),
            )
        }),
        "postgres" => text("dbname").or_else(|| text("database")),
        _ => text("database"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_from(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn numbers_may_come_as_strings() {
        let map = settings_from(serde_json::json!({"port": "5433", "threads": 4, "host": "h"}));
        let s = Settings {
            target: "dev",
            map: &map,
        };
        assert_eq!(s.u64("port").ok().flatten(), Some(5433));
        assert_eq!(s.threads().ok(), Some(4));
        assert_eq!(s.string("host").ok().flatten(), Some("h".to_string()));
        assert_eq!(s.string("missing").ok().flatten(), None);
    }

    #[test]
    fn bad_numbers_name_key_and_target() {
        let map = settings_from(serde_json::json!({"port": "abc"}));
        let s = Settings {
            target: "dev",
            map: &map,
        };
        let err = s.u64("port").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid profile for target 'dev': 'port' must be a whole number, got 'abc'")
        );
    }

    #[test]
    fn unknown_adapter_type_is_a_clear_error() {
        let map = Map::new();
        let err = adapter_from_profile("oracle", "dev", &map, Path::new("."))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("target 'dev' has type 'oracle'"), "{err}");
    }
}

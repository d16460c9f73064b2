//! DuckDB through the `duckdb` crate (bundled). One database is opened per adapter;
//! worker connections are clones of it, so they share the database and its lock.

mod values;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use duckdb::InterruptHandle;
use serde_json::Value;

use crate::profile::Settings;
use crate::text_values::ColumnClass;
use crate::{
    Adapter, AdapterError, CancelHandle, Capabilities, ColumnInfo, Connection, LogicalType,
    QueryResult, RelationInfo, RelationKind, RelationRef, sql_string_literal,
};

const IN_MEMORY: &str = ":memory:";

/// A dbt-duckdb target: a database file (or memory) opened once.
pub struct DuckDbAdapter {
    target: String,
    /// Where the database lives, for messages: a file path or `:memory:`.
    location: String,
    database: String,
    schema: String,
    threads: usize,
    /// `SET` statements run on every new connection.
    settings: Vec<String>,
    // The root connection only hands out clones; the mutex makes the adapter Sync.
    root: Mutex<duckdb::Connection>,
}

impl std::fmt::Debug for DuckDbAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDbAdapter")
            .field("target", &self.target)
            .field("location", &self.location)
            .field("database", &self.database)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl DuckDbAdapter {
    pub(crate) fn from_settings(
        s: &Settings<'_>,
        project_root: &Path,
    ) -> Result<Self, AdapterError> {
        let path = s.string("path")?.unwrap_or_else(|| IN_MEMORY.to_string());
        let file = (path != IN_MEMORY).then(|| resolve_path(project_root, &path));
        let stem = database_name(file.as_deref());
        if let Some(database) = s.string("database")?
            && !database.eq_ignore_ascii_case(&stem)
        {
            return Err(s.config_error(format!(
                "'database' is '{database}' but the database opened from 'path' is named '{stem}'; set 'database: {stem}' or remove it"
            )));
        }
        let extensions = extension_names(s)?;
        let settings = set_statements(s)?;
        let mut adapter = Self::open(s.target, file.as_deref(), settings)?;
        adapter.schema = s.string("schema")?.unwrap_or_else(|| "main".to_string());
        adapter.threads = s.threads()?;
        adapter.load_extensions(&extensions)?;
        Ok(adapter)
    }

    /// Opens a database file, or an in-memory database when `file` is `None`.
    pub fn open(
        target: &str,
        file: Option<&Path>,
        settings: Vec<String>,
    ) -> Result<Self, AdapterError> {
        let location = file.map_or_else(|| IN_MEMORY.to_string(), |p| p.display().to_string());
        if let Some(dir) = file
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            // Like dbt-duckdb, a path under a missing folder (target/) creates it.
            std::fs::create_dir_all(dir).map_err(|e| AdapterError::Connection {
                target: target.to_string(),
                message: format!("cannot create the folder of DuckDB database '{location}': {e}"),
            })?;
        }
        let opened = match file {
            Some(path) => duckdb::Connection::open(path),
            None => duckdb::Connection::open_in_memory(),
        };
        let root = opened.map_err(|e| open_error(target, &location, &e))?;
        let adapter = Self {
            target: target.to_string(),
            location,
            database: database_name(file),
            schema: "main".to_string(),
            threads: 1,
            settings,
            root: Mutex::new(root),
        };
        // Settings are checked once here, so a bad one fails before any model runs.
        adapter.with_root(|conn| apply_settings(conn, &adapter.settings))?;
        Ok(adapter)
    }

    fn with_root<T>(
        &self,
        f: impl FnOnce(&duckdb::Connection) -> Result<T, AdapterError>,
    ) -> Result<T, AdapterError> {
        // A poisoned lock only means a panic elsewhere; the connection is still valid.
        let root = self.root.lock().unwrap_or_else(|e| e.into_inner());
        f(&root)
    }

    fn load_extensions(&self, names: &[String]) -> Result<(), AdapterError> {
        self.with_root(|conn| {
            for name in names {
                conn.execute_batch(&format!("load {name}")).map_err(|e| {
                    AdapterError::Extension {
                        name: name.clone(),
                        message: e.to_string(),
                    }
                })?;
            }
            Ok(())
        })
    }
}

fn resolve_path(project_root: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        project_root.join(path)
    }
}

/// DuckDB names a database after its file stem; an in-memory one is `memory`.
fn database_name(file: Option<&Path>) -> String {
    file.and_then(|p| p.file_stem()).map_or_else(
        || "memory".to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn open_error(target: &str, location: &str, e: &duckdb::Error) -> AdapterError {
    let message = e.to_string();
    if message.contains("Could not set lock") || message.contains("Conflicting lock") {
        AdapterError::Locked {
            path: location.to_string(),
            message,
        }
    } else {
        AdapterError::Connection {
            target: target.to_string(),
            message: format!("cannot open DuckDB database '{location}': {message}"),
        }
    }
}

/// `extensions:` entries are names, or maps with a `name` (dbt-duckdb allows both).
fn extension_names(s: &Settings<'_>) -> Result<Vec<String>, AdapterError> {
    let Some(raw) = s.raw("extensions") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = raw else {
        return Err(s.config_error("'extensions' must be a list of extension names"));
    };
    items
        .iter()
        .map(|item| {
            let name = match item {
                Value::String(name) => Some(name.as_str()),
                Value::Object(map) => map.get("name").and_then(Value::as_str),
                _ => None,
            };
            match name {
                Some(n) if is_plain_name(n) => Ok(n.to_string()),
                _ => Err(s.config_error(format!("invalid entry in 'extensions': {item}"))),
            }
        })
        .collect()
}

/// `settings:` as `SET key = value` statements; values are literals, keys plain names.
fn set_statements(s: &Settings<'_>) -> Result<Vec<String>, AdapterError> {
    let Some(raw) = s.raw("settings") else {
        return Ok(Vec::new());
    };
    let Value::Object(map) = raw else {
        return Err(s.config_error("'settings' must be a mapping of DuckDB settings"));
    };
    map.iter()
        .map(|(key, value)| {
            if !is_plain_name(key) {
                return Err(s.config_error(format!("invalid DuckDB setting name '{key}'")));
            }
            let literal = match value {
                Value::String(text) => sql_string_literal(text),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(s.config_error(format!(
                        "DuckDB setting '{key}' must be a string, number or boolean, got {other}"
                    )));
                }
            };
            Ok(format!("set {key} = {literal}"))
        })
        .collect()
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn apply_settings(conn: &duckdb::Connection, settings: &[String]) -> Result<(), AdapterError> {
    for statement in settings {
        conn.execute_batch(statement)
            .map_err(|e| AdapterError::Database {
                message: format!("{statement}: {e}"),
                sql_state: None,
            })?;
    }
    Ok(())
}

impl Adapter for DuckDbAdapter {
    fn adapter_type(&self) -> &'static str {
        "duckdb"
    }

    fn target_name(&self) -> &str {
        &self.target
    }

    fn connect(&self) -> Result<Box<dyn Connection>, AdapterError> {
        let conn = self.with_root(|root| {
            root.try_clone().map_err(|e| AdapterError::Connection {
                target: self.target.clone(),
                message: format!("cannot open a connection to '{}': {e}", self.location),
            })
        })?;
        apply_settings(&conn, &self.settings)?;
        Ok(Box::new(DuckDbConnection {
            interrupt: conn.interrupt_handle(),
            conn,
            database: self.database.clone(),
        }))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            create_or_replace_table: true,
            create_or_replace_view: true,
            merge: true,
            comments: true,
            rename_keeps_schema: true,
            cancel: true,
            drop_cascade: true,
            multi_statement_execute: true,
            max_identifier_length: None,
            quote_seed_columns: true,
            default_incremental_strategy: "delete+insert",
        }
    }

    fn default_database(&self) -> Option<String> {
        Some(self.database.clone())
    }

    fn default_schema(&self) -> String {
        self.schema.clone()
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn type_name(&self, logical: LogicalType) -> String {
        match logical {
            LogicalType::String => "VARCHAR",
            LogicalType::Int => "INTEGER",
            LogicalType::BigInt => "BIGINT",
            LogicalType::Numeric => "DECIMAL(28,6)",
            LogicalType::Float => "DOUBLE",
            LogicalType::Timestamp => "TIMESTAMP",
            LogicalType::Boolean => "BOOLEAN",
            LogicalType::Date => "DATE",
        }
        .to_string()
    }
}

/// One DuckDB connection (a clone sharing the adapter's database).
pub struct DuckDbConnection {
    conn: duckdb::Connection,
    interrupt: Arc<InterruptHandle>,
    database: String,
}

impl DuckDbConnection {
    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Value>>, AdapterError> {
        let values: Vec<Value> = params.iter().map(|p| Value::from(*p)).collect();
        Ok(self.query(sql, &values)?.rows)
    }

    fn database_or_default(&self, database: Option<&str>) -> String {
        database.map_or_else(|| self.database.clone(), str::to_string)
    }
}

impl Connection for DuckDbConnection {
    fn execute(&mut self, sql: &str) -> Result<Option<u64>, AdapterError> {
        if crate::sql::is_blank(sql) {
            return Ok(None);
        }
        // `prepare` runs all but the last statement; the last one reports its row count.
        let mut statement = self.conn.prepare(sql).map_err(|e| duck_error(&e))?;
        let changed = statement.execute([]).map_err(|e| duck_error(&e))?;
        Ok(Some(changed as u64))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult, AdapterError> {
        if crate::sql::is_blank(sql) {
            return Ok(QueryResult::default());
        }
        let mut statement = self.conn.prepare(sql).map_err(|e| duck_error(&e))?;
        let bound = params.iter().map(values::json_param);
        let mut rows = statement
            .query(duckdb::params_from_iter(bound))
            .map_err(|e| duck_error(&e))?;
        let columns = rows
            .as_ref()
            .map(values::result_columns)
            .unwrap_or_default();
        let width = columns.len();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| duck_error(&e))? {
            let cells = (0..width)
                .map(|i| row.get_ref(i).map(values::to_json))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| duck_error(&e))?;
            out.push(cells);
        }
        Ok(QueryResult {
            columns,
            rows: out,
            rows_affected: None,
        })
    }

    fn list_relations(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<RelationInfo>, AdapterError> {
        let database = self.database_or_default(database);
        let rows = self.rows(
            "select table_catalog, table_schema, table_name, table_type \
             from information_schema.tables \
             where lower(table_catalog) = lower(?) and lower(table_schema) = lower(?) \
             order by table_name",
            &[&database, schema],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let text = |i: usize| row.get(i).and_then(Value::as_str).map(str::to_string);
                let kind = match text(3)?.as_str() {
                    "VIEW" => RelationKind::View,
                    "BASE TABLE" | "LOCAL TEMPORARY" => RelationKind::Table,
                    _ => RelationKind::Unknown,
                };
                Some(RelationInfo {
                    relation: RelationRef {
                        database: text(0),
                        schema: text(1)?,
                        identifier: text(2)?,
                    },
                    kind,
                })
            })
            .collect())
    }

    fn list_schemas(&mut self, database: Option<&str>) -> Result<Vec<String>, AdapterError> {
        let database = self.database_or_default(database);
        let rows = self.rows(
            "select schema_name from information_schema.schemata \
             where lower(catalog_name) = lower(?) order by schema_name",
            &[&database],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.first()?.as_str().map(str::to_string))
            .collect())
    }

    fn get_columns(&mut self, r: &RelationRef) -> Result<Vec<ColumnInfo>, AdapterError> {
        let database = self.database_or_default(r.database.as_deref());
        let rows = self.rows(
            "select column_name, data_type from information_schema.columns \
             where lower(table_catalog) = lower(?) and lower(table_schema) = lower(?) \
               and lower(table_name) = lower(?) \
             order by ordinal_position",
            &[&database, &r.schema, &r.identifier],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(ColumnInfo::new(
                    row.first()?.as_str()?,
                    row.get(1)?.as_str()?,
                ))
            })
            .collect())
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        self.conn
            .execute_batch("begin transaction")
            .map_err(|e| duck_error(&e))
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        self.conn
            .execute_batch("commit")
            .map_err(|e| duck_error(&e))
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.conn
            .execute_batch("rollback")
            .map_err(|e| duck_error(&e))
    }

    fn cancel_handle(&self) -> Box<dyn CancelHandle> {
        Box::new(DuckDbCancel(Arc::clone(&self.interrupt)))
    }

    fn bulk_load(
        &mut self,
        r: &RelationRef,
        columns: &[ColumnInfo],
        rows: &mut dyn Iterator<Item = Vec<Option<String>>>,
    ) -> Result<u64, AdapterError> {
        let database = self.database_or_default(r.database.as_deref());
        let relation = format!(
            "{}.{}.{}",
            crate::quote_with(&database, '"'),
            crate::quote_with(&r.schema, '"'),
            crate::quote_with(&r.identifier, '"')
        );
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let classes: Vec<ColumnClass> = columns
            .iter()
            .map(|c| ColumnClass::of(&c.data_type))
            .collect();
        let mut appender = self
            .conn
            .appender_with_columns_to_catalog_and_db(&r.identifier, &database, &r.schema, &names)
            .map_err(|e| duck_error(&e))?;
        let mut loaded = 0u64;
        for (index, row) in rows.enumerate() {
            let row_number = index as u64 + 1;
            let bad_value = |column: &str, message: String| AdapterError::BadValue {
                relation: relation.clone(),
                row: row_number,
                column: column.to_string(),
                message,
            };
            if row.len() != columns.len() {
                let message = format!("expected {} values, got {}", columns.len(), row.len());
                return Err(bad_value("", message));
            }
            let mut typed = Vec::with_capacity(row.len());
            for ((cell, class), name) in row.iter().zip(&classes).zip(&names) {
                let value = class
                    .parse(cell.as_deref())
                    .map_err(|m| bad_value(name, m))?;
                typed.push(values::typed_param(value));
            }
            appender
                .append_row(duckdb::appender_params_from_iter(typed))
                .map_err(|e| bad_value(&values::cast_columns(&classes, &names), e.to_string()))?;
            loaded += 1;
        }
        appender.flush().map_err(|e| AdapterError::Database {
            message: format!("loading {relation} failed: {e}"),
            sql_state: None,
        })?;
        Ok(loaded)
    }
}

struct DuckDbCancel(Arc<InterruptHandle>);

impl CancelHandle for DuckDbCancel {
    fn cancel(&self) {
        self.0.interrupt();
    }
}

fn duck_error(e: &duckdb::Error) -> AdapterError {
    let message = e.to_string();
    if message.contains("INTERRUPT") || message.contains("Interrupted") {
        AdapterError::Cancelled
    } else {
        AdapterError::Database {
            message,
            sql_state: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings_map(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn database_is_named_after_the_file_stem() {
        assert_eq!(database_name(Some(Path::new("/p/dev.duckdb"))), "dev");
        assert_eq!(database_name(None), "memory");
    }

    #[test]
    fn settings_become_set_statements() {
        let map = settings_map(
            json!({"settings": {"threads": 4, "memory_limit": "1GB", "preserve_insertion_order": false}}),
        );
        let s = Settings {
            target: "dev",
            map: &map,
        };
        let mut statements = set_statements(&s).unwrap_or_default();
        statements.sort();
        assert_eq!(
            statements,
            vec![
                "set memory_limit = '1GB'",
                "set preserve_insertion_order = false",
                "set threads = 4"
            ]
        );
        let map = settings_map(json!({"settings": {"x; drop table t": 1}}));
        let s = Settings {
            target: "dev",
            map: &map,
        };
        assert!(set_statements(&s).is_err());
    }

    #[test]
    fn extensions_accept_names_and_maps() {
        let map =
            settings_map(json!({"extensions": ["httpfs", {"name": "spatial", "repo": "core"}]}));
        let s = Settings {
            target: "dev",
            map: &map,
        };
        assert_eq!(
            extension_names(&s).unwrap_or_default(),
            vec!["httpfs".to_string(), "spatial".to_string()]
        );
    }
}

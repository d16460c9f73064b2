//! The warehouse layer of hangar.
//!
//! An [`Adapter`] describes one warehouse target: how it quotes, names types and
//! spells the DDL the engine composes materializations from. A [`Connection`]
//! runs statements on it, one per worker thread.
//!
//! Invariants:
//! - Adapters never touch Jinja; the Jinja layer wraps an adapter as an object.
//! - Differences between warehouses are methods or [`Capabilities`] here, never
//!   `match adapter_type` elsewhere.
//! - Values are bound, never pasted into SQL; identifiers are quoted by the adapter.
//! - Secrets never appear in errors.

mod cache;
mod error;
mod profile;
mod sql;
mod text_values;
mod types;

#[cfg(feature = "duckdb")]
pub mod duckdb;
#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::Path;
use std::sync::Arc;

pub use cache::RelationCache;
pub use error::AdapterError;
pub use profile::target_database;
pub use sql::{quote_with, sql_string_literal};
pub use text_values::ColumnClass;
pub use types::{
    Capabilities, ColumnInfo, LogicalType, QueryResult, RelationInfo, RelationKind, RelationRef,
};

/// One warehouse target: naming, quoting and DDL spelling, plus a way to open connections.
///
/// Every method with a default body is the ANSI / Postgres-like spelling; an adapter
/// overrides only what differs for its warehouse (as `sqlparser`'s dialects do).
pub trait Adapter: Send + Sync {
    /// The profile `type`, e.g. `duckdb`.
    fn adapter_type(&self) -> &'static str;
    /// The profile target name this adapter was built for (used in messages).
    fn target_name(&self) -> &str;
    /// Opens a new connection; the engine opens one per worker thread.
    fn connect(&self) -> Result<Box<dyn Connection>, AdapterError>;
    fn capabilities(&self) -> Capabilities;
    fn default_database(&self) -> Option<String>;
    fn default_schema(&self) -> String;
    /// The `threads` setting of the profile (dbt's worker count), 1 when absent.
    fn threads(&self) -> usize;

    /// Quotes one identifier: `a"b` → `"a""b"`.
    fn quote(&self, identifier: &str) -> String {
        quote_with(identifier, '"')
    }

    /// The fully quoted name; the database part is left out when it is `None`.
    fn render_relation(&self, r: &RelationRef) -> String {
        sql::render_parts(self, r.database.as_deref(), &r.schema, &r.identifier)
    }

    /// How the warehouse folds an unquoted identifier (lower case here; Snowflake upper).
    fn normalize_identifier(&self, name: &str) -> String {
        name.to_lowercase()
    }

    /// The warehouse type name for one of dbt's logical types.
    fn type_name(&self, logical: LogicalType) -> String {
        sql::ansi_type_name(logical).to_string()
    }

    /// `create [temporary] table … as (select)`. Temporary tables are not schema-qualified,
    /// as in both Postgres and DuckDB they live in a session schema of their own.
    fn sql_create_table_as(&self, r: &RelationRef, select_sql: &str, temporary: bool) -> String {
        if temporary {
            format!(
                "create temporary table {} as (\n{}\n)",
                self.quote(&r.identifier),
                select_sql
            )
        } else {
            format!(
                "create table {} as (\n{}\n)",
                self.render_relation(r),
                select_sql
            )
        }
    }

    fn sql_create_view_as(&self, r: &RelationRef, select_sql: &str) -> String {
        format!(
            "create view {} as (\n{}\n)",
            self.render_relation(r),
            select_sql
        )
    }

    /// Only used where [`Capabilities::create_or_replace_view`] holds.
    fn sql_create_or_replace_view(&self, r: &RelationRef, select_sql: &str) -> String {
        format!(
            "create or replace view {} as (\n{}\n)",
            self.render_relation(r),
            select_sql
        )
    }

    /// Renames within the same schema; `to_identifier` is a bare name.
    fn sql_rename(&self, from: &RelationRef, to_identifier: &str, kind: RelationKind) -> String {
        format!(
            "alter {} {} rename to {}",
            kind.ddl_keyword(),
            self.render_relation(from),
            self.quote(to_identifier)
        )
    }

    /// `drop … if exists`, with `cascade` where the warehouse supports it.
    fn sql_drop(&self, r: &RelationRef, kind: RelationKind) -> String {
        let cascade = if self.capabilities().drop_cascade {
            " cascade"
        } else {
            ""
        };
        format!(
            "drop {} if exists {}{}",
            kind.ddl_keyword(),
            self.render_relation(r),
            cascade
        )
    }

    fn sql_create_schema(&self, database: Option<&str>, schema: &str) -> String {
        let name = match database {
            Some(db) => format!("{}.{}", self.quote(db), self.quote(schema)),
            None => self.quote(schema),
        };
        format!("create schema if not exists {name}")
    }

    /// `comment on …` for persist_docs, or `None` where the warehouse has no comments.
    fn sql_comment(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        column: Option<&str>,
        text: &str,
    ) -> Option<String> {
        if !self.capabilities().comments {
            return None;
        }
        let literal = sql_string_literal(text);
        Some(match column {
            Some(col) => format!(
                "comment on column {}.{} is {}",
                self.render_relation(r),
                self.quote(col),
                literal
            ),
            None => format!(
                "comment on {} {} is {}",
                kind.ddl_keyword(),
                self.render_relation(r),
                literal
            ),
        })
    }
}

/// A session on the warehouse. Each call sends one statement (DuckDB and Postgres
/// accept several separated by `;` in `execute`; Snowflake will not).
pub trait Connection: Send {
    /// Runs SQL for its effect; returns the rows affected where the warehouse reports it.
    fn execute(&mut self, sql: &str) -> Result<Option<u64>, AdapterError>;
    /// Runs a query with bound parameters, written `$1`, `$2`, … (every adapter accepts that form).
    fn query(
        &mut self,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<QueryResult, AdapterError>;
    /// Every table and view of one schema, in one query.
    fn list_relations(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<RelationInfo>, AdapterError>;
    fn list_schemas(&mut self, database: Option<&str>) -> Result<Vec<String>, AdapterError>;
    /// Columns in table order; empty when the relation does not exist.
    fn get_columns(&mut self, r: &RelationRef) -> Result<Vec<ColumnInfo>, AdapterError>;
    fn begin(&mut self) -> Result<(), AdapterError>;
    fn commit(&mut self) -> Result<(), AdapterError>;
    fn rollback(&mut self) -> Result<(), AdapterError>;
    /// A handle another thread can use to interrupt the statement running here.
    fn cancel_handle(&self) -> Box<dyn CancelHandle>;
    /// Loads text rows into an existing table; values are converted by the table's
    /// column types (`None` is NULL). Returns the number of rows loaded.
    fn bulk_load(
        &mut self,
        r: &RelationRef,
        columns: &[ColumnInfo],
        rows: &mut dyn Iterator<Item = Vec<Option<String>>>,
    ) -> Result<u64, AdapterError>;
}

/// Interrupts the statement running on the connection it came from.
pub trait CancelHandle: Send + Sync {
    fn cancel(&self);
}

/// Builds the adapter for a profile output (`settings` are its keys, env vars already rendered).
pub fn adapter_from_profile(
    adapter_type: &str,
    target_name: &str,
    settings: &serde_json::Map<String, serde_json::Value>,
    project_root: &Path,
) -> Result<Arc<dyn Adapter>, AdapterError> {
    profile::adapter_from_profile(adapter_type, target_name, settings, project_root)
}

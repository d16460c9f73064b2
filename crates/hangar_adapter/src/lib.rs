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
#[cfg(feature = "snowflake")]
pub mod snowflake;

use std::path::Path;
use std::sync::Arc;

pub use cache::RelationCache;
pub use error::AdapterError;
pub use profile::target_database;
pub use sql::{is_plain_identifier, quote_with, sql_string_literal};
pub use text_values::ColumnClass;
pub use types::{
    Capabilities, ColumnInfo, ConstraintSupport, LogicalType, QueryResult, RelationInfo,
    RelationKind, RelationRef,
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

    /// One atomic `create or replace table … as`; only used where
    /// [`Capabilities::create_or_replace_table`] holds.
    fn sql_create_or_replace_table_as(&self, r: &RelationRef, select_sql: &str) -> String {
        self.sql_create_or_replace_permanent_table_as(r, select_sql)
    }

    /// `create or replace table … as` of an ordinary (permanent) table, for a
    /// model configured `transient: false` where tables are transient by
    /// default (Snowflake); elsewhere every table is permanent already.
    fn sql_create_or_replace_permanent_table_as(
        &self,
        r: &RelationRef,
        select_sql: &str,
    ) -> String {
        format!(
            "create or replace table {} as (\n{}\n)",
            self.render_relation(r),
            select_sql
        )
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

    /// Whether a contract constraint (`not_null`, `unique`, `primary_key`,
    /// `foreign_key`, `check`, `custom`) can go in this warehouse's DDL.
    fn constraint_support(&self, kind: &str) -> ConstraintSupport {
        match kind {
            "not_null" | "unique" | "primary_key" | "foreign_key" | "check" | "custom" => {
                ConstraintSupport::Enforced
            }
            _ => ConstraintSupport::NotSupported,
        }
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

    // --- grants (dbt's `grants:` config; the engine's `grants` module does the diff) ---

    /// Whether `grants:` configs are applied here. Off by default, as DuckDB has no
    /// GRANT statement; warehouses with grants override it.
    fn supports_grants(&self) -> bool {
        false
    }

    /// dbt's `copy_grants()`: whether a relation replaced by a rebuild keeps the grants of
    /// the one it replaced, so that stale grants must be revoked. `configured` is the
    /// node's `copy_grants` config (false when absent), which Snowflake honours.
    fn copy_grants(&self, configured: bool) -> bool {
        let _ = configured;
        true
    }

    /// dbt's `get_show_grant_sql`: a query for the grants hangar manages on `r` (those
    /// given by the current role to others), with its bound parameters. Its rows are read
    /// by [`Adapter::grants_from_rows`].
    fn sql_show_grants(&self, r: &RelationRef) -> (String, Vec<serde_json::Value>) {
        (
            "select grantee::text as grantee, privilege_type::text as privilege_type \
             from information_schema.role_table_grants \
             where grantor = current_role and grantee != current_role \
             and table_schema = $1 and table_name = $2"
                .to_string(),
            vec![r.schema.clone().into(), r.identifier.clone().into()],
        )
    }

    /// dbt's `standardize_grants_dict`: `(privilege, grantee)` pairs from the rows of
    /// [`Adapter::sql_show_grants`] (columns `privilege_type` and `grantee`).
    fn grants_from_rows(&self, result: &QueryResult) -> Vec<(String, String)> {
        let position = |name: &str| {
            result
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name))
        };
        let (Some(privilege), Some(grantee)) = (position("privilege_type"), position("grantee"))
        else {
            return Vec::new();
        };
        result
            .rows
            .iter()
            .filter_map(|row| {
                let text = |i: usize| row.get(i)?.as_str().map(str::to_string);
                Some((text(privilege)?, text(grantee)?))
            })
            .collect()
    }

    /// A grantee from the config as DCL writes it: a name is folded as an unquoted
    /// identifier would be (dbt pastes it unquoted) and then quoted; `"Name"` keeps its
    /// case; `public` stays the keyword.
    fn grantee_sql(&self, grantee: &str) -> String {
        let name = grantee.trim();
        if name.eq_ignore_ascii_case("public") {
            return "public".to_string();
        }
        match name
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        {
            Some(quoted) => self.quote(&quoted.replace("\"\"", "\"")),
            None => self.quote(&self.normalize_identifier(name)),
        }
    }

    /// `grant <privilege> on <relation> to <grantees>`; grantees come from
    /// [`Adapter::grantee_sql`], the privilege is a checked keyword such as `select`.
    fn sql_grant(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        privilege: &str,
        grantees: &[String],
    ) -> String {
        let _ = kind;
        format!(
            "grant {privilege} on {} to {}",
            self.render_relation(r),
            grantees.join(", ")
        )
    }

    /// `revoke <privilege> on <relation> from <grantees>`, as [`Adapter::sql_grant`].
    fn sql_revoke(
        &self,
        r: &RelationRef,
        kind: RelationKind,
        privilege: &str,
        grantees: &[String],
    ) -> String {
        let _ = kind;
        format!(
            "revoke {privilege} on {} from {}",
            self.render_relation(r),
            grantees.join(", ")
        )
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
    /// `(referenced, dependent)` pairs for the views of one schema and the relations they
    /// read, in one query, so the relation cache can forget what a cascading drop removes.
    /// Warehouses whose drops do not cascade to views need not report any.
    fn list_dependencies(
        &mut self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<(RelationRef, RelationRef)>, AdapterError> {
        let _ = (database, schema);
        Ok(Vec::new())
    }
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

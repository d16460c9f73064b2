//! Plain data types shared by every adapter.

use serde::{Deserialize, Serialize};

/// A relation as the warehouse names it (already normalized by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RelationRef {
    pub database: Option<String>,
    pub schema: String,
    pub identifier: String,
}

impl RelationRef {
    pub fn new(database: Option<&str>, schema: &str, identifier: &str) -> Self {
        Self {
            database: database.map(str::to_string),
            schema: schema.to_string(),
            identifier: identifier.to_string(),
        }
    }

    /// The same relation under another name in the same schema.
    pub fn with_identifier(&self, identifier: &str) -> Self {
        Self {
            identifier: identifier.to_string(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Table,
    View,
    MaterializedView,
    External,
    Unknown,
}

impl RelationKind {
    /// The keyword used in DDL (`drop table`, `alter view`); unknown kinds are treated as tables.
    pub fn ddl_keyword(self) -> &'static str {
        match self {
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::Table | RelationKind::External | RelationKind::Unknown => "table",
        }
    }

    /// dbt's name for the kind, as in `relation.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized_view",
            RelationKind::External => "external",
            RelationKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationInfo {
    pub relation: RelationRef,
    pub kind: RelationKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: String,
}

impl ColumnInfo {
    pub fn new(name: &str, data_type: &str) -> Self {
        Self {
            name: name.to_string(),
            data_type: data_type.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub rows_affected: Option<u64>,
}

/// dbt's cross-database type names (`type_string()`, `type_int()`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicalType {
    String,
    Int,
    BigInt,
    Numeric,
    Float,
    Timestamp,
    Boolean,
    Date,
}

/// What a warehouse can do; the engine picks materialization strategies from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// DDL inside a transaction can be rolled back (Postgres yes, Snowflake no).
    pub transactional_ddl: bool,
    pub create_or_replace_table: bool,
    pub create_or_replace_view: bool,
    pub merge: bool,
    /// `comment on` is available for persist_docs.
    pub comments: bool,
    /// `alter … rename to` keeps the relation in its schema (the new name is bare).
    pub rename_keeps_schema: bool,
    /// A running statement can be interrupted from another thread.
    pub cancel: bool,
    /// `drop … cascade` is accepted.
    pub drop_cascade: bool,
    /// Several `;`-separated statements may be sent in one `execute` call.
    pub multi_statement_execute: bool,
    /// Longest identifier the warehouse keeps (Postgres truncates at 63 bytes).
    pub max_identifier_length: Option<usize>,
    /// Seed column names are quoted unless the seed says `quote_columns: false`
    /// (dbt-snowflake leaves them unquoted so they upper-case).
    pub quote_seed_columns: bool,
    /// The adapter's default `incremental_strategy` for a model with a
    /// `unique_key`, as in its dbt adapter (without one, every strategy appends).
    pub default_incremental_strategy: &'static str,
}

/// How a warehouse treats a contract constraint (dbt's `ConstraintSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintSupport {
    /// Declared and checked on every write.
    Enforced,
    /// Accepted as metadata but not checked (Snowflake's primary keys).
    NotEnforced,
    /// Rejected by the warehouse: left out of the DDL.
    NotSupported,
}

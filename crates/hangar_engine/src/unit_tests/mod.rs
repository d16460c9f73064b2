//! dbt unit tests (`unit_tests:` in property YAML): a model's SQL run on
//! fixture rows in place of its inputs, compared with the expected rows.
//!
//! Parsing turns each entry into a [`Node`] of type `unit_test` carrying a
//! [`UnitTestData`]; `fixtures` builds the SQL (pure); `execute` runs it.

mod execute;
mod fixtures;
mod parse;

pub(crate) use execute::run_unit_test;
pub use fixtures::{FixtureColumn, diff_rows, fixture_sql, sql_literal};
pub(crate) use parse::unit_test_nodes;

use serde_json::{Map, Value};

/// What a `given` entry stands in for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRef {
    Ref {
        package: Option<String>,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
    /// `this`: the model's own relation, for incremental logic.
    This,
}

/// Rows for an input or the expectation.
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureRows {
    /// `dict` and `csv` formats: one map per row (csv values are strings).
    Rows(Vec<Map<String, Value>>),
    /// `sql` format: a query giving every column.
    Sql(String),
}

#[derive(Debug, Clone)]
pub struct UnitInput {
    pub input: InputRef,
    /// As written, e.g. `ref('stg_members')`.
    pub written: String,
    pub rows: FixtureRows,
}

/// The parsed body of a unit test node.
#[derive(Debug, Clone)]
pub struct UnitTestData {
    pub model_id: String,
    pub given: Vec<UnitInput>,
    pub expect: FixtureRows,
    pub overrides: hangar_jinja::Overrides,
    /// The YAML entry as written, for the manifest's `given` / `expect` / `overrides`.
    pub definition: Value,
}

//! Shared by the crate's unit tests.

use crate::{Relation, Resolver};

/// Resolves every ref to `"db"."main"."<name>"` and every source to
/// `"raw"."<source>"."<table>"`, quoted as on DuckDB.
pub(crate) struct Tables;

impl Resolver for Tables {
    fn resolve_ref(
        &self,
        _package: Option<&str>,
        name: &str,
        _version: Option<&str>,
    ) -> Result<Relation, String> {
        let mut relation = Relation::new(Some("db"), "main", name);
        relation.quote_policy = Relation::default_quote_policy("duckdb");
        Ok(relation.with_kind("table"))
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String> {
        let mut relation = Relation::new(Some("raw"), source, table);
        relation.quote_policy = Relation::default_quote_policy("duckdb");
        Ok(relation)
    }

    fn doc(&self, _package: Option<&str>, _name: &str) -> Option<String> {
        None
    }
}

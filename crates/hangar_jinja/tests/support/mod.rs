//! What the crate's integration tests share: a resolver that names every
//! relation, and an environment made from one macro file of package `proj`.

use std::sync::Arc;

use hangar_jinja::{Jinja, JinjaConfig, MacroSource, Relation, Resolver};
use hangar_project::Diagnostic;

/// Resolves `ref('x')` to `db.main.x` and `source('s', 't')` to `raw.s.t`.
pub struct Names;

impl Resolver for Names {
    fn resolve_ref(
        &self,
        _package: Option<&str>,
        name: &str,
        _version: Option<&str>,
    ) -> Result<Relation, String> {
        Ok(Relation::new(Some("db"), "main", name))
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String> {
        Ok(Relation::new(Some("raw"), source, table))
    }

    fn doc(&self, _package: Option<&str>, _name: &str) -> Option<String> {
        None
    }
}

/// An environment for package `proj` with `macros` as `macros/m.sql`, and a
/// fixed `run_started_at` (2026-11-22T01:02:03.456789Z).
pub fn jinja_with_macros(macros: &str) -> (Jinja, Vec<Diagnostic>) {
    let config = JinjaConfig {
        root_package: "proj".into(),
        run_started_at: chrono::DateTime::parse_from_rfc3339("2026-11-22T01:02:03.456789Z")
            .expect("valid date")
            .with_timezone(&chrono::Utc),
        ..JinjaConfig::default()
    };
    let sources = vec![MacroSource {
        package: "proj".into(),
        path: "macros/m.sql".into(),
        contents: Arc::from(macros),
    }];
    Jinja::new(config, sources)
}

//! What the user asked for, validated: flags resolved into one value that
//! every command reads.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hangar_graph::IndirectSelection;
use hangar_project::{Diagnostic, codes};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default)]
pub struct SelectionFlags {
    pub select: Vec<String>,
    pub exclude: Vec<String>,
    pub selector: Option<String>,
    pub indirect: Indirect,
}

/// `--indirect-selection`, kept here so the CLI needs no graph types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Indirect {
    #[default]
    Eager,
    Cautious,
    Buildable,
    Empty,
}

impl From<Indirect> for IndirectSelection {
    fn from(value: Indirect) -> Self {
        match value {
            Indirect::Eager => IndirectSelection::Eager,
            Indirect::Cautious => IndirectSelection::Cautious,
            Indirect::Buildable => IndirectSelection::Buildable,
            Indirect::Empty => IndirectSelection::Empty,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub project_dir: PathBuf,
    pub profiles_dir: Option<PathBuf>,
    pub target: Option<String>,
    pub vars: Map<String, Value>,
    pub threads: Option<usize>,
    pub selection: SelectionFlags,
    pub full_refresh: bool,
    pub fail_fast: bool,
    pub invocation_id: String,
    pub started_at: DateTime<Utc>,
    /// The command name as dbt records it in run_results `args`.
    pub command: String,
}

impl Invocation {
    pub fn new(project_dir: PathBuf, command: &str) -> Self {
        Invocation {
            project_dir,
            profiles_dir: None,
            target: None,
            vars: Map::new(),
            threads: None,
            selection: SelectionFlags::default(),
            full_refresh: false,
            fail_fast: false,
            invocation_id: uuid::Uuid::new_v4().to_string(),
            started_at: Utc::now(),
            command: command.to_string(),
        }
    }
}

/// Parse `--vars`: a YAML (or JSON) mapping.
pub fn parse_cli_vars(text: &str) -> Result<Map<String, Value>, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = yaml_serde::from_str(text).map_err(|e| {
        Diagnostic::error(codes::YAML_SYNTAX, format!("--vars is not valid YAML: {e}"))
            .with_hint("pass a mapping, e.g. --vars '{start_date: 2024-01-01, limit: 10}'")
    })?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(Diagnostic::error(
            codes::YAML_SCHEMA,
            format!("--vars must be a mapping of names to values, got `{other}`"),
        )
        .with_hint("pass a mapping, e.g. --vars '{start_date: 2024-01-01}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_accept_yaml_and_json() {
        assert_eq!(parse_cli_vars("{a: 1}").unwrap()["a"], 1);
        assert_eq!(parse_cli_vars(r#"{"a": "x"}"#).unwrap()["a"], "x");
        assert!(parse_cli_vars("").unwrap().is_empty());
        assert!(parse_cli_vars("[1, 2]").is_err());
        assert!(parse_cli_vars("{a: [").is_err());
    }
}

//! The project file: `hangar_project.yml`, falling back to `dbt_project.yml`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, codes};
use crate::yaml::{self, FieldReader};

/// Project file names, in order of preference.
pub const PROJECT_FILE_NAMES: [&str; 2] = ["hangar_project.yml", "dbt_project.yml"];

/// Keys of the project file that [`ProjectConfig`] types; all others go to `extra`.
const KNOWN_KEYS: &[&str] = &[
    "name",
    "version",
    "profile",
    "config-version",
    "model-paths",
    "seed-paths",
    "snapshot-paths",
    "test-paths",
    "analysis-paths",
    "macro-paths",
    "docs-paths",
    "target-path",
    "clean-targets",
    "packages-install-path",
    "vars",
    "models",
    "seeds",
    "snapshots",
    "data_tests",
    "tests",
    "sources",
    "unit_tests",
    "exposures",
    "quoting",
    "dispatch",
    "on-run-start",
    "on-run-end",
    "flags",
    "require-dbt-version",
    "query-comment",
];

/// `dispatch:` entry: where to look for implementations of a macro namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DispatchConfig {
    pub macro_namespace: String,
    pub search_order: Vec<String>,
}

/// Typed `dbt_project.yml`. Defaults are dbt's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProjectConfig {
    /// The file it was read from, as shown to the user.
    #[serde(skip)]
    pub file: PathBuf,
    /// dbt's checksum of that file ([`crate::files::contents_checksum`]),
    /// which dbt gives the project's hooks.
    #[serde(skip)]
    pub file_checksum: String,
    pub name: String,
    pub version: Option<String>,
    pub profile: Option<String>,
    pub config_version: Option<String>,
    pub model_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub snapshot_paths: Vec<String>,
    pub test_paths: Vec<String>,
    pub analysis_paths: Vec<String>,
    pub macro_paths: Vec<String>,
    pub docs_paths: Vec<String>,
    pub target_path: String,
    pub clean_targets: Vec<String>,
    pub packages_install_path: String,
    /// Global vars, plus per-package maps keyed by package name.
    pub vars: Map<String, Value>,
    pub models: Value,
    pub seeds: Value,
    pub snapshots: Value,
    /// `data_tests:`, or the legacy `tests:` when `data_tests:` is absent.
    #[serde(rename = "data_tests")]
    pub data_tests: Value,
    pub sources: Value,
    #[serde(rename = "unit_tests")]
    pub unit_tests: Value,
    pub exposures: Value,
    pub quoting: Map<String, Value>,
    pub dispatch: Vec<DispatchConfig>,
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    pub flags: Map<String, Value>,
    pub query_comment: Option<Value>,
    /// Keys hangar does not type, kept as written.
    pub extra: Map<String, Value>,
}

impl ProjectConfig {
    /// A config with dbt's defaults and the given name.
    pub fn with_name(name: impl Into<String>) -> Self {
        let model_paths = strings(&["models"]);
        let seed_paths = strings(&["seeds"]);
        let snapshot_paths = strings(&["snapshots"]);
        let test_paths = strings(&["tests"]);
        let analysis_paths = strings(&["analyses"]);
        let macro_paths = strings(&["macros"]);
        let docs_paths = default_docs_paths(
            &model_paths,
            &seed_paths,
            &snapshot_paths,
            &analysis_paths,
            &macro_paths,
            &test_paths,
        );
        ProjectConfig {
            file: PathBuf::from("dbt_project.yml"),
            file_checksum: String::new(),
            name: name.into(),
            version: None,
            profile: None,
            config_version: None,
            model_paths,
            seed_paths,
            snapshot_paths,
            test_paths,
            analysis_paths,
            macro_paths,
            docs_paths,
            target_path: "target".to_string(),
            clean_targets: Vec::new(),
            packages_install_path: "dbt_packages".to_string(),
            vars: Map::new(),
            models: empty_tree(),
            seeds: empty_tree(),
            snapshots: empty_tree(),
            data_tests: empty_tree(),
            sources: empty_tree(),
            unit_tests: empty_tree(),
            exposures: empty_tree(),
            quoting: Map::new(),
            dispatch: Vec::new(),
            on_run_start: Vec::new(),
            on_run_end: Vec::new(),
            flags: Map::new(),
            query_comment: None,
            extra: Map::new(),
        }
    }

    /// Vars visible to `package`: global vars overlaid with that package's map.
    pub fn vars_for_package(&self, package: &str) -> Map<String, Value> {
        let mut vars: Map<String, Value> = self
            .vars
            .iter()
            .filter(|(_, value)| !value.is_object())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(Value::Object(own)) = self.vars.get(package) {
            vars.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        vars
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn empty_tree() -> Value {
    Value::Object(Map::new())
}

fn default_docs_paths(
    lists: &[String],
    seeds: &[String],
    snapshots: &[String],
    analyses: &[String],
    macros: &[String],
    tests: &[String],
) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for path in [lists, seeds, snapshots, analyses, macros, tests]
        .into_iter()
        .flatten()
    {
        if !all.contains(path) {
            all.push(path.clone());
        }
    }
    all
}

/// Finds the project file in `dir`: `hangar_project.yml`, else `dbt_project.yml`.
pub fn find_project_file(dir: &Path) -> Option<PathBuf> {
    PROJECT_FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Reads and types the project file of `dir`. `display_dir` is how the
/// directory is shown in diagnostics (e.g. `dbt_packages/dbt_utils`).
/// `None` when the file is missing or is not valid YAML.
pub fn read_project_config(
    dir: &Path,
    display_dir: &Path,
) -> (Option<ProjectConfig>, Vec<Diagnostic>) {
    let Some(path) = find_project_file(dir) else {
        let diag = Diagnostic::error(
            codes::PROJECT_FILE_MISSING,
            format!(
                "no hangar_project.yml or dbt_project.yml in {}",
                dir.display()
            ),
        )
        .with_hint("run hangar from a project directory, or pass --project-dir");
        return (None, vec![diag]);
    };
    let file_name = path.file_name().map(PathBuf::from).unwrap_or_default();
    let display = display_dir.join(file_name);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_project_config(&display, &Arc::from(text)),
        Err(err) => {
            let diag =
                Diagnostic::error(codes::IO, format!("cannot read {}: {err}", path.display()));
            (None, vec![diag])
        }
    }
}

/// Types the text of a project file; `file` is its path as shown to the user.
pub fn parse_project_config(
    file: &Path,
    text: &Arc<str>,
) -> (Option<ProjectConfig>, Vec<Diagnostic>) {
    let value = match yaml::parse(text) {
        Ok(value) => value,
        Err(err) => return (None, vec![yaml::syntax_diagnostic(file, text, &err)]),
    };
    let Value::Object(map) = value else {
        let diag = Diagnostic::error(
            codes::CONFIG_TYPE,
            format!(
                "{} must be a mapping of keys to values, found {}",
                file.display(),
                yaml::describe(&value)
            ),
        )
        .at(file, 1, 1);
        return (None, vec![diag]);
    };
    let mut reader = FieldReader::new(file, text, codes::CONFIG_TYPE);
    let mut config = read_fields(&mut reader, &map);
    config.file_checksum = crate::files::contents_checksum(text);
    (Some(config), reader.diagnostics)
}

fn read_fields(r: &mut FieldReader, map: &Map<String, Value>) -> ProjectConfig {
    let name = r.string(map, "name", 0, "").unwrap_or_else(|| {
        let diag = Diagnostic::error(
            codes::CONFIG_TYPE,
            format!("{} has no `name`", r.file.display()),
        )
        .at(&r.file, 1, 1)
        .with_hint("add `name: my_project` at the top of the file");
        r.diagnostics.push(diag);
        String::new()
    });
    let mut c = ProjectConfig::with_name(name);
    c.file = r.file.clone();
    c.version = r.string(map, "version", 0, "");
    c.profile = r.string(map, "profile", 0, "");
    c.config_version = r.string(map, "config-version", 0, "");
    read_paths(r, map, &mut c);
    c.target_path = r.string(map, "target-path", 0, "").unwrap_or(c.target_path);
    c.clean_targets = r.string_list(map, "clean-targets", 0, "");
    c.packages_install_path = r
        .string(map, "packages-install-path", 0, "")
        .unwrap_or(c.packages_install_path);
    c.vars = r.object(map, "vars", 0, "");
    c.models = tree(r, map, "models");
    c.seeds = tree(r, map, "seeds");
    c.snapshots = tree(r, map, "snapshots");
    c.data_tests = if map.contains_key("data_tests") {
        tree(r, map, "data_tests")
    } else {
        tree(r, map, "tests")
    };
    c.sources = tree(r, map, "sources");
    c.unit_tests = tree(r, map, "unit_tests");
    c.exposures = tree(r, map, "exposures");
    c.quoting = r.object(map, "quoting", 0, "");
    c.dispatch = read_dispatch(r, map);
    c.on_run_start = r.string_list(map, "on-run-start", 0, "");
    c.on_run_end = r.string_list(map, "on-run-end", 0, "");
    c.flags = r.object(map, "flags", 0, "");
    c.query_comment = map.get("query-comment").cloned();
    c.extra = map
        .iter()
        .filter(|(key, _)| !KNOWN_KEYS.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    c
}

fn read_paths(r: &mut FieldReader, map: &Map<String, Value>, c: &mut ProjectConfig) {
    let mut paths = |key: &str, default: &mut Vec<String>| {
        if map.get(key).is_some_and(|v| !v.is_null()) {
            *default = r.strict_string_list(map, key, 0, "");
        }
    };
    paths("model-paths", &mut c.model_paths);
    paths("seed-paths", &mut c.seed_paths);
    paths("snapshot-paths", &mut c.snapshot_paths);
    paths("test-paths", &mut c.test_paths);
    paths("analysis-paths", &mut c.analysis_paths);
    paths("macro-paths", &mut c.macro_paths);
    c.docs_paths = default_docs_paths(
        &c.model_paths,
        &c.seed_paths,
        &c.snapshot_paths,
        &c.analysis_paths,
        &c.macro_paths,
        &c.test_paths,
    );
    paths("docs-paths", &mut c.docs_paths);
}

/// A config tree (`models:` …): a mapping, `{}` when absent or wrong.
fn tree(r: &mut FieldReader, map: &Map<String, Value>, key: &str) -> Value {
    Value::Object(r.object(map, key, 0, ""))
}

fn read_dispatch(r: &mut FieldReader, map: &Map<String, Value>) -> Vec<DispatchConfig> {
    let entries = r.list(map, "dispatch", 0, "");
    let mut dispatch = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Object(entry) = entry else {
            r.wrong_shape(
                0,
                "dispatch",
                "",
                "a list of {macro_namespace, search_order}",
                entry,
            );
            continue;
        };
        let Some(macro_namespace) = r.string(entry, "macro_namespace", 0, " in `dispatch`") else {
            r.wrong_shape(
                0,
                "dispatch",
                "",
                "a list of {macro_namespace, search_order}",
                &Value::Object(entry.clone()),
            );
            continue;
        };
        let search_order = r.string_list(entry, "search_order", 0, " in `dispatch`");
        dispatch.push(DispatchConfig {
            macro_namespace,
            search_order,
        });
    }
    dispatch
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diagnostic::render;

    fn parse(text: &str) -> (Option<ProjectConfig>, Vec<Diagnostic>) {
        parse_project_config(Path::new("dbt_project.yml"), &Arc::from(text))
    }

    #[test]
    fn minimal_project_gets_dbt_defaults() {
        let (config, diags) = parse("name: jaffle\n");
        assert!(diags.is_empty(), "{diags:?}");
        let mut config = config.unwrap();
        // sha256("name: jaffle"), stripped as dbt strips what it reads.
        assert_eq!(
            config.file_checksum,
            crate::files::contents_checksum("name: jaffle")
        );
        config.file_checksum.clear();
        assert_eq!(config, ProjectConfig::with_name("jaffle"));
        assert_eq!(config.model_paths, ["models"]);
        assert_eq!(
            config.docs_paths,
            [
                "models",
                "seeds",
                "snapshots",
                "analyses",
                "macros",
                "tests"
            ]
        );
        assert_eq!(config.target_path, "target");
        assert_eq!(config.packages_install_path, "dbt_packages");
    }

    #[test]
    fn full_project_is_typed() {
        let text = r#"
name: 'jaffle_shop'
version: 1.0
config-version: 2
profile: jaffle
model-paths: ["models", "more_models"]
seed-paths: [data]
clean-targets: [target, dbt_packages]
require-dbt-version: [">=1.0.0"]
vars:
  start_date: '2020-01-01'
  dbt_utils:
    surrogate_key_treat_nulls_as_empty_strings: true
models:
  jaffle_shop:
    +materialized: table
tests:
  +severity: warn
dispatch:
  - macro_namespace: dbt_utils
    search_order: [jaffle_shop, dbt_utils]
on-run-start: "create schema if not exists x"
on-run-end: ["a", "b"]
flags:
  send_anonymous_usage_stats: false
query-comment: null
semantic-models: {}
"#;
        let (config, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        let c = config.unwrap();
        assert_eq!(c.name, "jaffle_shop");
        assert_eq!(c.version.as_deref(), Some("1.0"));
        assert_eq!(c.config_version.as_deref(), Some("2"));
        assert_eq!(c.model_paths, ["models", "more_models"]);
        assert_eq!(c.seed_paths, ["data"]);
        assert_eq!(
            c.docs_paths,
            [
                "models",
                "more_models",
                "data",
                "snapshots",
                "analyses",
                "macros",
                "tests"
            ]
        );
        assert_eq!(c.models, json!({"jaffle_shop": {"+materialized": "table"}}));
        assert_eq!(c.data_tests, json!({"+severity": "warn"}));
        assert_eq!(c.dispatch[0].search_order, ["jaffle_shop", "dbt_utils"]);
        assert_eq!(c.on_run_start, ["create schema if not exists x"]);
        assert_eq!(c.on_run_end, ["a", "b"]);
        assert_eq!(c.flags["send_anonymous_usage_stats"], json!(false));
        assert_eq!(c.query_comment, Some(Value::Null));
        assert_eq!(c.extra.keys().collect::<Vec<_>>(), ["semantic-models"]);
        assert_eq!(c.vars_for_package("dbt_utils").len(), 2);
        assert_eq!(c.vars_for_package("jaffle_shop").len(), 1);
    }

    #[test]
    fn wrong_type_is_h105_with_location() {
        let (config, diags) = parse("name: x\nmodel-paths: 3\n");
        assert_eq!(config.unwrap().model_paths, Vec::<String>::new());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::CONFIG_TYPE);
        insta::assert_snapshot!(render(&diags[0], false));
    }

    #[test]
    fn missing_name_is_reported() {
        let (config, diags) = parse("version: 1\n");
        assert!(config.is_some());
        assert_eq!(diags[0].message, "dbt_project.yml has no `name`");
    }

    #[test]
    fn broken_yaml_is_h102() {
        let (config, diags) = parse("name: x\nmodels:\n  a: [\n");
        assert!(config.is_none());
        assert_eq!(diags[0].code, codes::YAML_SYNTAX);
        insta::assert_snapshot!(render(&diags[0], false));
    }

    #[test]
    fn not_a_mapping() {
        let (config, diags) = parse("- a\n- b\n");
        assert!(config.is_none());
        assert_eq!(diags[0].code, codes::CONFIG_TYPE);
    }

    #[test]
    fn missing_file_is_h101_naming_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (config, diags) = read_project_config(dir.path(), Path::new(""));
        assert!(config.is_none());
        assert_eq!(diags[0].code, codes::PROJECT_FILE_MISSING);
        assert!(diags[0].message.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn hangar_project_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dbt_project.yml"), "name: dbt\n").unwrap();
        std::fs::write(dir.path().join("hangar_project.yml"), "name: hangar\n").unwrap();
        let (config, _) = read_project_config(dir.path(), Path::new(""));
        let config = config.unwrap();
        assert_eq!(config.name, "hangar");
        assert_eq!(config.file, Path::new("hangar_project.yml"));
    }
}

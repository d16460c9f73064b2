//! Data-driven render tests: each `templates/*.sql` file holds sections
//! (`--- options`, `--- macro <path>`, `--- model`) and is rendered for each
//! adapter listed; the output (or the diagnostic) is snapshotted.

use std::fmt::Write;
use std::sync::Arc;

use hangar_jinja::{
    AdapterHandle, Jinja, JinjaConfig, MacroSource, NodeInput, Phase, QueryResult, Relation,
    Resolver,
};
use hangar_project::diagnostic::Diagnostic;
use serde_json::json;

struct FakeResolver {
    adapter: String,
}

impl FakeResolver {
    fn relation(&self, db: &str, schema: &str, ident: &str) -> Relation {
        let mut r = Relation::new(Some(db), schema, ident);
        r.quote_policy = Relation::default_quote_policy(&self.adapter);
        r
    }
}

impl Resolver for FakeResolver {
    fn resolve_ref(
        &self,
        package: Option<&str>,
        name: &str,
        version: Option<&str>,
    ) -> Result<Relation, String> {
        if name == "missing" {
            return Err(format!("model `{name}` was not found"));
        }
        let schema = package.unwrap_or("main");
        let ident = match version {
            Some(v) => format!("{name}_v{v}"),
            None => name.to_string(),
        };
        Ok(self.relation("db", schema, &ident).with_kind("table"))
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String> {
        Ok(self.relation("raw_db", source, table))
    }

    fn doc(&self, _package: Option<&str>, name: &str) -> Option<String> {
        (name != "missing").then(|| format!("docs for {name}"))
    }

    fn graph(&self) -> serde_json::Value {
        json!({"nodes": {"model.proj.a": {"name": "a"}}})
    }
}

struct FakeAdapter;

impl AdapterHandle for FakeAdapter {
    fn adapter_type(&self) -> &str {
        "duckdb"
    }
    fn quote(&self, identifier: &str) -> String {
        format!("\"{identifier}\"")
    }
    fn execute(&self, sql: &str, fetch: bool) -> Result<QueryResult, String> {
        if sql.contains("boom") {
            return Err("Catalog Error: table boom does not exist".into());
        }
        Ok(QueryResult {
            columns: vec!["id".into(), "name".into()],
            column_types: vec!["INTEGER".into(), "VARCHAR".into()],
            rows: if fetch {
                vec![vec![json!(1), json!("a")], vec![json!(2), json!("b")]]
            } else {
                vec![]
            },
            rows_affected: Some(2),
            message: "SELECT 2".into(),
        })
    }
    fn get_relation(
        &self,
        database: Option<&str>,
        schema: &str,
        identifier: &str,
    ) -> Result<Option<Relation>, String> {
        Ok((identifier == "exists")
            .then(|| Relation::new(database, schema, identifier).with_kind("view")))
    }
    fn get_columns(&self, _relation: &Relation) -> Result<Vec<(String, String)>, String> {
        Ok(vec![
            ("id".into(), "INTEGER".into()),
            ("name".into(), "VARCHAR".into()),
        ])
    }
    fn list_relations(
        &self,
        database: Option<&str>,
        schema: &str,
    ) -> Result<Vec<Relation>, String> {
        Ok(vec![
            Relation::new(database, schema, "a").with_kind("table"),
            Relation::new(database, schema, "b").with_kind("view"),
        ])
    }
}

/// A parsed test file.
struct Case {
    options: serde_json::Map<String, serde_json::Value>,
    macros: Vec<MacroSource>,
    model: String,
}

fn parse_case(text: &str) -> Case {
    let mut options = serde_json::Map::new();
    let mut macros = Vec::new();
    let mut model = String::new();
    for section in text.split("\n--- ").map(|s| s.trim_start_matches("--- ")) {
        let (header, body) = section.split_once('\n').unwrap_or((section, ""));
        let header = header.trim();
        if header == "options" {
            options = serde_json::from_str(body).expect("options are JSON");
        } else if let Some(path) = header.strip_prefix("macro ") {
            let (package, path) = path.split_once(':').unwrap_or(("proj", path));
            macros.push(MacroSource {
                package: package.to_string(),
                path: path.to_string(),
                contents: Arc::from(body),
            });
        } else if header == "model" {
            model = body.to_string();
        }
    }
    Case {
        options,
        macros,
        model,
    }
}

fn opt_map(case: &Case, key: &str) -> serde_json::Map<String, serde_json::Value> {
    case.options
        .get(key)
        .and_then(|v| v.as_object())
        .cloned()
        .unwrap_or_default()
}

fn config_for(case: &Case, adapter: &str) -> JinjaConfig {
    let mut package_vars = std::collections::BTreeMap::new();
    for (k, v) in opt_map(case, "package_vars") {
        package_vars.insert(k, v.as_object().cloned().unwrap_or_default());
    }
    JinjaConfig {
        root_package: "proj".into(),
        adapter_type: adapter.into(),
        dispatch: opt_map(case, "dispatch")
            .into_iter()
            .map(|(k, v)| {
                let order = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                (k, order)
            })
            .collect(),
        target: json!({"name": "dev", "schema": "analytics", "database": "warehouse", "type": adapter, "threads": 4}),
        project_vars: opt_map(case, "project_vars"),
        package_vars,
        cli_vars: opt_map(case, "cli_vars"),
        invocation_id: "00000000-0000-0000-0000-000000000000".into(),
        run_started_at: chrono::DateTime::parse_from_rfc3339("2026-11-22T01:02:03.456789Z")
            .expect("valid date")
            .with_timezone(&chrono::Utc),
        flags: serde_json::Map::new(),
    }
}

fn format_diagnostic(d: &Diagnostic) -> String {
    let mut out = format!("error[{}]: {}\n", d.code, d.message);
    if let Some(loc) = &d.location {
        let _ = writeln!(
            out,
            "  at {}:{}:{}",
            loc.file.display(),
            loc.line,
            loc.column
        );
    }
    for note in &d.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

fn run_case(text: &str) -> String {
    let case = parse_case(text);
    let adapters: Vec<String> = case
        .options
        .get("adapters")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| vec!["duckdb".into()]);
    let phase = match case.options.get("phase").and_then(|v| v.as_str()) {
        Some("parse") => Phase::Parse,
        Some("run") => Phase::Run,
        _ => Phase::Compile,
    };
    let mut out = String::new();
    for adapter in &adapters {
        let (jinja, diagnostics) = Jinja::new(config_for(&case, adapter), case.macros.clone());
        let _ = writeln!(out, "== {adapter} ==");
        for d in &diagnostics {
            out.push_str(&format_diagnostic(d));
        }
        let resolver = FakeResolver {
            adapter: adapter.clone(),
        };
        let test_kwargs: Option<Vec<(String, serde_json::Value)>> = case
            .options
            .get("test_kwargs")
            .and_then(|v| v.as_object())
            .map(|m| m.clone().into_iter().collect());
        let mut node: NodeInput<'_> =
            NodeInput::new(phase, "proj", "models/my_model.sql", &case.model);
        node.generic_test_kwargs = test_kwargs.as_deref();
        node.unique_id = "model.proj.my_model".into();
        node.name = "my_model".into();
        node.resource_type = "model".into();
        node.config = std::sync::Arc::new(opt_map(&case, "node_config"));
        node.extra = opt_map(&case, "extra");
        node.model = hangar_jinja::ModelContext::Json(
            json!({"name": "my_model", "unique_id": "model.proj.my_model", "version": case.options.get("version")}),
        );
        node.is_incremental = case.options.get("is_incremental").is_some();
        node.this = Some(resolver.relation("db", "analytics", "my_model"));
        let adapter_handle: Option<&dyn AdapterHandle> =
            (phase != Phase::Parse).then_some(&FakeAdapter as &dyn AdapterHandle);
        match jinja.render_node(&node, &resolver, adapter_handle) {
            Ok(o) => {
                out.push_str(o.sql.trim_end());
                out.push('\n');
                if !o.refs.is_empty() {
                    let _ = writeln!(out, "-- refs: {:?}", o.refs);
                }
                if !o.sources.is_empty() {
                    let _ = writeln!(out, "-- sources: {:?}", o.sources);
                }
                if !o.config.is_empty() {
                    let _ = writeln!(out, "-- config: {}", serde_json::Value::Object(o.config));
                }
                for l in &o.logs {
                    let _ = writeln!(out, "-- log(info={}): {}", l.info, l.message);
                }
                for w in &o.warnings {
                    let _ = writeln!(out, "-- warning: {}", w.message);
                }
            }
            Err(d) => out.push_str(&format_diagnostic(&d)),
        }
    }
    out
}

#[test]
fn templates() {
    insta::glob!("templates/*.sql", |path| {
        let text = std::fs::read_to_string(path).expect("readable test file");
        insta::assert_snapshot!(run_case(&text));
    });
}

#[test]
fn call_macro_uses_project_override() {
    let case = parse_case(
        "--- macro macros/schema.sql\n{% macro generate_schema_name(custom, node) %}{{ custom or 'x' }}_custom{% endmacro %}\n",
    );
    let (jinja, diags) = Jinja::new(config_for(&case, "duckdb"), case.macros.clone());
    assert!(diags.is_empty());
    let node = NodeInput::new(Phase::Parse, "proj", "models/a.sql", "");
    let resolver = FakeResolver {
        adapter: "duckdb".into(),
    };
    let v = jinja
        .call_macro(
            "generate_schema_name",
            vec![json!("sales"), json!({"name": "a"})],
            Default::default(),
            &node,
            &resolver,
            None,
        )
        .expect("macro runs");
    assert_eq!(v, json!("sales_custom"));
    let builtin = jinja
        .call_macro(
            "dbt.generate_schema_name",
            vec![json!("sales"), json!(null)],
            Default::default(),
            &node,
            &resolver,
            None,
        )
        .expect("builtin runs");
    assert_eq!(builtin, json!("analytics_sales"));
    let alias = jinja
        .call_macro(
            "generate_alias_name",
            vec![json!(null), json!({"name": "orders", "version": 2})],
            Default::default(),
            &node,
            &resolver,
            None,
        )
        .expect("builtin runs");
    assert_eq!(alias, json!("orders_v2"));
}

#[test]
fn macros_are_listed_with_dependencies() {
    let (jinja, _) = Jinja::new(JinjaConfig::default(), vec![]);
    let hash = jinja
        .macros()
        .iter()
        .find(|m| m.unique_id == "macro.dbt.default__hash")
        .expect("builtin hash");
    assert_eq!(hash.arguments, ["field"]);
    assert_eq!(hash.depends_on, ["macro.dbt.type_string"]);
    assert!(hash.macro_sql.starts_with("{% macro default__hash(field)"));
}

#[test]
fn env_strings_render_env_var() {
    assert_eq!(
        Jinja::render_env_string("{{ env_var('HANGAR_SURELY_UNSET', 'dflt') }}"),
        Ok("dflt".to_string())
    );
    assert_eq!(
        Jinja::render_env_string("{{ env_var('HANGAR_SURELY_UNSET') }}"),
        Err("Env var required but not provided: 'HANGAR_SURELY_UNSET'".to_string())
    );
}

#[test]
fn renders_many_models_quickly() {
    let case = parse_case(
        "--- macro macros/c.sql\n{% macro cents(col) %}({{ col }} / 100)::numeric(16, 2){% endmacro %}\n",
    );
    let (jinja, _) = Jinja::new(config_for(&case, "duckdb"), case.macros.clone());
    let resolver = FakeResolver {
        adapter: "duckdb".into(),
    };
    let node = NodeInput::new(
        Phase::Parse,
        "proj",
        "models/m.sql",
        "{{ config(materialized='table') }}select {{ cents('amount') }}, {{ dbt.hash('id') }} from {{ ref('orders') }}",
    );
    let start = std::time::Instant::now();
    for _ in 0..2000 {
        jinja.render_node(&node, &resolver, None).expect("renders");
    }
    eprintln!("2000 renders: {:?}", start.elapsed());
    // Debug build, single thread: a loose bound that still catches
    // per-render environment building or recompiling macro files.
    assert!(
        start.elapsed().as_secs_f64() < 10.0,
        "{:?}",
        start.elapsed()
    );
}

/// `get_where_subquery` is answered without Jinja when dbt's builtin would
/// run and the test has no `where`; the answer must be what the macro gives.
/// A root-project copy of the builtin `default__get_where_subquery` makes
/// the same render go through Jinja.
#[test]
fn builtin_where_subquery_shortcut_matches_the_macro() {
    let builtin_body = include_str!("../builtins/tests.sql");
    let start = builtin_body
        .find("{% macro default__get_where_subquery")
        .expect("the builtin is defined");
    let copy = &builtin_body[start..];
    let model = "{{ test_show(**_dbt_generic_test_kwargs) }}";
    let show = "{% test show(model, column_name, to) %}\nselect {{ column_name }} from {{ model }}, {{ to }}\n{% endtest %}";
    let kwargs: Vec<(String, serde_json::Value)> = vec![
        ("column_name".into(), json!("id")),
        (
            "model".into(),
            json!("{{ get_where_subquery(ref('orders')) }}"),
        ),
        (
            "to".into(),
            json!("{{ get_where_subquery(source('raw', 'customers')) }}"),
        ),
    ];
    let render = |macros: Vec<MacroSource>, where_config: Option<&str>, phase: Phase| {
        let case = parse_case("--- model\n");
        let (jinja, diagnostics) = Jinja::new(config_for(&case, "duckdb"), macros);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let resolver = FakeResolver {
            adapter: "duckdb".into(),
        };
        let mut node = NodeInput::new(phase, "proj", "models/schema.yml", model);
        node.generic_test_kwargs = Some(&kwargs);
        node.resource_type = "test".into();
        if let Some(w) = where_config {
            let mut config = serde_json::Map::new();
            config.insert("where".into(), json!(w));
            node.config = Arc::new(config);
        }
        let out = jinja
            .render_node(&node, &resolver, None)
            .expect("the test renders");
        (out.sql, out.macros_called)
    };
    let macro_source = |path: &str, text: &str| MacroSource {
        package: "proj".into(),
        path: path.into(),
        contents: Arc::from(text),
    };
    let shortcut = vec![macro_source("macros/show.sql", show)];
    let through_jinja = vec![
        macro_source("macros/show.sql", show),
        macro_source("macros/where.sql", copy),
    ];
    for phase in [Phase::Parse, Phase::Compile] {
        for where_config in [None, Some(""), Some("id > 0")] {
            let fast = render(shortcut.clone(), where_config, phase);
            let slow = render(through_jinja.clone(), where_config, phase);
            assert_eq!(fast, slow, "where = {where_config:?}, {phase:?}");
            assert!(
                fast.1.iter().any(|m| m == "macro.dbt.get_where_subquery"),
                "{:?}",
                fast.1
            );
        }
    }
    let filtered = render(shortcut, Some("id > 0"), Phase::Compile).0;
    assert!(
        filtered.contains("where id > 0) dbt_subquery"),
        "{filtered}"
    );
}

//! hangar_jinja: the minijinja environment that renders dbt Jinja.
//!
//! **Invariant**: this crate never talks to a warehouse or walks the graph on
//! its own. Warehouse access goes through [`AdapterHandle`], `ref`/`source`
//! resolution through [`Resolver`], both supplied by the engine per render.
//!
//! Shape: [`Jinja::new`] pre-processes every macro file once (dbt-isms such as
//! `{% test %}` blocks, mutable list literals), compiles it into one shared
//! `minijinja::Environment`, and indexes the macros by package. Each render
//! builds a small per-render context object (`context::Ctx`) whose lookups
//! fall back to macro resolution, so no environment is built per render.

// `Diagnostic` is the workspace-wide error type; boxing it is the lead's call.
#![allow(clippy::result_large_err)]

mod builtin_tests;
mod constant_macros;
mod context;
mod errors;
mod expressions;
mod macros;
mod modules;
mod mutable;
mod operators;
mod preprocess;
mod printf;
mod registry;
mod relation;
mod table;
mod test_kwargs;
// The integration tests' shared helpers, for unit tests too (they name the
// crate `hangar_jinja`).
#[cfg(test)]
extern crate self as hangar_jinja;
#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod test_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use hangar_project::diagnostic::Diagnostic;

pub use printf::py_str_repr;
pub use relation::{Policy, Relation};

/// One macro file of some package.
#[derive(Debug, Clone)]
pub struct MacroSource {
    pub package: String,
    /// original_file_path, e.g. `macros/cents.sql`.
    pub path: String,
    pub contents: Arc<str>,
}

/// Everything constant for one invocation.
#[derive(Debug, Clone)]
pub struct JinjaConfig {
    pub root_package: String,
    /// "duckdb" | "postgres" | "snowflake"
    pub adapter_type: String,
    /// (macro_namespace, search_order) from the project's `dispatch:`.
    pub dispatch: Vec<(String, Vec<String>)>,
    /// The `target` context (secrets already removed).
    pub target: serde_json::Value,
    pub project_vars: serde_json::Map<String, serde_json::Value>,
    pub package_vars: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    pub cli_vars: serde_json::Map<String, serde_json::Value>,
    pub invocation_id: String,
    pub run_started_at: chrono::DateTime<chrono::Utc>,
    pub flags: serde_json::Map<String, serde_json::Value>,
}

impl Default for JinjaConfig {
    fn default() -> Self {
        JinjaConfig {
            root_package: "root".into(),
            adapter_type: "duckdb".into(),
            dispatch: Vec::new(),
            target: serde_json::Value::Object(Default::default()),
            project_vars: Default::default(),
            package_vars: Default::default(),
            cli_vars: Default::default(),
            invocation_id: String::new(),
            run_started_at: chrono::Utc::now(),
            flags: Default::default(),
        }
    }
}

/// A macro known to the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroInfo {
    /// `macro.<package>.<name>`
    pub unique_id: String,
    pub package: String,
    pub name: String,
    pub path: String,
    pub arguments: Vec<String>,
    pub macro_sql: String,
    /// Macro unique ids it calls (static scan, best effort).
    pub depends_on: Vec<String>,
}

/// Which dbt phase a render belongs to; `execute` is false in `Parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Parse,
    Compile,
    Run,
}

/// The node as a dict, exposed as `model`.
#[derive(Clone)]
pub enum ModelContext<'m> {
    Json(serde_json::Value),
    /// Built the first time a render reads `model`: most templates never do,
    /// and building it for each of 40,000 nodes showed in profiles.
    Lazy(&'m dyn ModelSource),
}

/// What a lazy [`ModelContext`] is built from (the engine's node).
pub trait ModelSource: Sync {
    fn model_json(&self) -> serde_json::Value;
}

impl ModelContext<'_> {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ModelContext::Json(value) => value.clone(),
            ModelContext::Lazy(source) => source.model_json(),
        }
    }
}

impl std::fmt::Debug for ModelContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelContext::Json(value) => value.fmt(f),
            ModelContext::Lazy(_) => f.write_str("<built when read>"),
        }
    }
}

/// The node being rendered and what the context needs to know about it.
#[derive(Debug, Clone)]
pub struct NodeInput<'m> {
    pub phase: Phase,
    pub unique_id: String,
    pub package: String,
    pub name: String,
    pub resource_type: String,
    /// original_file_path, used in errors.
    pub path: String,
    pub sql: Arc<str>,
    /// Config so far: defaults + project + yaml.
    pub config: Arc<serde_json::Map<String, serde_json::Value>>,
    pub this: Option<Relation>,
    pub is_incremental: bool,
    /// The node as a dict, exposed as `model`.
    pub model: ModelContext<'m>,
    /// Extra context variables, e.g. test kwargs.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Values a unit test puts in place of macros, vars and env vars.
    pub overrides: Overrides,
    /// A generic test's `test_metadata.kwargs`, evaluated into
    /// `_dbt_generic_test_kwargs` before its template renders; sorted by
    /// name, as the manifest lists them.
    pub generic_test_kwargs: Option<&'m [(String, serde_json::Value)]>,
}

/// A unit test's `overrides:`: each macro named here returns its value
/// instead of running; vars and env vars take precedence over every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub macros: serde_json::Map<String, serde_json::Value>,
    pub vars: serde_json::Map<String, serde_json::Value>,
    pub env_vars: serde_json::Map<String, serde_json::Value>,
}

impl NodeInput<'_> {
    /// A minimal node context, handy for hooks and `call_macro`.
    pub fn new(phase: Phase, package: &str, path: &str, sql: &str) -> NodeInput<'static> {
        NodeInput {
            phase,
            unique_id: String::new(),
            package: package.to_string(),
            name: String::new(),
            resource_type: "operation".into(),
            path: path.to_string(),
            sql: Arc::from(sql),
            config: Default::default(),
            this: None,
            is_incremental: false,
            model: ModelContext::Json(serde_json::Value::Null),
            extra: Default::default(),
            overrides: Overrides::default(),
            generic_test_kwargs: None,
        }
    }
}

/// Answers `ref`, `source`, `doc` and `graph`; provided by the engine.
pub trait Resolver: Send + Sync {
    fn resolve_ref(
        &self,
        package: Option<&str>,
        name: &str,
        version: Option<&str>,
    ) -> Result<Relation, String>;
    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String>;
    fn doc(&self, package: Option<&str>, name: &str) -> Option<String>;
    /// The `graph` context variable.
    fn graph(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Result of one statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub rows_affected: Option<u64>,
    pub message: String,
}

/// The warehouse, as seen from Jinja; only used in Compile/Run phases.
pub trait AdapterHandle: Send + Sync {
    fn adapter_type(&self) -> &str;
    fn quote(&self, identifier: &str) -> String;
    fn execute(&self, sql: &str, fetch: bool) -> Result<QueryResult, String>;
    fn get_relation(
        &self,
        database: Option<&str>,
        schema: &str,
        identifier: &str,
    ) -> Result<Option<Relation>, String>;
    /// (name, data_type)
    fn get_columns(&self, relation: &Relation) -> Result<Vec<(String, String)>, String>;
    fn list_relations(&self, database: Option<&str>, schema: &str)
    -> Result<Vec<Relation>, String>;
}

/// One `ref(...)` call seen while rendering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefCall {
    pub package: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// 1-based line in the node's file where the ref appears (0 = unknown).
    pub line: usize,
}

/// A message from `log()` / `print()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `log(msg, info=True)` or `print(msg)`: shown to the user by default.
    pub info: bool,
    pub message: String,
}

/// What one render produced.
#[derive(Debug, Clone, Default)]
pub struct RenderOutput {
    pub sql: String,
    pub refs: Vec<RefCall>,
    pub sources: Vec<(String, String)>,
    /// Merged `config()` calls, in call order.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Macro unique ids called during the render.
    /// Macros the template called itself, in the order first called.
    pub macros_called: Vec<String>,
    pub logs: Vec<LogLine>,
    /// `exceptions.warn(...)` calls.
    pub warnings: Vec<Diagnostic>,
}

/// The shared, immutable Jinja environment. `Send + Sync`.
pub struct Jinja {
    registry: Arc<registry::Registry>,
}

impl Jinja {
    /// Builds the environment from the project's and packages' macro files
    /// plus the builtin macros (package `dbt`). Broken macro files are
    /// reported as diagnostics and left out.
    pub fn new(config: JinjaConfig, macros: Vec<MacroSource>) -> (Jinja, Vec<Diagnostic>) {
        let (registry, diagnostics) = registry::Registry::build(config, macros);
        (
            Jinja {
                registry: Arc::new(registry),
            },
            diagnostics,
        )
    }

    /// All macros, builtins included, sorted by unique id.
    pub fn macros(&self) -> &[MacroInfo] {
        &self.registry.infos
    }

    /// Renders a node's SQL (model, test, snapshot, analysis…).
    pub fn render_node(
        &self,
        input: &NodeInput,
        resolver: &dyn Resolver,
        adapter: Option<&dyn AdapterHandle>,
    ) -> Result<RenderOutput, Diagnostic> {
        context::render_template(&self.registry, &input.sql, input, resolver, adapter)
    }

    /// Renders a free-standing string (hooks, on-run-start) in a node's context.
    pub fn render_string(
        &self,
        template: &str,
        ctx: &NodeInput,
        resolver: &dyn Resolver,
        adapter: Option<&dyn AdapterHandle>,
    ) -> Result<String, Diagnostic> {
        context::render_template(&self.registry, template, ctx, resolver, adapter).map(|o| o.sql)
    }

    /// Calls a macro by name (resolved from `ctx.package`, then the root
    /// project, then builtins; `pkg.name` selects a package) and returns its
    /// value: its `return(...)` value, or its rendered text as a string.
    pub fn call_macro(
        &self,
        name: &str,
        args: Vec<serde_json::Value>,
        kwargs: serde_json::Map<String, serde_json::Value>,
        ctx: &NodeInput,
        resolver: &dyn Resolver,
        adapter: Option<&dyn AdapterHandle>,
    ) -> Result<serde_json::Value, Diagnostic> {
        context::call_macro(&self.registry, name, args, kwargs, ctx, resolver, adapter)
    }

    /// The unique id of the macro `name` as called from `package`
    /// (`macro.<package>.<name>`), or from `namespace` when given.
    pub fn macro_unique_id(
        &self,
        package: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<String> {
        match namespace {
            Some(ns) => self.registry.lookup_in(ns, name),
            None => self.registry.lookup(package, name),
        }
        .map(|entry| entry.unique_id.clone())
    }

    /// True when calling `name` from `package` would run only hangar's builtin
    /// (no project or package overrides it or its dispatched forms), so the
    /// engine may compute the same result natively.
    pub fn is_builtin_only(&self, package: &str, name: &str) -> bool {
        self.registry.is_builtin_only(package, name)
    }

    /// Renders a `profiles.yml` / `dbt_project.yml` string: only `env_var()`
    /// is available.
    pub fn render_env_string(template: &str) -> Result<String, String> {
        context::render_env_string(template)
    }

    /// Renders a project-file `vars:` value: `env_var()` and `target` are
    /// available, as in dbt (vars cannot refer to each other there).
    pub fn render_project_var(
        template: &str,
        target: &serde_json::Value,
    ) -> Result<String, String> {
        context::render_env_string_in(
            template,
            minijinja::context! { target => context::ser(target) },
        )
    }
}

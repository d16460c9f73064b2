//! The per-render context: `ref`, `source`, `config`, `var`, `adapter`, …
//!
//! A render builds one [`Render`] (node, resolver, adapter, and what the
//! render records) and exposes it through [`Ctx`], the root context object.
//! Unknown names fall back to macro lookup, so macro files stay compiled
//! once in the shared environment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use hangar_project::diagnostic::{Diagnostic, codes};
use minijinja::value::{Enumerator, Kwargs, Object, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::macros::{MacroRef, PackageNamespace, call_entry};
use crate::modules::{DateTime, Modules};
use crate::registry::Registry;
use crate::relation::{Relation, RelationObject, create_relation};
use crate::table::{Table, load_result_value};
use crate::{
    AdapterHandle, LogLine, NodeInput, Phase, QueryResult, RefCall, RenderOutput, Resolver, errors,
    mutable, preprocess,
};

/// Detail of the error `return()` raises to unwind to its macro.
pub(crate) const RETURN_SENTINEL: &str = "__hangar_return__";
/// Macro nesting limit; every macro call starts a new minijinja state, so
/// minijinja's own recursion limit does not apply across calls.
pub(crate) const MAX_MACRO_DEPTH: usize = 100;
pub(crate) const MAX_DEPTH_MESSAGE: &str = "macro calls nested too deeply (recursion?)";
const DBT_VERSION: &str = "1.11.0";

/// Borrowed inputs of one render. The references are only valid while the
/// render runs; [`Render::detach`] drops them before the borrow ends.
struct Borrowed {
    node: &'static NodeInput<'static>,
    resolver: &'static dyn Resolver,
    adapter: Option<&'static dyn AdapterHandle>,
}

/// One frame of a failing macro call chain, innermost first.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub macro_name: String,
    /// Template name where the error (or the nested call) happened.
    pub template: Option<String>,
    pub line: Option<usize>,
}

/// What a render records as it goes.
#[derive(Default)]
pub(crate) struct Record {
    pub refs: Vec<RefCall>,
    pub sources: Vec<(String, String)>,
    pub config: serde_json::Map<String, serde_json::Value>,
    pub macros_called: Vec<String>,
    pub results: HashMap<String, QueryResult>,
    pub return_slot: Option<Value>,
    pub trace: Vec<Frame>,
    /// Set by functions that fail with a specific diagnostic code.
    pub failure: Option<(&'static str, String)>,
    pub logs: Vec<LogLine>,
    pub warnings: Vec<Diagnostic>,
    pub depth: usize,
}

impl Record {
    /// Notes a call of the macro `id`. As in dbt, a node depends on the
    /// macros it calls itself (depth 0), in the order first called, not on
    /// those they call in turn.
    pub fn called_macro(&mut self, id: &str) {
        if self.depth == 0 && !self.macros_called.iter().any(|m| m == id) {
            self.macros_called.push(id.to_string());
        }
    }
}

pub(crate) struct Render {
    pub reg: Arc<Registry>,
    pub phase: Phase,
    /// A unit test overrides macros: every name lookup checks them first.
    has_macro_overrides: bool,
    borrowed: RwLock<Option<Borrowed>>,
    /// `model`, converted once per render when first read.
    model: std::sync::OnceLock<Value>,
    /// A generic test's `_dbt_generic_test_kwargs`, set before it renders.
    test_kwargs: std::sync::OnceLock<Value>,
    pub record: Mutex<Record>,
}

impl std::fmt::Debug for Render {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Render")
    }
}

impl Render {
    fn new(
        reg: &Arc<Registry>,
        node: &NodeInput,
        resolver: &dyn Resolver,
        adapter: Option<&dyn AdapterHandle>,
    ) -> Arc<Render> {
        // SAFETY: the 'static references never leave `borrowed`; callers
        // reach them only through `with_*` while holding the read lock, and
        // `detach` (called before the public entry points return) clears
        // them under the write lock. Values that outlive the render (none
        // should) then see a "render has ended" error instead.
        let borrowed = unsafe {
            Borrowed {
                node: std::mem::transmute::<&NodeInput<'_>, &'static NodeInput<'static>>(node),
                resolver: std::mem::transmute::<&dyn Resolver, &'static dyn Resolver>(resolver),
                adapter: adapter.map(|a| {
                    std::mem::transmute::<&dyn AdapterHandle, &'static dyn AdapterHandle>(a)
                }),
            }
        };
        Arc::new(Render {
            reg: reg.clone(),
            phase: node.phase,
            has_macro_overrides: !node.overrides.macros.is_empty(),
            borrowed: RwLock::new(Some(borrowed)),
            model: std::sync::OnceLock::new(),
            test_kwargs: std::sync::OnceLock::new(),
            record: Mutex::new(Record::default()),
        })
    }

    fn detach(&self) {
        let mut guard = self.borrowed.write().unwrap_or_else(|e| e.into_inner());
        *guard = None;
    }

    fn with_borrowed<R>(&self, f: impl FnOnce(&Borrowed) -> R) -> Result<R, Error> {
        let guard = self.borrowed.read().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(b) => Ok(f(b)),
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                "the render has ended",
            )),
        }
    }

    pub fn with_node<R>(&self, f: impl FnOnce(&NodeInput) -> R) -> Result<R, Error> {
        self.with_borrowed(|b| f(b.node))
    }

    pub fn with_resolver<R>(&self, f: impl FnOnce(&dyn Resolver) -> R) -> Result<R, Error> {
        self.with_borrowed(|b| f(b.resolver))
    }

    /// Runs `f` with the adapter, or fails when none was provided.
    pub fn with_adapter<R>(
        &self,
        what: &str,
        f: impl FnOnce(&dyn AdapterHandle) -> R,
    ) -> Result<R, Error> {
        let adapter = self.with_borrowed(|b| b.adapter)?;
        match adapter {
            Some(a) => Ok(f(a)),
            None => Err(self.fail(
                codes::DATABASE,
                format!("`{what}` needs a database connection, but none is open in this phase"),
            )),
        }
    }

    pub fn has_adapter(&self) -> bool {
        self.with_borrowed(|b| b.adapter.is_some()).unwrap_or(false)
    }

    pub fn execute(&self) -> bool {
        self.phase != Phase::Parse
    }

    pub fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers a diagnostic code for the error being raised.
    pub fn fail(&self, code: &'static str, message: impl Into<String>) -> Error {
        let message = message.into();
        self.record().failure = Some((code, message.clone()));
        Error::new(ErrorKind::InvalidOperation, message)
    }

    /// Whether names resolve as the builtins expect: no unit-test macro
    /// override and no extra context entry could shadow one. Calls hangar
    /// answers without Jinja require it.
    pub fn names_are_plain(&self) -> bool {
        !self.has_macro_overrides && self.with_node(|n| n.extra.is_empty()).unwrap_or(false)
    }

    /// Records a call of `unique_id` answered without Jinja as `call_entry`
    /// records it. False, recording nothing, when the `nested` calls Jinja
    /// makes below it could reach the depth limit: Jinja then runs and
    /// reports it.
    pub fn record_native_call(&self, unique_id: &str, nested: usize) -> bool {
        let mut record = self.record();
        if record.depth + nested + 1 > MAX_MACRO_DEPTH {
            return false;
        }
        record.called_macro(unique_id);
        true
    }

    /// What `config.get(key)` finds at execution: the value a `config()`
    /// call in this render set, else the node's config.
    pub fn config_value(&self, key: &str) -> Result<Option<serde_json::Value>, Error> {
        if let Some(v) = self.record().config.get(key) {
            return Ok(Some(v.clone()));
        }
        self.with_node(|n| n.config.get(key).cloned())
    }

    pub fn node_package(&self) -> String {
        self.with_node(|n| n.package.clone()).unwrap_or_default()
    }
}

/// Splits minijinja call arguments into positional ones and keyword ones.
pub(crate) fn split_args(args: &[Value]) -> (Vec<Value>, Vec<(String, Value)>) {
    match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => {
            let mut kwargs = Vec::new();
            if let Ok(keys) = last.try_iter() {
                for key in keys {
                    let value = last.get_item(&key).unwrap_or_default();
                    kwargs.push((key.as_str().unwrap_or_default().to_string(), value));
                }
            }
            (rest.to_vec(), kwargs)
        }
        _ => (args.to_vec(), Vec::new()),
    }
}

/// Argument `name` by keyword or at position `idx`.
pub(crate) fn arg(
    positional: &[Value],
    kwargs: &[(String, Value)],
    name: &str,
    idx: usize,
) -> Option<Value> {
    kwargs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| positional.get(idx).cloned())
        .filter(|v| !v.is_undefined())
}

fn str_arg(v: &Option<Value>) -> Option<String> {
    v.as_ref().filter(|v| !v.is_none()).map(|v| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    })
}

pub(crate) fn json_to_value(v: &serde_json::Value) -> Value {
    crate::context::ser(v)
}

/// The root context object of a render.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub render: Arc<Render>,
    /// Package whose code is running: macro lookups start here.
    pub package: String,
}

impl Ctx {
    pub fn value(render: &Arc<Render>, package: &str) -> Value {
        Value::from_object(Ctx {
            render: render.clone(),
            package: package.to_string(),
        })
    }

    fn func(&self, kind: FuncKind) -> Value {
        Value::from_object(Func {
            render: self.render.clone(),
            kind,
        })
    }

    /// A unit test's macro override: a callable that returns the given value.
    fn overridden_macro(&self, key: &str) -> Option<Value> {
        if !self.render.has_macro_overrides {
            return None;
        }
        let value = self
            .render
            .with_node(|n| n.overrides.macros.get(key).map(json_to_value))
            .ok()
            .flatten()?;
        Some(Value::from_function(
            move |_args: minijinja::value::Rest<Value>| value.clone(),
        ))
    }

    fn node_value(&self, key: &str) -> Option<Value> {
        if key == "_dbt_generic_test_kwargs"
            && let Some(kwargs) = self.render.test_kwargs.get()
        {
            return Some(kwargs.clone());
        }
        self.render
            .with_node(|n| match key {
                "this" => n.this.clone().map(RelationObject::value),
                "model" => Some(
                    self.render
                        .model
                        .get_or_init(|| json_to_value(&n.model.to_json()))
                        .clone(),
                ),
                "is_incremental_flag" => Some(Value::from(n.is_incremental)),
                _ => n.extra.get(key).map(json_to_value),
            })
            .ok()
            .flatten()
    }
}

impl Object for Ctx {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        if let Some(v) = self.overridden_macro(key) {
            return Some(v);
        }
        if let Some(v) = self
            .node_value(key)
            .filter(|_| key != "this" && key != "model")
        {
            return Some(v);
        }
        let reg = &self.render.reg;
        let v = match key {
            "ref" => self.func(FuncKind::Ref),
            "source" => self.func(FuncKind::Source),
            "config" => self.func(FuncKind::Config),
            "var" => self.func(FuncKind::Var),
            "env_var" => self.func(FuncKind::EnvVar),
            "is_incremental" => self.func(FuncKind::IsIncremental),
            "log" => self.func(FuncKind::Log),
            "print" => self.func(FuncKind::Print),
            "return" => self.func(FuncKind::Return),
            "run_query" => self.func(FuncKind::RunQuery),
            "statement" => self.func(FuncKind::Statement),
            "load_result" => self.func(FuncKind::LoadResult),
            "doc" => self.func(FuncKind::Doc),
            "exceptions" => self.func(FuncKind::Exceptions),
            "adapter" => Value::from_object(crate::macros::AdapterObject {
                render: self.render.clone(),
                package: self.package.clone(),
            }),
            "api" => Value::from_object(Api(self.render.clone())),
            "this" | "model" => self.node_value(key).unwrap_or(Value::from(())),
            "target" => reg.target.clone(),
            "flags" => reg.flags.clone(),
            "execute" => Value::from(self.render.execute()),
            "graph" => self
                .render
                .with_resolver(|r| json_to_value(&r.graph()))
                .unwrap_or_default(),
            "modules" => Value::from_object(Modules),
            "invocation_id" => Value::from(reg.config.invocation_id.as_str()),
            "run_started_at" => DateTime::value(reg.config.run_started_at.naive_utc(), true),
            "dbt_version" => Value::from(DBT_VERSION),
            "project_name" => Value::from(reg.config.root_package.as_str()),
            "schema" | "database" => self
                .render
                .with_node(|n| {
                    n.this.as_ref().map(|t| match key {
                        "schema" => Value::from(t.schema.as_str()),
                        _ => t.database.as_deref().map(Value::from).unwrap_or_default(),
                    })
                })
                .ok()
                .flatten()?,
            _ => return self.lookup_macro_or_package(key),
        };
        Some(v)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

impl Ctx {
    fn lookup_macro_or_package(&self, key: &str) -> Option<Value> {
        let reg = &self.render.reg;
        if let Some(entry) = reg.lookup(&self.package, key) {
            return Some(MacroRef::value(&self.render, entry.clone()));
        }
        if reg.is_package(key) {
            return Some(Value::from_object(PackageNamespace {
                render: self.render.clone(),
                package: key.to_string(),
            }));
        }
        None
    }
}

#[derive(Debug, Clone, Copy)]
enum FuncKind {
    Ref,
    Source,
    Config,
    Var,
    EnvVar,
    IsIncremental,
    Log,
    Print,
    Return,
    RunQuery,
    Statement,
    LoadResult,
    Doc,
    Exceptions,
}

/// A context function bound to the current render.
#[derive(Debug)]
struct Func {
    render: Arc<Render>,
    kind: FuncKind,
}

impl Object for Func {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let r = &self.render;
        match self.kind {
            FuncKind::Ref => call_ref(r, &pos, &kw),
            FuncKind::Source => call_source(r, &pos),
            FuncKind::Config => call_config(r, &pos, &kw),
            FuncKind::Var => call_var(r, &pos, &kw),
            FuncKind::EnvVar => call_env_var(r, &pos, &kw),
            FuncKind::IsIncremental => {
                // A macro in dbt, so a node that calls it depends on it.
                r.record().called_macro("macro.dbt.is_incremental");
                Ok(Value::from(
                    r.with_node(|n| n.is_incremental)? && r.execute(),
                ))
            }
            FuncKind::Log | FuncKind::Print => {
                let message = pos.first().map(|v| v.to_string()).unwrap_or_default();
                let info = matches!(self.kind, FuncKind::Print)
                    || arg(&pos, &kw, "info", 1).is_some_and(|v| v.is_true());
                r.record().logs.push(LogLine { info, message });
                Ok(Value::from(""))
            }
            FuncKind::Return => {
                r.record().return_slot = Some(pos.into_iter().next().unwrap_or_default());
                Err(Error::new(ErrorKind::InvalidOperation, RETURN_SENTINEL))
            }
            FuncKind::RunQuery => call_run_query(r, &pos, &kw),
            FuncKind::Statement => call_statement(r, state, &pos, &kw),
            FuncKind::LoadResult => {
                let name = str_arg(&arg(&pos, &kw, "name", 0)).unwrap_or_default();
                Ok(r.record()
                    .results
                    .get(&name)
                    .map(load_result_value)
                    .unwrap_or_default())
            }
            FuncKind::Doc => call_doc(r, &pos),
            FuncKind::Exceptions => Err(Error::from(ErrorKind::InvalidOperation)),
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        // `exceptions.raise_compiler_error` etc. are looked up as attributes.
        if let (FuncKind::Exceptions, Some(name)) = (self.kind, key.as_str()) {
            return Some(Value::from_object(ExceptionFn {
                render: self.render.clone(),
                name: name.to_string(),
            }));
        }
        None
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let r = &self.render;
        match (self.kind, method) {
            (FuncKind::Config, "get") => config_get(r, &pos, &kw, false),
            (FuncKind::Config, "require") => config_get(r, &pos, &kw, true),
            (FuncKind::Config, "set") => {
                let key = str_arg(&pos.first().cloned()).unwrap_or_default();
                let value = pos.get(1).cloned().unwrap_or_default();
                call_config(r, &[], &[(key, value)])
            }
            (FuncKind::Var, "has_var") => {
                let name = str_arg(&pos.first().cloned()).unwrap_or_default();
                Ok(Value::from(lookup_var(r, &name)?.is_some()))
            }
            (FuncKind::Exceptions, name) => ExceptionFn {
                render: r.clone(),
                name: name.to_string(),
            }
            .raise(&pos),
            _ => {
                let _ = state;
                Err(Error::from(ErrorKind::UnknownMethod))
            }
        }
    }
}

/// `exceptions.raise_compiler_error(msg)`, `exceptions.warn(msg)`, …
#[derive(Debug)]
struct ExceptionFn {
    render: Arc<Render>,
    name: String,
}

impl ExceptionFn {
    fn raise(&self, pos: &[Value]) -> Result<Value, Error> {
        let message = pos.first().map(|v| v.to_string()).unwrap_or_default();
        if self.name == "warn" {
            self.render
                .record()
                .warnings
                .push(Diagnostic::warning(codes::COMPILER_ERROR, message));
            return Ok(Value::from(""));
        }
        Err(self.render.fail(codes::COMPILER_ERROR, message))
    }
}

impl Object for ExceptionFn {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        self.raise(&split_args(args).0)
    }
}

pub(crate) fn call_ref(r: &Render, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
    let strings: Vec<String> = pos
        .iter()
        .filter_map(|v| str_arg(&Some(v.clone())))
        .collect();
    let (package, name) = match strings.as_slice() {
        [name] => (None, name.clone()),
        [package, name] => (Some(package.clone()), name.clone()),
        _ => {
            return Err(r.fail(
                codes::COMPILER_ERROR,
                format!("ref() takes one or two arguments ({} given)", pos.len()),
            ));
        }
    };
    let version = str_arg(&arg(&[], kw, "version", 0).or_else(|| arg(&[], kw, "v", 0)));
    r.record().refs.push(RefCall {
        package: package.clone(),
        name: name.clone(),
        version: version.clone(),
        line: 0,
    });
    let resolved =
        r.with_resolver(|res| res.resolve_ref(package.as_deref(), &name, version.as_deref()))?;
    match resolved {
        Ok(rel) => Ok(RelationObject::value(rel)),
        // Parsing only records the call; the graph reports unknown refs later.
        Err(_) if !r.execute() => Ok(RelationObject::value(placeholder(&name))),
        Err(msg) => Err(r.fail(codes::UNKNOWN_REF, msg)),
    }
}

fn placeholder(name: &str) -> Relation {
    Relation::new(None, "__unresolved__", name)
}

pub(crate) fn call_source(r: &Render, pos: &[Value]) -> Result<Value, Error> {
    let (Some(source), Some(table)) = (
        str_arg(&pos.first().cloned()),
        str_arg(&pos.get(1).cloned()),
    ) else {
        return Err(r.fail(
            codes::COMPILER_ERROR,
            format!("source() takes exactly two arguments ({} given)", pos.len()),
        ));
    };
    r.record().sources.push((source.clone(), table.clone()));
    match r.with_resolver(|res| res.resolve_source(&source, &table))? {
        Ok(rel) => Ok(RelationObject::value(rel)),
        Err(_) if !r.execute() => Ok(RelationObject::value(placeholder(&table))),
        Err(msg) => Err(r.fail(codes::UNKNOWN_SOURCE, msg)),
    }
}

fn call_config(r: &Render, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
    let opts: Vec<(String, Value)> = match (pos, kw) {
        ([dict], []) => match dict.try_iter() {
            Ok(keys) => keys
                .map(|k| {
                    let v = dict.get_item(&k).unwrap_or_default();
                    (k.to_string(), v)
                })
                .collect(),
            Err(_) => return Err(r.fail(codes::COMPILER_ERROR, "config() expects a dict")),
        },
        ([], kw) => kw.to_vec(),
        _ => {
            return Err(r.fail(
                codes::COMPILER_ERROR,
                "Invalid inline model config: pass either a dict or keyword arguments to config()",
            ));
        }
    };
    let mut record = r.record();
    for (key, value) in opts {
        // dbt accepts `pre_hook=` in Python syntax for `pre-hook`.
        let key = match key.as_str() {
            "pre_hook" => "pre-hook".to_string(),
            "post_hook" => "post-hook".to_string(),
            _ => key,
        };
        let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
        record.config.insert(key, json);
    }
    Ok(Value::from(""))
}

fn config_get(
    r: &Render,
    pos: &[Value],
    kw: &[(String, Value)],
    required: bool,
) -> Result<Value, Error> {
    // As in dbt, parse-time `config.get`/`require` answer "".
    if !r.execute() {
        return Ok(Value::from(""));
    }
    let key = str_arg(&arg(pos, kw, "name", 0)).unwrap_or_default();
    match r.config_value(&key)? {
        Some(v) => Ok(json_to_value(&v)),
        None if required => Err(r.fail(
            codes::COMPILER_ERROR,
            format!(
                "Required config `{key}` for `{}` was not found",
                r.with_node(|n| n.name.clone())?
            ),
        )),
        None => Ok(arg(pos, kw, "default", 1).unwrap_or(Value::from(()))),
    }
}

fn lookup_var(r: &Render, name: &str) -> Result<Option<Value>, Error> {
    if let Some(v) = r.with_node(|n| n.overrides.vars.get(name).map(json_to_value))? {
        return Ok(Some(v));
    }
    let config = &r.reg.config;
    let package = r.node_package();
    Ok(config
        .cli_vars
        .get(name)
        .or_else(|| config.package_vars.get(&package).and_then(|v| v.get(name)))
        .or_else(|| config.project_vars.get(name))
        .map(json_to_value))
}

fn call_var(r: &Render, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
    let Some(name) = str_arg(&arg(pos, kw, "name", 0)) else {
        return Err(r.fail(codes::COMPILER_ERROR, "var() needs the name of a variable"));
    };
    if let Some(v) = lookup_var(r, &name)? {
        return Ok(v);
    }
    if let Some(default) = arg(pos, kw, "default", 1) {
        return Ok(default);
    }
    let node = r.with_node(|n| n.name.clone())?;
    Err(r.fail(
        codes::UNDEFINED_VAR,
        format!("Required var '{name}' not found in config (vars supplied to `{node}` do not include it)"),
    ))
}

fn call_env_var(r: &Render, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
    let name = str_arg(&arg(pos, kw, "var", 0)).unwrap_or_default();
    let overridden = r.with_node(|n| n.overrides.env_vars.get(&name).map(json_to_value))?;
    if let Some(v) = overridden {
        return Ok(match v.as_str() {
            Some(s) => Value::from(s),
            None => Value::from(v.to_string()),
        });
    }
    let default = arg(pos, kw, "default", 1);
    env_var(&name, default).map_err(|msg| r.fail(codes::ENV_VAR_UNSET, msg))
}

/// `env_var(name, default)`; the error never contains a value.
fn env_var(name: &str, default: Option<Value>) -> Result<Value, String> {
    match std::env::var(name) {
        Ok(v) => Ok(Value::from(v)),
        Err(_) => default
            .map(|d| match d.as_str() {
                Some(s) => Value::from(s),
                None => Value::from(d.to_string()),
            })
            .ok_or_else(|| format!("Env var required but not provided: '{name}'")),
    }
}

fn call_doc(r: &Render, pos: &[Value]) -> Result<Value, Error> {
    let strings: Vec<String> = pos
        .iter()
        .filter_map(|v| str_arg(&Some(v.clone())))
        .collect();
    let (package, name) = match strings.as_slice() {
        [name] => (None, name.clone()),
        [package, name] => (Some(package.clone()), name.clone()),
        _ => return Err(r.fail(codes::COMPILER_ERROR, "doc() takes one or two arguments")),
    };
    match r.with_resolver(|res| res.doc(package.as_deref(), &name))? {
        Some(text) => Ok(Value::from(text)),
        None if !r.execute() => Ok(Value::from("")),
        None => Err(r.fail(
            codes::COMPILER_ERROR,
            format!("Documentation for '{name}' not found"),
        )),
    }
}

/// Runs SQL through the adapter (empty result while parsing).
fn run_sql(r: &Render, sql: &str, fetch: bool) -> Result<QueryResult, Error> {
    if !r.execute() {
        return Ok(QueryResult::default());
    }
    r.with_adapter("run_query", |a| a.execute(sql, fetch))?
        .map_err(|msg| r.fail(codes::DATABASE, msg))
}

fn call_run_query(r: &Render, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
    let sql = arg(pos, kw, "sql", 0)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let result = run_sql(r, &sql, true)?;
    Ok(Table::value(&result))
}

/// `{% call statement('main', fetch_result=True) %}sql{% endcall %}`: the
/// caller body renders here, in the calling template's own state.
fn call_statement(
    r: &Render,
    state: &mut State<'_, '_>,
    pos: &[Value],
    kw: &[(String, Value)],
) -> Result<Value, Error> {
    let name = str_arg(&arg(pos, kw, "name", 0));
    let fetch = arg(pos, kw, "fetch_result", 1).is_some_and(|v| v.is_true());
    let sql = match kw.iter().find(|(k, _)| k == "caller") {
        Some((_, caller)) => caller.call(state, &[])?.to_string(),
        None => String::new(),
    };
    let result = run_sql(r, &sql, fetch)?;
    if let Some(name) = name {
        r.record().results.insert(name, result);
    }
    Ok(Value::from(""))
}

/// `api.Relation.create(...)`
#[derive(Debug)]
struct Api(Arc<Render>);

impl Object for Api {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "Relation").then(|| Value::from_object(RelationApi(self.0.clone())))
    }
}

#[derive(Debug)]
struct RelationApi(Arc<Render>);

impl Object for RelationApi {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "create" => Ok(create_relation(
                args,
                Relation::default_quote_policy(&self.0.reg.config.adapter_type),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Stateless functions shared by every render.
pub(crate) fn install_globals(env: &mut Environment<'static>) {
    env.set_unknown_method_callback(mutable::unknown_method);
    minijinja_contrib::add_to_environment(env);
    crate::operators::install(env);
    env.add_function(
        "tojson",
        |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let sort = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
            let _ = kwargs.get::<Option<Value>>("indent");
            let mut json = serde_json::to_value(&v)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            if sort {
                json = sort_keys(json);
            }
            Ok(Value::from(python_json(&json)))
        },
    );
    env.add_function(
        "fromjson",
        |s: String, default: Option<Value>| match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(v) => Ok(json_to_value(&v)),
            Err(e) => default.ok_or_else(|| Error::new(ErrorKind::InvalidOperation, e.to_string())),
        },
    );
    env.add_function("toyaml", |v: Value| -> Result<Value, Error> {
        yaml_serde::to_string(&v)
            .map(Value::from)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
    });
    env.add_function(
        "fromyaml",
        |s: String, default: Option<Value>| match yaml_serde::from_str::<serde_json::Value>(&s) {
            Ok(v) => Ok(json_to_value(&v)),
            Err(e) => default.ok_or_else(|| Error::new(ErrorKind::InvalidOperation, e.to_string())),
        },
    );
    env.add_function("local_md5", |s: String| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(s.as_bytes()))
    });
    env.add_function(
        "zip",
        |lists: minijinja::value::Rest<Value>| -> Result<Value, Error> {
            let mut iters = Vec::new();
            for l in lists.iter() {
                iters.push(l.try_iter()?.collect::<Vec<_>>());
            }
            let len = iters.iter().map(Vec::len).min().unwrap_or(0);
            Ok(Value::from(
                (0..len)
                    .map(|i| Value::from(iters.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            ))
        },
    );
    env.add_function("set", |v: Option<Value>| -> Result<Value, Error> {
        let mut items: Vec<Value> = Vec::new();
        if let Some(v) = v {
            for item in v.try_iter()? {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
        }
        Ok(mutable::list_value(items))
    });
    env.add_function(
        "try_or_compiler_error",
        |_: minijinja::value::Rest<Value>| {
            Err::<Value, _>(Error::new(
                ErrorKind::InvalidOperation,
                "try_or_compiler_error is not supported by hangar",
            ))
        },
    );
}

fn sort_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sort_keys).collect())
        }
        other => other,
    }
}

/// JSON with Python's `json.dumps` spacing (`{"a": 1, "b": [1, 2]}`).
fn python_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(python_json).collect::<Vec<_>>().join(", ")
            )
        }
        serde_json::Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    serde_json::Value::String(k.clone()),
                    python_json(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Whether `text` holds Jinja markup (`{{`, `{%` or `{#`): one scan for
/// `{`, where three substring searches each set up a searcher first (a
/// large project renders tens of thousands of short descriptions).
pub(crate) fn has_markup(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices('{')
        .any(|(at, _)| matches!(bytes.get(at + 1), Some(b'{' | b'%' | b'#')))
}

/// Renders a node or hook template.
pub(crate) fn render_template(
    reg: &Arc<Registry>,
    source: &str,
    node: &NodeInput,
    resolver: &dyn Resolver,
    adapter: Option<&dyn AdapterHandle>,
) -> Result<RenderOutput, Diagnostic> {
    if !has_markup(source) {
        return Ok(RenderOutput {
            sql: source.to_string(),
            ..RenderOutput::default()
        });
    }
    let render = Render::new(reg, node, resolver, adapter);
    let name = if node.path.is_empty() {
        "<string>"
    } else {
        &node.path
    };
    let ctx = Ctx::value(&render, &node.package);
    let result = match node.generic_test_kwargs {
        Some(kwargs) => crate::test_kwargs::evaluate(reg, &ctx, kwargs).map(|value| {
            // Set once, before the template that reads it renders.
            let _ = render.test_kwargs.set(value);
        }),
        None => Ok(()),
    }
    .and_then(|()| {
        let kwargs = render.test_kwargs.get();
        if let Some(sql) = kwargs.and_then(|kwargs| {
            crate::builtin_tests::render_call(&render, &node.package, source, kwargs)
        }) {
            return Ok(sql);
        }
        let text = preprocess::rewrite_node(source, node.resource_type == "snapshot");
        reg.env.render_named_str(name, &text, ctx)
    });
    render.detach();
    let record = std::mem::take(&mut *render.record());
    match result {
        Ok(sql) => Ok(output(sql, record, source)),
        Err(e) => Err(errors::render_diagnostic(&e, &record, reg, name, source)),
    }
}

fn output(sql: String, record: Record, source: &str) -> RenderOutput {
    let mut refs = record.refs;
    for r in &mut refs {
        r.line = line_of_ref(source, &r.name);
    }
    RenderOutput {
        sql,
        refs,
        sources: record.sources,
        config: record.config,
        macros_called: record.macros_called,
        logs: record.logs,
        warnings: record.warnings,
    }
}

/// Line of the first `ref(...)` call naming `name` (0 when not found).
fn line_of_ref(source: &str, name: &str) -> usize {
    source
        .match_indices("ref(")
        .find(|(pos, _)| {
            let call = &source[*pos..];
            let call = &call[..call.find(')').unwrap_or(call.len())];
            names_quoted(call, name)
        })
        .map_or(0, |(pos, _)| source[..pos].matches('\n').count() + 1)
}

/// `'name'` or `"name"` occurs in `text`.
fn names_quoted(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        matches!(
            (before, after),
            (Some('\''), Some('\'')) | (Some('"'), Some('"'))
        )
    })
}

/// `Jinja::call_macro`.
pub(crate) fn call_macro(
    reg: &Arc<Registry>,
    name: &str,
    args: Vec<serde_json::Value>,
    kwargs: serde_json::Map<String, serde_json::Value>,
    node: &NodeInput,
    resolver: &dyn Resolver,
    adapter: Option<&dyn AdapterHandle>,
) -> Result<serde_json::Value, Diagnostic> {
    let entry = match name.split_once('.') {
        Some((package, short)) => reg.lookup_in(package, short),
        None => reg.lookup(&node.package, name),
    }
    .cloned()
    .ok_or_else(|| {
        Diagnostic::error(
            codes::UNKNOWN_MACRO,
            format!("macro `{name}` is not defined"),
        )
    })?;
    let render = Render::new(reg, node, resolver, adapter);
    let mut values: Vec<Value> = args.iter().map(json_to_value).collect();
    if !kwargs.is_empty() {
        values.push(Value::from(
            kwargs
                .iter()
                .map(|(k, v)| (k.as_str(), json_to_value(v)))
                .collect::<Kwargs>(),
        ));
    }
    let mut state = reg.env.empty_state();
    let result = call_entry(&render, &entry, &mut state, &values).and_then(|v| {
        let kind = v.kind();
        if kind == ValueKind::String {
            Ok(serde_json::Value::String(v.to_string()))
        } else {
            serde_json::to_value(&v)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
        }
    });
    render.detach();
    let record = std::mem::take(&mut *render.record());
    result.map_err(|e| errors::render_diagnostic(&e, &record, reg, &entry.template, ""))
}

/// `profiles.yml` / `dbt_project.yml` strings: only `env_var()`.
pub(crate) fn render_env_string(template: &str) -> Result<String, String> {
    render_env_string_in(template, Value::UNDEFINED)
}

/// [`render_env_string`] with `target` (or other names) in the context.
pub(crate) fn render_env_string_in(template: &str, context: Value) -> Result<String, String> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    if !template.contains("{{") && !template.contains("{%") {
        return Ok(template.to_string());
    }
    let env = ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_function("env_var", |name: String, default: Option<Value>| {
            env_var(&name, default).map_err(|m| Error::new(ErrorKind::InvalidOperation, m))
        });
        env.add_function("var", |_name: String, default: Option<Value>| {
            Ok::<_, Error>(default.unwrap_or_default())
        });
        env
    });
    env.render_str(template, context).map_err(|e| {
        e.detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string())
    })
}

/// Any serialisable value as a minijinja value.
pub(crate) fn ser<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_is_found_on_its_line_by_its_quoted_name() {
        let source = "select 1\nfrom {{ ref('orders_v2') }}\njoin {{ ref(\"orders\") }}";
        assert_eq!(line_of_ref(source, "orders"), 3);
        assert_eq!(line_of_ref(source, "orders_v2"), 2);
        assert_eq!(line_of_ref(source, "missing"), 0);
        assert_eq!(line_of_ref("{{ ref('pkg', 'm') }}", "m"), 1);
        assert_eq!(line_of_ref("{{ ref('m\") }}", "m"), 0);
    }

    #[test]
    fn markup_is_an_opening_brace_followed_by_a_brace_percent_or_hash() {
        for marked in ["{{ x }}", "a {% if %}", "{# note #}", "{ {{", "{{", "x {%"] {
            assert!(has_markup(marked), "{marked}");
        }
        for plain in ["", "{", "x{", "}}", "{ x }", "a {b} c", "%}", "{x}{", "#{"] {
            assert!(!has_markup(plain), "{plain}");
        }
    }
}

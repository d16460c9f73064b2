//! Calling macros across files, `adapter.dispatch`, and the `adapter` object.

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use hangar_project::diagnostic::codes;
use minijinja::value::{Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::context::{Ctx, Frame, MAX_DEPTH_MESSAGE, RETURN_SENTINEL, Render, arg, split_args};
use crate::registry::MacroEntry;
use crate::relation::{Relation, RelationObject};
use crate::table::relation_list;

/// A macro resolved by name, callable from any template.
#[derive(Debug)]
pub(crate) struct MacroRef {
    render: Arc<Render>,
    entry: Arc<MacroEntry>,
}

impl MacroRef {
    pub fn value(render: &Arc<Render>, entry: Arc<MacroEntry>) -> Value {
        Value::from_object(MacroRef {
            render: render.clone(),
            entry,
        })
    }
}

impl Object for MacroRef {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "name" => Some(Value::from(self.entry.name.as_str())),
            "package_name" => Some(Value::from(self.entry.package.as_str())),
            _ => None,
        }
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let reg = &self.render.reg;
        if let Some(value) = reg.constant_macros.call(&self.render, &self.entry, args) {
            return Ok(value);
        }
        if let Some(sql) = crate::builtin_tests::call(&self.render, &self.entry, args) {
            return Ok(sql);
        }
        call_entry(&self.render, &self.entry, state, args)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<macro {}>", self.entry.unique_id)
    }
}

/// Evaluates the macro's file in a fresh state with the render's context
/// (looking up names from the macro's own package) and calls the macro.
/// `return(x)` unwinds to here and becomes the value.
pub(crate) fn call_entry(
    render: &Arc<Render>,
    entry: &Arc<MacroEntry>,
    state: &mut State<'_, '_>,
    args: &[Value],
) -> Result<Value, Error> {
    {
        let mut record = render.record();
        record.called_macro(&entry.unique_id);
        if record.depth >= crate::context::MAX_MACRO_DEPTH {
            return Err(Error::new(ErrorKind::InvalidOperation, MAX_DEPTH_MESSAGE));
        }
        record.depth += 1;
    }
    let env = state.env();
    // From here on the calling state is only reached through this pointer,
    // which call blocks use to render their body (see `CallerProxy`).
    let state: *mut State<'_, '_> = state;
    let mut calling = None;
    let result = prepare_args(entry, state, &mut calling, args).and_then(|args| {
        let template = env.get_template(&entry.template)?;
        let mut captured = template.render_captured(Ctx::value(render, &entry.package))?;
        captured.with_state_mut(|s| {
            let f = s.lookup(&entry.mangled).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownFunction,
                    format!("macro `{}` not found", entry.name),
                )
            })?;
            f.call(s, &args)
        })
    });
    drop(calling);
    let mut record = render.record();
    record.depth = record.depth.saturating_sub(1);
    match result {
        Ok(v) => Ok(v),
        Err(e) if e.detail() == Some(RETURN_SENTINEL) => {
            Ok(record.return_slot.take().unwrap_or_default())
        }
        Err(e) => {
            record.trace.push(Frame {
                macro_name: entry.name.clone(),
                template: e.name().map(str::to_string),
                line: e.line(),
            });
            // A fresh error lets minijinja stamp the caller's location on it.
            let detail = e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.kind().to_string());
            Err(Error::new(e.kind(), detail))
        }
    }
}

/// The state a macro was called from, reachable while the call runs.
///
/// A minijinja macro (such as a `{% call %}` block's body) can only run in
/// the state that defined it, but the called macro runs in a state of its
/// own. So the body is handed over as a [`CallerProxy`] that calls back
/// into the calling state through this pointer. The pointer is cleared when
/// the call returns (`Drop`), and is only used on the thread that made it.
struct CallingState {
    slot: Arc<CallerSlot>,
}

/// The calling state while the call runs, and whether a body is rendering
/// in it through this slot right now.
#[derive(Debug, Default)]
struct CallerSlot(Mutex<(Option<StatePtr>, bool)>);

#[derive(Debug, Clone, Copy)]
struct StatePtr {
    state: *mut State<'static, 'static>,
    thread: ThreadId,
}

// SAFETY: the pointer is only dereferenced on the thread that created it
// (checked in `CallerProxy::call`), while `call_entry`, which holds the
// exclusive borrow it was made from, is still running.
unsafe impl Send for StatePtr {}
unsafe impl Sync for StatePtr {}

impl CallingState {
    fn new(state: *mut State<'_, '_>) -> CallingState {
        let ptr = StatePtr {
            state: state.cast::<State<'static, 'static>>(),
            thread: std::thread::current().id(),
        };
        CallingState {
            slot: Arc::new(CallerSlot(Mutex::new((Some(ptr), false)))),
        }
    }
}

impl Drop for CallingState {
    fn drop(&mut self) {
        lock(&self.slot.0).0 = None;
    }
}

/// Marks a slot busy while a body renders through it, so the calling state
/// is never reached twice at once (a body calling its own `caller`).
struct Busy<'a>(&'a CallerSlot);

impl<'a> Busy<'a> {
    fn take(slot: &'a CallerSlot) -> Result<(StatePtr, Busy<'a>), Error> {
        let mut guard = lock(&slot.0);
        let ptr = match *guard {
            (Some(ptr), false) if ptr.thread == std::thread::current().id() => ptr,
            (Some(_), true) => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "caller() cannot be called again from inside its own body",
                ));
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "caller() can only be used while its macro call is running",
                ));
            }
        };
        guard.1 = true;
        Ok((ptr, Busy(slot)))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        lock(&self.0.0).1 = false;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `caller` inside a macro called with `{% call(args) m() %}…{% endcall %}`:
/// calling it renders the block's body, with its arguments, in the state
/// the block was written in.
#[derive(Debug)]
struct CallerProxy {
    body: Value,
    slot: Arc<CallerSlot>,
}

impl Object for CallerProxy {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (ptr, _busy) = Busy::take(&self.slot)?;
        // SAFETY: the slot holds the pointer only while `call_entry` runs on
        // this thread; `call_entry` does not touch the calling state until
        // the call returns, and `Busy` rules out a second access through
        // this slot, so this is the only live access to the state.
        let calling = unsafe { &mut *ptr.state };
        self.body.call(calling, args)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<macro caller>")
    }
}

/// Hands a `{% call %}` body over as a [`CallerProxy`] (making `calling`
/// for it) and folds extra arguments into the implicit `varargs` /
/// `kwargs` parameters the macro declared.
fn prepare_args(
    entry: &MacroEntry,
    state: *mut State<'_, '_>,
    calling: &mut Option<CallingState>,
    args: &[Value],
) -> Result<Vec<Value>, Error> {
    let (mut positional, kwargs) = split_args(args);
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(kwargs.len());
    let mut extra_kwargs: Vec<(String, Value)> = Vec::new();
    for (k, v) in kwargs {
        if k == "caller" && is_template_macro(&v) {
            let slot = &calling.get_or_insert_with(|| CallingState::new(state)).slot;
            let proxy = CallerProxy {
                body: v,
                slot: slot.clone(),
            };
            kept.push((k, Value::from_object(proxy)));
        } else if entry.uses_kwargs && k != "caller" && !entry.arguments.contains(&k) {
            extra_kwargs.push((k, v));
        } else {
            kept.push((k, v));
        }
    }
    if entry.uses_varargs {
        let n = entry.arguments.len().min(positional.len());
        let rest = positional.split_off(n);
        kept.push(("varargs".into(), Value::from(rest)));
    }
    if entry.uses_kwargs {
        kept.push(("kwargs".into(), crate::mutable::dict_value(extra_kwargs)));
    }
    if !kept.is_empty() {
        positional.push(Value::from(kept.into_iter().collect::<Kwargs>()));
    }
    Ok(positional)
}

/// A macro defined in the calling template (a call block's body), as
/// opposed to hangar's macro references and proxies, which run anywhere.
fn is_template_macro(v: &Value) -> bool {
    v.as_object().is_some()
        && v.downcast_object_ref::<MacroRef>().is_none()
        && v.downcast_object_ref::<CallerProxy>().is_none()
        && v.get_attr("caller").is_ok_and(|c| !c.is_undefined())
}

/// `dbt_utils.star(...)`: the macros of one package.
#[derive(Debug)]
pub(crate) struct PackageNamespace {
    pub render: Arc<Render>,
    pub package: String,
}

impl Object for PackageNamespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let entry = self.render.reg.lookup_in(&self.package, key.as_str()?)?;
        Some(MacroRef::value(&self.render, entry.clone()))
    }
}

/// The `adapter` context object.
#[derive(Debug)]
pub(crate) struct AdapterObject {
    pub render: Arc<Render>,
    /// Package of the calling code, for unqualified dispatch.
    pub package: String,
}

impl Object for AdapterObject {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let r = &self.render;
        match method {
            "dispatch" => self.dispatch(&pos, &kw),
            "type" => Ok(Value::from(r.reg.config.adapter_type.as_str())),
            "quote" => {
                let ident = arg(&pos, &kw, "identifier", 0)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if r.has_adapter() {
                    r.with_adapter("adapter.quote", |a| Value::from(a.quote(&ident)))
                } else {
                    Ok(Value::from(format!("\"{}\"", ident.replace('"', "\"\""))))
                }
            }
            "get_relation" => self.get_relation(&pos, &kw),
            "get_columns_in_relation" => self.get_columns(&pos, &kw),
            "list_relations_without_caching" | "list_relations" => self.list_relations(&pos, &kw),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

impl AdapterObject {
    /// dbt's dispatch: for each package in the search order, try
    /// `<adapter>__name`, parent adapters, then `default__name`.
    fn dispatch(&self, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
        let r = &self.render;
        let name = arg(pos, kw, "macro_name", 0)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let namespace = arg(pos, kw, "macro_namespace", 1)
            .filter(|v| !v.is_none())
            .map(|v| v.to_string());
        let (namespace, name) = match name.split_once('.') {
            Some((ns, n)) if namespace.is_none() => (Some(ns.to_string()), n.to_string()),
            _ => (namespace, name),
        };
        let reg = &r.reg;
        if let Some(entry) = reg.resolve_dispatch(&self.package, namespace.as_deref(), &name) {
            return Ok(MacroRef::value(r, entry.clone()));
        }
        let searched = namespace.unwrap_or_else(|| self.package.clone());
        Err(r.fail(
            codes::UNKNOWN_MACRO,
            format!(
                "In dispatch: No macro named '{name}' found within namespace: '{searched}' (searched for '{}')",
                reg.dispatch_prefixes
                    .iter()
                    .map(|p| format!("{p}__{name}"))
                    .collect::<Vec<_>>()
                    .join("', '")
            ),
        ))
    }

    fn get_relation(&self, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
        let r = &self.render;
        if !r.execute() || !r.has_adapter() {
            return Ok(Value::from(()));
        }
        let part = |name: &str, idx: usize| {
            arg(pos, kw, name, idx)
                .filter(|v| !v.is_none())
                .map(|v| v.to_string())
        };
        let (database, schema, identifier) = (
            part("database", 0),
            part("schema", 1).unwrap_or_default(),
            part("identifier", 2).unwrap_or_default(),
        );
        let found = r.with_adapter("adapter.get_relation", |a| {
            a.get_relation(database.as_deref(), &schema, &identifier)
        })?;
        match found {
            Ok(Some(rel)) => Ok(RelationObject::value(rel)),
            Ok(None) => Ok(Value::from(())),
            Err(msg) => Err(r.fail(codes::DATABASE, msg)),
        }
    }

    fn get_columns(&self, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
        let r = &self.render;
        if !r.execute() || !r.has_adapter() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        let relation = relation_arg(arg(pos, kw, "relation", 0))?;
        let columns = r
            .with_adapter("adapter.get_columns_in_relation", |a| {
                a.get_columns(&relation)
            })?
            .map_err(|msg| r.fail(codes::DATABASE, msg))?;
        Ok(Value::from(
            columns
                .into_iter()
                .map(|(name, dtype)| crate::table::column_value(&name, &dtype))
                .collect::<Vec<_>>(),
        ))
    }

    fn list_relations(&self, pos: &[Value], kw: &[(String, Value)]) -> Result<Value, Error> {
        let r = &self.render;
        if !r.execute() || !r.has_adapter() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        let relation = relation_arg(arg(pos, kw, "schema_relation", 0))?;
        let found = r
            .with_adapter("adapter.list_relations_without_caching", |a| {
                a.list_relations(relation.database.as_deref(), &relation.schema)
            })?
            .map_err(|msg| r.fail(codes::DATABASE, msg))?;
        Ok(relation_list(found))
    }
}

fn relation_arg(v: Option<Value>) -> Result<Relation, Error> {
    v.as_ref()
        .and_then(|v| v.downcast_object_ref::<RelationObject>())
        .map(|r| r.0.clone())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "expected a Relation argument"))
}

//! Calling macros across files, `adapter.dispatch`, and the `adapter` object.

use std::sync::Arc;

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
        record.macros_called.insert(entry.unique_id.clone());
        if record.depth >= crate::context::MAX_MACRO_DEPTH {
            return Err(Error::new(ErrorKind::InvalidOperation, MAX_DEPTH_MESSAGE));
        }
        record.depth += 1;
    }
    let args = prepare_args(entry, state, args);
    let result = args.and_then(|args| {
        let template = state.env().get_template(&entry.template)?;
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

/// Renders `caller` in the calling state (a minijinja macro cannot run in
/// another template's state) and folds extra arguments into the implicit
/// `varargs` / `kwargs` parameters the macro declared.
fn prepare_args(
    entry: &MacroEntry,
    state: &mut State<'_, '_>,
    args: &[Value],
) -> Result<Vec<Value>, Error> {
    let (mut positional, kwargs) = split_args(args);
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(kwargs.len());
    let mut extra_kwargs: Vec<(String, Value)> = Vec::new();
    for (k, v) in kwargs {
        if k == "caller" && v.downcast_object_ref::<MacroRef>().is_none() {
            let body = v.call(state, &[])?.to_string();
            let closure = Value::from_function(move |_: minijinja::value::Rest<Value>| {
                Value::from_safe_string(body.clone())
            });
            kept.push((k, closure));
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
        for package in reg.dispatch_search(namespace.as_deref()) {
            for prefix in &reg.dispatch_prefixes {
                let candidate = format!("{prefix}__{name}");
                let found = match &package {
                    Some(p) => reg.lookup_in(p, &candidate),
                    None => reg.lookup(&self.package, &candidate),
                };
                if let Some(entry) = found {
                    return Ok(MacroRef::value(r, entry.clone()));
                }
            }
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

//! Mutable lists and dicts, so `list.append` / `dict.update` work as in
//! Jinja2 (minijinja values are immutable).

use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

#[derive(Debug, Default)]
pub(crate) struct MutableList(Mutex<Vec<Value>>);

#[derive(Debug, Default)]
pub(crate) struct MutableDict(Mutex<IndexMap<Value, Value>>);

pub(crate) fn list_value(items: Vec<Value>) -> Value {
    Value::from_object(MutableList(Mutex::new(items)))
}

pub(crate) fn dict_value(items: Vec<(String, Value)>) -> Value {
    Value::from_object(MutableDict(Mutex::new(
        items
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )))
}

/// The `__hj_mutable` filter the pre-pass puts after list and dict literals:
/// the literal, and the lists and dicts nested in it, become mutable as in
/// Python. Mutable values are returned as they are (Python keeps identity).
pub(crate) fn make_mutable(v: Value) -> Value {
    if let Some(items) = v.downcast_object_ref::<Vec<Value>>() {
        return list_value(items.iter().cloned().map(make_mutable).collect());
    }
    if let Some(map) = v.downcast_object_ref::<IndexMap<Value, Value>>() {
        let map = map
            .iter()
            .map(|(k, v)| (k.clone(), make_mutable(v.clone())))
            .collect();
        return Value::from_object(MutableDict(Mutex::new(map)));
    }
    v
}

/// Python methods on plain values (minijinja-contrib's `pycompat`), with a
/// clear error when a template mutates a list or dict that is not mutable
/// here (one that came from data, a filter or a function).
pub(crate) fn unknown_method(
    state: &mut State<'_, '_>,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let result = minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args);
    match result {
        Err(e) if e.kind() == ErrorKind::UnknownMethod && is_mutator(value, method) => {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "cannot {method}() this {}: hangar makes lists and dicts mutable when they are \
                     written as literals in the template (`{{% set x = [] %}}`); this one came from \
                     data, a filter, a function or `+`. Copy it into a literal first, e.g. \
                     `{{% set x = [] %}}{{% do x.extend(value) %}}` or `{{% do d.update(value) %}}`",
                    value.kind()
                ),
            ))
        }
        other => other,
    }
}

fn is_mutator(value: &Value, method: &str) -> bool {
    match value.kind() {
        ValueKind::Seq => matches!(
            method,
            "append" | "extend" | "insert" | "pop" | "remove" | "reverse" | "sort" | "clear"
        ),
        ValueKind::Map => {
            matches!(
                method,
                "update" | "pop" | "setdefault" | "clear" | "popitem"
            )
        }
        _ => false,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.to_string())
}

/// Python-style index (negative counts from the end).
fn index(len: usize, v: Option<&Value>) -> Option<usize> {
    let i = v?.as_i64()?;
    let len = len as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = lock(&self.0);
        index(items.len(), Some(key)).map(|i| items[i].clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = lock(&self.0);
        match method {
            "append" => items.push(args.first().cloned().unwrap_or_default()),
            "extend" => {
                if let Some(other) = args.first() {
                    let other: Vec<Value> = other.try_iter()?.collect();
                    items.extend(other);
                }
            }
            "insert" => {
                let at = args.first().and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
                let at = at.min(items.len());
                items.insert(at, args.get(1).cloned().unwrap_or_default());
            }
            "pop" => {
                let at = match args.first() {
                    Some(v) => index(items.len(), Some(v)),
                    None => items.len().checked_sub(1),
                };
                return at
                    .map(|i| items.remove(i))
                    .ok_or_else(|| bad("pop index out of range"));
            }
            "remove" => {
                let target = args.first().cloned().unwrap_or_default();
                let pos = items.iter().position(|v| *v == target);
                let pos = pos.ok_or_else(|| bad("list.remove(x): x not in list"))?;
                items.remove(pos);
            }
            "reverse" => items.reverse(),
            "sort" => items.sort(),
            "clear" => items.clear(),
            "copy" => return Ok(list_value(items.clone())),
            _ => {
                let plain = Value::from(items.clone());
                drop(items);
                return minijinja_contrib::pycompat::unknown_method_callback(
                    state, &plain, method, args,
                );
            }
        }
        Ok(Value::from(()))
    }
}

impl Object for MutableDict {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        lock(&self.0).get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kwargs) = crate::context::split_args(args);
        let mut map = lock(&self.0);
        match method {
            "update" => {
                if let Some(other) = pos.first() {
                    for k in other.try_iter()? {
                        let v = other.get_item(&k)?;
                        map.insert(k, v);
                    }
                }
                for (k, v) in kwargs {
                    map.insert(Value::from(k), v);
                }
                Ok(Value::from(()))
            }
            "pop" => {
                let key = pos.first().cloned().unwrap_or_default();
                match map.shift_remove(&key) {
                    Some(v) => Ok(v),
                    None => pos
                        .get(1)
                        .cloned()
                        .ok_or_else(|| bad("dict.pop: key not found")),
                }
            }
            "setdefault" => {
                let key = pos.first().cloned().unwrap_or_default();
                let default = pos.get(1).cloned().unwrap_or(Value::from(()));
                Ok(map.entry(key).or_insert(default).clone())
            }
            "clear" => {
                map.clear();
                Ok(Value::from(()))
            }
            "copy" => Ok(Value::from_object(MutableDict(Mutex::new(map.clone())))),
            _ => {
                let plain: Value =
                    Value::from_pairs(map.iter().map(|(k, v)| (k.clone(), v.clone())));
                drop(map);
                minijinja_contrib::pycompat::unknown_method_callback(state, &plain, method, args)
            }
        }
    }
}

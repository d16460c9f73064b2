//! dbt's `_dbt_generic_test_kwargs`: the arguments a generic test's macro is
//! called with (`{{ test_unique(**_dbt_generic_test_kwargs) }}`), made from
//! the test's `test_metadata.kwargs` as dbt's `add_rendered_test_kwargs` does:
//!
//! - `column_name` is passed verbatim;
//! - a string that looks like a call of `ref`, `source`, `var`, `env_var` or
//!   `doc`, or that is exactly `{{ expr }}`, is evaluated and passes its value
//!   (a relation stays a relation);
//! - any other string holding Jinja is rendered to a string;
//! - other values pass as they are, lists and mappings item by item.

use std::sync::Arc;

use minijinja::Value;
use serde_json::Value as Json;

use crate::context::{Ctx, Render, call_ref, call_source, json_to_value};
use crate::mutable::{dict_value, list_value};
use crate::preprocess::{rewrite_node, split_balanced};
use crate::registry::{BUILTIN_PACKAGE, MacroEntry, Registry};

/// The kwargs as a Jinja mapping, evaluated against `ctx` (the node's context).
pub(crate) fn evaluate(
    reg: &Registry,
    ctx: &Value,
    kwargs: &[(String, Json)],
) -> Result<Value, minijinja::Error> {
    let mut out = Vec::with_capacity(kwargs.len());
    for (key, value) in kwargs {
        let value = if key == "column_name" {
            json_to_value(value)
        } else {
            argument(reg, ctx, value)?
        };
        out.push((key.clone(), value));
    }
    Ok(dict_value(out))
}

fn argument(reg: &Registry, ctx: &Value, value: &Json) -> Result<Value, minijinja::Error> {
    match value {
        Json::String(text) => string_argument(reg, ctx, text),
        Json::Array(items) => items
            .iter()
            .map(|item| argument(reg, ctx, item))
            .collect::<Result<Vec<_>, _>>()
            .map(list_value),
        Json::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                entries.push((k.clone(), argument(reg, ctx, v)?));
            }
            Ok(dict_value(entries))
        }
        other => Ok(json_to_value(other)),
    }
}

fn string_argument(reg: &Registry, ctx: &Value, text: &str) -> Result<Value, minijinja::Error> {
    let trimmed = text.trim();
    let expression = if looks_like_function(trimmed) {
        Some(trimmed)
    } else {
        sole_expression(trimmed)
    };
    if let Some(expression) = expression {
        if let Some(relation) = builtin_where_subquery(reg, ctx, expression) {
            return relation;
        }
        return evaluate_expression(reg, ctx, expression);
    }
    if crate::context::has_markup(text) {
        let source = rewrite_node(text, false);
        return reg.env.render_str(&source, ctx.clone()).map(Value::from);
    }
    Ok(Value::from(text))
}

/// Evaluates `expression` with the same rewrites a node template gets.
fn evaluate_expression(
    reg: &Registry,
    ctx: &Value,
    expression: &str,
) -> Result<Value, minijinja::Error> {
    if let Some(relation) = literal_relation_call(ctx, expression) {
        return Ok(relation);
    }
    let wrapped = rewrite_node(&format!("{{{{ {expression} }}}}"), false);
    let inner = wrapped
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .unwrap_or(expression);
    reg.env.compile_expression(inner)?.eval(ctx.clone())
}

/// `ref('name')`, `ref('package', 'name')` or `source('source', 'table')`
/// with plain string literals, called directly: compiling the expression
/// cost more than the call, once per test. `None` (evaluate in Jinja) for
/// any other expression, when a unit test's overrides or extra context
/// could rename `ref` or `source`, or when the call fails (Jinja then
/// reports the error as it always has).
fn literal_relation_call(ctx: &Value, expression: &str) -> Option<Value> {
    let (function, rest) = if let Some(rest) = expression.strip_prefix("ref(") {
        ("ref", rest)
    } else {
        ("source", expression.strip_prefix("source(")?)
    };
    let parts = split_balanced(rest.strip_suffix(')')?)?;
    let arguments: Vec<Value> = parts
        .iter()
        .map(|part| string_literal(part.trim()).map(Value::from))
        .collect::<Option<_>>()?;
    let fits = match function {
        "ref" => matches!(arguments.len(), 1 | 2),
        _ => arguments.len() == 2,
    };
    let context = ctx.downcast_object_ref::<Ctx>()?;
    let render = &context.render;
    if !fits || !render.names_are_plain() {
        return None;
    }
    let recorded = {
        let record = render.record();
        (
            record.refs.len(),
            record.sources.len(),
            record.failure.clone(),
        )
    };
    let called = match function {
        "ref" => call_ref(render, &arguments, &[]),
        _ => call_source(render, &arguments),
    };
    match called {
        Ok(relation) => Some(relation),
        Err(_) => {
            // Undo what the call recorded: Jinja makes the call again.
            let mut record = render.record();
            record.refs.truncate(recorded.0);
            record.sources.truncate(recorded.1);
            record.failure = recorded.2;
            None
        }
    }
}

/// The text of a quoted string with no escapes and no quote inside.
fn string_literal(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then_some(inner)
}

/// dbt's `get_where_subquery(ref(...))` as its builtin answers it when the
/// test has no `where` config: the relation itself. Called through Jinja it
/// costs two macro calls and a dispatch, about a quarter of compiling a large
/// project's tests. `None` (evaluate in Jinja) unless the builtin is the
/// macro that would run and nothing could change what it sees.
fn builtin_where_subquery(
    reg: &Registry,
    ctx: &Value,
    expression: &str,
) -> Option<Result<Value, minijinja::Error>> {
    let inner = sole_call_argument(expression, "get_where_subquery")?;
    if !(inner.starts_with("ref(") || inner.starts_with("source(")) {
        return None;
    }
    let context = ctx.downcast_object_ref::<Ctx>()?;
    let render = &context.render;
    let called = builtin_where_subquery_macro(reg, render, &context.package)?;
    if has_where(render)? {
        return None;
    }
    // Through Jinja: the dispatched `default__get_where_subquery`.
    if !render.record_native_call(&called.unique_id, 1) {
        return None;
    }
    Some(evaluate_expression(reg, ctx, inner))
}

/// dbt's builtin `get_where_subquery`, when it is what `package` calls and
/// it dispatches to the builtin `default__get_where_subquery`, with no unit
/// test override or extra context entry that could shadow a name it uses.
fn builtin_where_subquery_macro<'r>(
    reg: &'r Registry,
    render: &Render,
    package: &str,
) -> Option<&'r Arc<MacroEntry>> {
    let is_builtin =
        |e: &Arc<MacroEntry>, name: &str| e.package == BUILTIN_PACKAGE && e.name == name;
    if !render.names_are_plain() {
        return None;
    }
    let called = reg
        .lookup(package, "get_where_subquery")
        .filter(|e| is_builtin(e, "get_where_subquery"))?;
    reg.native_tests
        .where_subquery_is_builtin()
        .then_some(called)
}

/// What the builtin's `{% if config.get('where', '') %}` decides, when that
/// is certain: false for no `where`, null or empty; `None` otherwise (the
/// macro must run).
fn has_where(render: &Render) -> Option<bool> {
    if !render.execute() {
        // Parse-time `config.get` answers "".
        return Some(false);
    }
    match render.config_value("where").ok()? {
        None | Some(Json::Null) => Some(false),
        Some(Json::String(s)) if s.is_empty() => Some(false),
        Some(_) => None,
    }
}

/// The argument of `name(<argument>)` when the whole expression is that one
/// call with one argument: brackets balanced, no top-level comma.
fn sole_call_argument<'e>(expression: &'e str, name: &str) -> Option<&'e str> {
    let inner = expression
        .strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    match split_balanced(inner)?.as_slice() {
        [only] => Some(only.trim()),
        _ => None,
    }
}

/// `{{ expr }}` with nothing around it: its expression.
fn sole_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// dbt's `^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$` on a trimmed string.
fn looks_like_function(text: &str) -> bool {
    ["env_var", "ref", "var", "source", "doc"].iter().any(|f| {
        text.strip_prefix(f)
            .map(str::trim_start)
            .is_some_and(|rest| rest.len() > 2 && rest.starts_with('(') && text.ends_with(')'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_detection_needs_a_call_with_arguments() {
        assert!(looks_like_function("ref('x')"));
        assert!(looks_like_function("source ('a', 'b')"));
        assert!(!looks_like_function("reference"));
        assert!(!looks_like_function("variable(1"));
        assert!(!looks_like_function("ref()"));
    }

    #[test]
    fn a_sole_call_argument_is_one_balanced_argument() {
        let arg = |e| sole_call_argument(e, "get_where_subquery");
        assert_eq!(arg("get_where_subquery(ref('m'))"), Some("ref('m')"));
        assert_eq!(
            arg("get_where_subquery(source('a', 'b'))"),
            Some("source('a', 'b')")
        );
        assert_eq!(arg("get_where_subquery(ref('a)'))"), Some("ref('a)')"));
        assert_eq!(arg("get_where_subquery(ref('m'), 'x')"), None);
        assert_eq!(arg("get_where_subquery(ref('a')) ~ (x)"), None);
        assert_eq!(arg("get_where_subquery(ref('a'))) + ((1)"), None);
        assert_eq!(arg("other(ref('m'))"), None);
    }

    #[test]
    fn string_literals_are_plain_quoted_strings() {
        assert_eq!(string_literal("'orders'"), Some("orders"));
        assert_eq!(string_literal("\"my model\""), Some("my model"));
        assert_eq!(string_literal("''"), Some(""));
        assert_eq!(string_literal("'it\\'s'"), None);
        assert_eq!(string_literal("'a' ~ 'b'"), None);
        assert_eq!(string_literal("'a\""), None);
        assert_eq!(string_literal("name"), None);
        assert_eq!(string_literal("'"), None);
    }

    #[test]
    fn a_sole_expression_is_unwrapped() {
        assert_eq!(
            sole_expression("{{ get_where_subquery(ref('m')) }}"),
            Some("get_where_subquery(ref('m'))")
        );
        assert_eq!(sole_expression("x {{ a }}"), None);
        assert_eq!(sole_expression("{{ a }} and {{ b }}"), None);
    }
}

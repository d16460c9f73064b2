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

use minijinja::Value;
use serde_json::Value as Json;

use crate::context::json_to_value;
use crate::mutable::{dict_value, list_value};
use crate::preprocess::rewrite_node;
use crate::registry::Registry;

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
        return evaluate_expression(reg, ctx, expression);
    }
    if text.contains("{{") || text.contains("{%") || text.contains("{#") {
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
    let wrapped = rewrite_node(&format!("{{{{ {expression} }}}}"), false);
    let inner = wrapped
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .unwrap_or(expression);
    reg.env.compile_expression(inner)?.eval(ctx.clone())
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
    fn a_sole_expression_is_unwrapped() {
        assert_eq!(
            sole_expression("{{ get_where_subquery(ref('m')) }}"),
            Some("get_where_subquery(ref('m'))")
        );
        assert_eq!(sole_expression("x {{ a }}"), None);
        assert_eq!(sole_expression("{{ a }} and {{ b }}"), None);
    }
}

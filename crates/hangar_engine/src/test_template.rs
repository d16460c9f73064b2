//! The Jinja source of a generic test node: a call of its test macro with
//! the YAML arguments written as Jinja expressions.
//!
//! dbt renders every string argument that looks like `ref(...)`, `source(...)`,
//! `var(...)`, `env_var(...)` or `doc(...)` as an expression and keeps
//! `column_name` verbatim; a string that is exactly `{{ expr }}` is `expr`. Writing the call out as one
//! template gives the same values and lets the render record the refs.

use serde_json::{Map, Value};

/// `{{ test_unique(model=get_where_subquery(ref('m')), column_name='id') }}`
pub fn generic_test_template(macro_name: &str, kwargs: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = kwargs.keys().collect();
    keys.sort();
    let args = keys
        .into_iter()
        .map(|k| {
            let v = &kwargs[k.as_str()];
            let expr = if k == "column_name" {
                literal_verbatim(v)
            } else {
                expression(v)
            };
            format!("{k}={expr}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{{{ {macro_name}({args}) }}}}")
}

fn expression(value: &Value) -> String {
    match value {
        Value::String(s) => string_expression(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(expression).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", quote(k), expression(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => literal_verbatim(other),
    }
}

fn string_expression(s: &str) -> String {
    let trimmed = s.trim();
    if looks_like_function(trimmed) {
        return trimmed.to_string();
    }
    if let Some(inner) = sole_expression(trimmed) {
        return inner.to_string();
    }
    quote(s)
}

/// `{{ expr }}` with nothing around it.
fn sole_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

fn looks_like_function(s: &str) -> bool {
    ["env_var", "ref", "var", "source", "doc"].iter().any(|f| {
        s.strip_prefix(f)
            .map(str::trim_start)
            .is_some_and(|rest| rest.starts_with('(') && s.ends_with(')'))
    })
}

fn literal_verbatim(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Null => "none".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(literal_verbatim)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", quote(k), literal_verbatim(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A Jinja string literal (JSON escaping is valid Jinja escaping).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_dbt_style_kwargs() {
        let kwargs = json!({
            "model": "{{ get_where_subquery(ref('orders')) }}",
            "column_name": "customer_id",
            "to": "ref('customers')",
            "field": "id",
            "values": ["a", "b's"],
            "quote": false
        });
        let t = generic_test_template("test_relationships", kwargs.as_object().unwrap());
        assert_eq!(
            t,
            "{{ test_relationships(column_name=\"customer_id\", field=\"id\", model=get_where_subquery(ref('orders')), quote=false, to=ref('customers'), values=[\"a\", \"b's\"]) }}"
        );
    }

    #[test]
    fn function_detection_needs_a_call() {
        assert!(looks_like_function("ref('x')"));
        assert!(looks_like_function("source ('a', 'b')"));
        assert!(!looks_like_function("reference"));
        assert!(!looks_like_function("variable(1"));
    }
}

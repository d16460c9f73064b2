//! Macros that take no arguments and only return a string literal, directly
//! (`{{ return("TEXT") }}`) or through `adapter.dispatch` to such a macro
//! (`{{ return(adapter.dispatch('type_string', 'dbt')()) }}`): dbt's
//! cross-database type macros and the like, called several times in a
//! typical staging model.
//!
//! Their value is fixed once the registry is built (dispatch resolves the
//! same way for every call), so a call returns it without running two macro
//! templates. What a call records is unchanged: the called macro at depth 0,
//! as `call_entry` records it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use minijinja::Value;
use regex::Regex;

use crate::context::Render;
use crate::preprocess::ScannedMacro;
use crate::registry::{FastMap, MacroEntry, Registry};

/// What such a macro's body returns.
#[derive(Debug, Clone, PartialEq)]
enum Body {
    Literal(String),
    /// `adapter.dispatch(name, namespace)()`
    Dispatch {
        name: String,
        namespace: Option<String>,
    },
}

/// `{% macro name() %}{{ return(...) }}{% endmacro %}` (or `{% do return(...) %}`),
/// with any whitespace control and nothing else in the body.
static RETURN_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?s)^\{%-?\s*macro\s+[A-Za-z_][A-Za-z0-9_]*\s*\(\s*\)\s*-?%\}\s*(?:\{\{-?\s*return\((?P<a>[^{}]*)\)\s*-?\}\}|\{%-?\s*do\s+return\((?P<b>[^{}]*)\)\s*-?%\})\s*\{%-?\s*endmacro\s*-?%\}$",
    )
    .expect("valid regex")
});

/// A quoted string without escapes or the other quote inside.
static LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^(?:'([^'\\]*)'|"([^"\\]*)")$"#).expect("valid regex"));

static DISPATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^adapter\.dispatch\(\s*(?:'([A-Za-z0-9_]+)'|"([A-Za-z0-9_]+)")\s*(?:,\s*(?:'([A-Za-z0-9_]+)'|"([A-Za-z0-9_]+)")\s*)?\)\(\s*\)$"#,
    )
    .expect("valid regex")
});

fn body(m: &ScannedMacro) -> Option<Body> {
    if !m.arguments.is_empty() || m.uses_varargs || m.uses_kwargs {
        return None;
    }
    let caps = RETURN_ONLY.captures(m.sql.trim())?;
    let expression = caps.name("a").or(caps.name("b"))?.as_str().trim();
    if let Some(literal) = LITERAL.captures(expression) {
        let text = literal.get(1).or(literal.get(2))?.as_str();
        return Some(Body::Literal(text.to_string()));
    }
    let dispatch = DISPATCH.captures(expression)?;
    Some(Body::Dispatch {
        name: dispatch.get(1).or(dispatch.get(2))?.as_str().to_string(),
        namespace: dispatch
            .get(3)
            .or(dispatch.get(4))
            .map(|m| m.as_str().to_string()),
    })
}

/// The constant macros of a registry, by unique id.
#[derive(Debug, Default)]
pub(crate) struct ConstantMacros(FastMap<String, Value>);

impl ConstantMacros {
    /// `scanned`: every macro file's macros, by package.
    pub fn resolve<'s>(
        reg: &Registry,
        scanned: impl Iterator<Item = (&'s str, &'s ScannedMacro)>,
    ) -> ConstantMacros {
        let bodies: Bodies<'_> = scanned
            .filter_map(|(package, m)| {
                let entry = reg.lookup_in(package, &m.name)?;
                // A macro that shares its file's template (one that could
                // not be cut out) runs the file's top level at each call.
                let own_template = entry.template.ends_with(&format!("#{}", m.name));
                own_template.then_some(())?;
                Some((entry.unique_id.clone(), (entry, body(m)?)))
            })
            .collect();
        let constants = bodies
            .iter()
            .filter_map(|(id, (entry, body))| {
                let text = value_of(reg, &bodies, entry, body, 0)?;
                Some((id.clone(), Value::from(text)))
            })
            .collect();
        ConstantMacros(constants)
    }

    /// The value of a call of `entry` with `args`, when it is a constant
    /// and nothing in the render could change it.
    pub fn call(&self, render: &Render, entry: &MacroEntry, args: &[Value]) -> Option<Value> {
        if !args.is_empty() || self.0.is_empty() {
            return None;
        }
        let value = self.0.get(&entry.unique_id)?;
        // Through Jinja: up to MAX_CHAIN dispatched macros.
        if !render.names_are_plain() || !render.record_native_call(&entry.unique_id, MAX_CHAIN) {
            return None;
        }
        #[cfg(test)]
        tests::FOLDED_CALLS.with(|n| n.set(n.get() + 1));
        Some(value.clone())
    }
}

/// Return-only macros by unique id.
type Bodies<'r> = HashMap<String, (&'r Arc<MacroEntry>, Body)>;

/// Dispatch chains are short; a longer one (or a cycle) is left to Jinja.
const MAX_CHAIN: usize = 4;

fn value_of(
    reg: &Registry,
    bodies: &Bodies<'_>,
    entry: &MacroEntry,
    body: &Body,
    depth: usize,
) -> Option<String> {
    match body {
        Body::Literal(text) => Some(text.clone()),
        Body::Dispatch { .. } if depth >= MAX_CHAIN => None,
        Body::Dispatch { name, namespace } => {
            // `adapter` in a macro dispatches from the macro's own package.
            let target = reg.resolve_dispatch(&entry.package, namespace.as_deref(), name)?;
            let (target, target_body) = bodies.get(&target.unique_id)?;
            value_of(reg, bodies, target, target_body, depth + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::test_support::Names;
    use crate::{Jinja, JinjaConfig, MacroSource, NodeInput, Phase};

    thread_local! {
        pub(super) static FOLDED_CALLS: Cell<usize> = const { Cell::new(0) };
    }

    const MODEL: &str = "select cast(a as {{ dbt.type_int() }}), {{ type_string() }}, \
        {{ adapter.dispatch('type_timestamp', 'dbt')() }}, {{ dbt.type_numeric() }}, \
        {{ cents('x') }}, {{ proj_constant() }}, {{ not_constant() }}, {{ type_boolean() }}";

    const PROJECT_MACROS: &str = "{% macro cents(c) %}{{ c }} / {{ dbt.type_float() }}{% endmacro %}\n\
        {% macro proj_constant() %}{{ return(adapter.dispatch('proj_constant')()) }}{% endmacro %}\n\
        {% macro default__proj_constant() %}{% do return(\"p\") %}{% endmacro %}\n\
        {% macro snowflake__proj_constant() %}{{ return('s') }}{% endmacro %}\n\
        {% macro not_constant() %}{{ return('n' ~ target.name) }}{% endmacro %}\n\
        {% macro default__type_boolean() %}{{ return('BOOL') }}{% endmacro %}\n\
        {% macro default__type_numeric() %}{{ return('DECIMAL' ~ '(10)') }}{% endmacro %}\n";

    /// The model's SQL and called macros, and how many calls were folded.
    /// A macro override (of a name the model does not use) sends every call
    /// through Jinja.
    fn render(phase: Phase, adapter: &str, jinja_only: bool) -> (String, Vec<String>, usize) {
        let config = JinjaConfig {
            root_package: "proj".into(),
            adapter_type: adapter.into(),
            target: serde_json::json!({"name": "dev", "type": adapter}),
            ..JinjaConfig::default()
        };
        let macros = vec![MacroSource {
            package: "proj".into(),
            path: "macros/m.sql".into(),
            contents: Arc::from(PROJECT_MACROS),
        }];
        let (jinja, diagnostics) = Jinja::new(config, macros);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let mut node = NodeInput::new(phase, "proj", "models/m.sql", MODEL);
        if jinja_only {
            node.overrides
                .macros
                .insert("unused_macro".into(), serde_json::json!("x"));
        }
        FOLDED_CALLS.with(|n| n.set(0));
        let out = jinja
            .render_node(&node, &Names, None)
            .expect("the model renders");
        (out.sql, out.macros_called, FOLDED_CALLS.with(Cell::get))
    }

    #[test]
    fn folded_calls_render_and_record_as_jinja_does() {
        for adapter in ["duckdb", "postgres", "snowflake"] {
            for phase in [Phase::Parse, Phase::Compile] {
                let folded = render(phase, adapter, false);
                let jinja = render(phase, adapter, true);
                assert_eq!((&folded.0, &folded.1), (&jinja.0, &jinja.1), "{adapter}");
                assert_eq!(jinja.2, 0);
                // type_int, type_string, default__/snowflake__type_timestamp,
                // type_float (inside `cents`), proj_constant, type_boolean;
                // not type_numeric (its project override is no literal) or
                // not_constant.
                assert_eq!(folded.2, 6, "{adapter}: {}", folded.0);
            }
        }
        let snowflake = render(Phase::Compile, "snowflake", false).0;
        assert!(
            snowflake.contains("TIMESTAMP_NTZ, DECIMAL(10)"),
            "{snowflake}"
        );
        assert!(snowflake.contains(", s, ndev, BOOL"), "{snowflake}");
    }

    fn scanned(sql: &str, arguments: &[&str]) -> ScannedMacro {
        ScannedMacro {
            name: "m".into(),
            arguments: arguments.iter().map(|a| a.to_string()).collect(),
            uses_varargs: false,
            uses_kwargs: false,
            sql: sql.into(),
            line: 1,
        }
    }

    #[test]
    fn a_macro_sharing_its_files_template_is_not_folded() {
        // A nested macro keeps the file from being cut into one template
        // per macro; a call then runs the file's top level too.
        let file = "{% macro outer() %}{% macro inner() %}x{% endmacro %}{% endmacro %}\n\
            {% macro shared_constant() %}{{ return('v') }}{% endmacro %}";
        let macros = vec![MacroSource {
            package: "proj".into(),
            path: "macros/nested.sql".into(),
            contents: Arc::from(file),
        }];
        let config = JinjaConfig {
            root_package: "proj".into(),
            ..JinjaConfig::default()
        };
        let (jinja, diagnostics) = Jinja::new(config, macros);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let node = NodeInput::new(
            Phase::Compile,
            "proj",
            "models/m.sql",
            "{{ shared_constant() }}",
        );
        FOLDED_CALLS.with(|n| n.set(0));
        let out = jinja.render_node(&node, &Names, None).expect("renders");
        assert_eq!(out.sql, "v");
        assert_eq!(FOLDED_CALLS.with(Cell::get), 0);
    }

    #[test]
    fn return_only_bodies_are_recognised() {
        let literal = |s: &str| Some(Body::Literal(s.into()));
        let cases = [
            (
                "{% macro m() %}{{ return(\"TEXT\") }}{% endmacro %}",
                literal("TEXT"),
            ),
            (
                "{%- macro m() -%}\n  {{- return('a b') -}}\n{%- endmacro -%}",
                literal("a b"),
            ),
            (
                "{% macro m() %}{% do return('x') %}{% endmacro %}",
                literal("x"),
            ),
            (
                "{%- macro m() -%}{{ return(adapter.dispatch('type_int', 'dbt')()) }}{%- endmacro -%}",
                Some(Body::Dispatch {
                    name: "type_int".into(),
                    namespace: Some("dbt".into()),
                }),
            ),
            (
                "{% macro m() %}{{ return(adapter.dispatch(\"x\")()) }}{% endmacro %}",
                Some(Body::Dispatch {
                    name: "x".into(),
                    namespace: None,
                }),
            ),
            (
                "{% macro m() %}select 1{{ return('x') }}{% endmacro %}",
                None,
            ),
            ("{% macro m() %}{{ return('x' ~ y) }}{% endmacro %}", None),
            ("{% macro m() %}{{ return('it\\'s') }}{% endmacro %}", None),
            ("{% macro m() %}{{ return(var('x')) }}{% endmacro %}", None),
            (
                "{% macro m() %}{{ return('a') }}{{ return('b') }}{% endmacro %}",
                None,
            ),
            (
                "{% macro m() %}{{ return(adapter.dispatch('x', 'dbt')(1)) }}{% endmacro %}",
                None,
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(body(&scanned(sql, &[])), expected, "{sql}");
        }
        let with_argument = scanned("{% macro m(a) %}{{ return('x') }}{% endmacro %}", &["a"]);
        assert_eq!(body(&with_argument), None);
    }
}

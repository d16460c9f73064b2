//! dbt's four builtin generic tests (`unique`, `not_null`, `accepted_values`,
//! `relationships`) answered without Jinja when the builtin is what would run.
//!
//! Through Jinja each costs the test macro, an `adapter.dispatch`, the
//! dispatched `default__test_*` macro and, for `not_null`,
//! `should_store_failures()`: most of the CPU of compiling a large project,
//! whose tests outnumber its models three to one. The text written here is
//! the builtin macros' own (builtins/tests.sql); the tests at the end of this
//! file render every case both ways and require the same SQL and record.

use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use serde_json::Value as Json;

use crate::context::{Render, json_to_value, split_args};
use crate::registry::{BUILTIN_PACKAGE, MacroEntry, Registry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuiltinTest {
    Unique,
    NotNull,
    AcceptedValues,
    Relationships,
}

impl BuiltinTest {
    const ALL: [BuiltinTest; 4] = [
        BuiltinTest::Unique,
        BuiltinTest::NotNull,
        BuiltinTest::AcceptedValues,
        BuiltinTest::Relationships,
    ];

    fn macro_name(self) -> &'static str {
        match self {
            BuiltinTest::Unique => "test_unique",
            BuiltinTest::NotNull => "test_not_null",
            BuiltinTest::AcceptedValues => "test_accepted_values",
            BuiltinTest::Relationships => "test_relationships",
        }
    }

    fn from_macro_name(name: &str) -> Option<BuiltinTest> {
        BuiltinTest::ALL
            .into_iter()
            .find(|t| t.macro_name() == name)
    }

    /// The test macro's parameters, in order; all required but
    /// `accepted_values`' `quote` (default true).
    fn parameters(self) -> &'static [&'static str] {
        match self {
            BuiltinTest::Unique | BuiltinTest::NotNull => &["model", "column_name"],
            BuiltinTest::AcceptedValues => &["model", "column_name", "values", "quote"],
            BuiltinTest::Relationships => &["model", "column_name", "to", "field"],
        }
    }

    fn required(self) -> usize {
        match self {
            BuiltinTest::AcceptedValues => 3,
            _ => self.parameters().len(),
        }
    }
}

/// Which builtin tests may be answered natively in a registry: those whose
/// dispatch (from dbt's namespace, in the project's search order, for the
/// target's adapter) lands on the builtin `default__test_*`, and for
/// `not_null` whose `should_store_failures` is the builtin. Also whether
/// `get_where_subquery` dispatches to the builtin `default__` (see
/// `test_kwargs`): every generic test asks.
#[derive(Debug, Default)]
pub(crate) struct NativeTests {
    tests: [bool; 4],
    where_subquery: bool,
}

impl NativeTests {
    pub fn resolve(reg: &Registry) -> NativeTests {
        let is_builtin = |e: Option<&Arc<MacroEntry>>, name: &str| {
            e.is_some_and(|e| e.package == BUILTIN_PACKAGE && e.name == name)
        };
        let native = BuiltinTest::ALL.map(|test| {
            let name = test.macro_name();
            let dispatched = reg.resolve_dispatch(BUILTIN_PACKAGE, Some(BUILTIN_PACKAGE), name);
            is_builtin(dispatched, &format!("default__{name}"))
                && (test != BuiltinTest::NotNull
                    || is_builtin(
                        reg.lookup(BUILTIN_PACKAGE, "should_store_failures"),
                        "should_store_failures",
                    ))
        });
        let where_subquery = is_builtin(
            reg.resolve_dispatch(BUILTIN_PACKAGE, Some(BUILTIN_PACKAGE), "get_where_subquery"),
            "default__get_where_subquery",
        );
        NativeTests {
            tests: native,
            where_subquery,
        }
    }

    fn allows(&self, test: BuiltinTest) -> bool {
        self.tests[test as usize]
    }

    /// `get_where_subquery` dispatches to dbt's builtin `default__` macro.
    pub fn where_subquery_is_builtin(&self) -> bool {
        self.where_subquery
    }
}

/// A generic test's raw code when it is just the call of a builtin test
/// (`{{ test_not_null(**_dbt_generic_test_kwargs) }}`, which is what dbt
/// writes for a test without config), rendered without compiling it as a
/// template: the text the template would give, or `None` for any other raw
/// code or whenever [`call`] would leave the macro to Jinja.
pub(crate) fn render_call(
    render: &Arc<Render>,
    package: &str,
    source: &str,
    kwargs: &Value,
) -> Option<String> {
    let name = source
        .strip_prefix("{{ ")?
        .strip_suffix("(**_dbt_generic_test_kwargs) }}")?;
    BuiltinTest::from_macro_name(name)?;
    // The name as the template would look it up: no global shadows a test
    // macro, and `call` turns down overrides and extra context.
    let entry = render.reg.lookup(package, name)?;
    let keywords = kwargs
        .try_iter()
        .ok()?
        .map(|key| {
            let value = kwargs.get_item(&key).ok()?;
            Some((key.as_str()?.to_string(), value))
        })
        .collect::<Option<Vec<_>>>()?;
    call_with(render, entry, Vec::new(), keywords).map(|sql| sql.to_string())
}

/// The builtin test macro `entry` called with `args`, rendered natively;
/// `None` when it must run in Jinja (not a builtin test, an override, a
/// parse-time render, arguments it does not take, or a value whose effect
/// is not certain).
pub(crate) fn call(render: &Arc<Render>, entry: &MacroEntry, args: &[Value]) -> Option<Value> {
    // Every macro call passes here: turn the others away before copying
    // their arguments.
    if entry.package != BUILTIN_PACKAGE || BuiltinTest::from_macro_name(&entry.name).is_none() {
        return None;
    }
    let (positional, keywords) = split_args(args);
    call_with(render, entry, positional, keywords)
}

fn call_with(
    render: &Arc<Render>,
    entry: &MacroEntry,
    positional: Vec<Value>,
    keywords: Vec<(String, Value)>,
) -> Option<Value> {
    if entry.package != BUILTIN_PACKAGE {
        return None;
    }
    let test = BuiltinTest::from_macro_name(&entry.name)?;
    let reg = &render.reg;
    if !reg.native_tests.allows(test) || !render.execute() || !render.names_are_plain() {
        return None;
    }
    let arguments = bind(test, positional, keywords)?;
    let sql = match test {
        BuiltinTest::Unique => unique(&arguments),
        BuiltinTest::NotNull => not_null(&arguments, store_failures(render)?),
        BuiltinTest::AcceptedValues => accepted_values(&arguments)?,
        BuiltinTest::Relationships => relationships(&arguments),
    };
    // Through Jinja: the dispatched macro, and `should_store_failures`.
    if !render.record_native_call(&entry.unique_id, 2) {
        return None;
    }
    #[cfg(test)]
    tests::NATIVE_CALLS.with(|n| n.set(n.get() + 1));
    Some(Value::from_safe_string(sql))
}

/// The arguments by parameter, as the macro would bind them; `None` for an
/// unknown, repeated or missing argument, or an undefined value.
fn bind(
    test: BuiltinTest,
    positional: Vec<Value>,
    keywords: Vec<(String, Value)>,
) -> Option<Vec<Value>> {
    let parameters = test.parameters();
    if positional.len() > parameters.len() {
        return None;
    }
    let mut bound: Vec<Option<Value>> = vec![None; parameters.len()];
    for (slot, value) in bound.iter_mut().zip(positional) {
        *slot = Some(value);
    }
    for (key, value) in keywords {
        let at = parameters.iter().position(|p| *p == key)?;
        if bound[at].replace(value).is_some() {
            return None;
        }
    }
    if test == BuiltinTest::AcceptedValues && bound[3].is_none() {
        bound[3] = Some(Value::from(true));
    }
    let bound: Vec<Value> = bound.into_iter().collect::<Option<_>>()?;
    let defined = bound[..test.required()].iter().all(|v| !v.is_undefined());
    defined.then_some(bound)
}

/// What the builtin `should_store_failures()` returns, as a truth value:
/// the `store_failures` config when set, else `flags.STORE_FAILURES`.
fn store_failures(render: &Render) -> Option<bool> {
    match render.config_value("store_failures").ok()? {
        Some(Json::Null) | None => Some(
            render
                .reg
                .flags
                .get_attr("STORE_FAILURES")
                .ok()
                .is_some_and(|v| v.is_true()),
        ),
        Some(value) => Some(json_to_value(&value).is_true()),
    }
}

/// The text the `{% test %}` wrapper puts around the dispatched macro's.
fn wrapped(body: String) -> String {
    format!("\n    \n    {body}\n")
}

fn unique(args: &[Value]) -> String {
    let (model, column) = (&args[0], &args[1]);
    wrapped(format!(
        "\n\nselect\n    {column} as unique_field,\n    count(*) as n_records\n\n\
         from {model}\nwhere {column} is not null\ngroup by {column}\n\
         having count(*) > 1\n\n"
    ))
}

fn not_null(args: &[Value], store_failures: bool) -> String {
    let (model, column) = (&args[0], &args[1]);
    let column_list = if store_failures {
        "*".to_string()
    } else {
        column.to_string()
    };
    wrapped(format!(
        "\n\n\n\nselect {column_list}\nfrom {model}\nwhere {column} is null\n\n"
    ))
}

/// `None` when `values` is not a list (Jinja would iterate whatever it is).
fn accepted_values(args: &[Value]) -> Option<String> {
    let (model, column, values, quote) = (&args[0], &args[1], &args[2], &args[3]);
    if values.kind() != ValueKind::Seq {
        return None;
    }
    let quote = quote.is_true();
    let items: Vec<String> = values
        .try_iter()
        .ok()?
        .map(|value| {
            if quote {
                format!("'{}'", value.to_string().replace('\'', "''"))
            } else {
                value.to_string()
            }
        })
        .collect();
    Some(wrapped(format!(
        "\n\nwith all_values as (\n\n    select\n        {column} as value_field,\n        \
         count(*) as n_records\n\n    from {model}\n    group by {column}\n\n)\n\n\
         select *\nfrom all_values\nwhere value_field not in (\n    {}\n)\n\n",
        items.join(",")
    )))
}

fn relationships(args: &[Value]) -> String {
    let (model, column, to, field) = (&args[0], &args[1], &args[2], &args[3]);
    wrapped(format!(
        "\n\nwith child as (\n    select {column} as from_field\n    from {model}\n    \
         where {column} is not null\n),\n\nparent as (\n    select {field} as to_field\n    \
         from {to}\n)\n\nselect\n    from_field\n\nfrom child\nleft join parent\n    \
         on child.from_field = parent.to_field\n\nwhere parent.to_field is null\n\n"
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;

    use serde_json::{Value as Json, json};

    use crate::test_support::Names;
    use crate::{Jinja, JinjaConfig, MacroSource, NodeInput, Phase};

    thread_local! {
        pub(super) static NATIVE_CALLS: Cell<usize> = const { Cell::new(0) };
    }

    /// The builtin `default__test_*` macros copied into the root project:
    /// dispatch then finds the copies, and the tests render through Jinja.
    fn jinja_copies() -> MacroSource {
        let builtins = include_str!("../builtins/tests.sql");
        let start = builtins
            .find("{% macro default__test_unique")
            .expect("the builtins define default__test_unique");
        let end = builtins
            .find("{# The relation a generic test reads")
            .expect("get_where_subquery follows the tests");
        MacroSource {
            package: "proj".into(),
            path: "macros/copies.sql".into(),
            contents: Arc::from(&builtins[start..end]),
        }
    }

    struct Case {
        test: &'static str,
        kwargs: Vec<(String, Json)>,
        config: Vec<(&'static str, Json)>,
        flags: Vec<(&'static str, Json)>,
        /// Appended to the test's raw code, as dbt does with its config.
        suffix: &'static str,
    }

    fn case(test: &'static str, kwargs: Json) -> Case {
        let kwargs = kwargs
            .as_object()
            .expect("kwargs are a mapping")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Case {
            test,
            kwargs,
            config: Vec::new(),
            flags: Vec::new(),
            suffix: "",
        }
    }

    /// The SQL and called macros of the case (or its error), and how many
    /// builtin tests were answered natively.
    fn try_render(
        case: &Case,
        macros: Vec<MacroSource>,
        phase: Phase,
    ) -> (Result<(String, Vec<String>), String>, usize) {
        let config = JinjaConfig {
            root_package: "proj".into(),
            flags: case
                .flags
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..JinjaConfig::default()
        };
        let (jinja, diagnostics) = Jinja::new(config, macros);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let raw_code = format!(
            "{{{{ test_{}(**_dbt_generic_test_kwargs) }}}}{}",
            case.test, case.suffix
        );
        let mut node = NodeInput::new(phase, "proj", "models/schema.yml", &raw_code);
        node.resource_type = "test".into();
        node.generic_test_kwargs = Some(&case.kwargs);
        node.config = Arc::new(
            case.config
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        NATIVE_CALLS.with(|n| n.set(0));
        let out = jinja
            .render_node(&node, &Names, None)
            .map(|out| (out.sql, out.macros_called))
            .map_err(|d| format!("{d:?}"));
        (out, NATIVE_CALLS.with(Cell::get))
    }

    fn render(case: &Case, macros: Vec<MacroSource>, phase: Phase) -> (String, Vec<String>, usize) {
        let (out, calls) = try_render(case, macros, phase);
        let (sql, called) = out.unwrap_or_else(|e| panic!("{}: {e}", case.test));
        (sql, called, calls)
    }

    fn cases() -> Vec<Case> {
        let model = json!("{{ get_where_subquery(ref('orders')) }}");
        let mut cases = vec![
            case("unique", json!({"column_name": "id", "model": model})),
            case(
                "unique",
                json!({"column_name": "lower(\"Email\")", "model": model}),
            ),
            case("not_null", json!({"column_name": "id", "model": model})),
            case(
                "not_null",
                json!({"column_name": "id", "model": "{{ source('app', 'users') }}"}),
            ),
            case(
                "accepted_values",
                json!({"column_name": "status", "model": model,
                       "values": ["placed", "it's", "", "a,b"]}),
            ),
            case(
                "accepted_values",
                json!({"column_name": "n", "model": model, "values": [1, 2.5, true, null]}),
            ),
            case(
                "accepted_values",
                json!({"column_name": "n", "model": model, "values": [1, 2], "quote": false}),
            ),
            case(
                "accepted_values",
                json!({"column_name": "n", "model": model, "values": [], "quote": "no"}),
            ),
            case(
                "accepted_values",
                json!({"column_name": "n", "model": model, "values": ["{{ var('x', 'y') }}"]}),
            ),
            case(
                "relationships",
                json!({"column_name": "member_id", "model": model,
                       "to": "ref('members')", "field": "id"}),
            ),
            case(
                "relationships",
                json!({"column_name": "gym_id", "model": model,
                       "to": "source('app', 'gyms')", "field": "\"Id\""}),
            ),
        ];
        let mut filtered = case("unique", json!({"column_name": "id", "model": model}));
        filtered.config.push(("where", json!("id > 0")));
        filtered.suffix = "{{ config(severity=\"warn\") }}";
        cases.push(filtered);
        for (config, flag) in [
            (Some(json!(true)), None),
            (Some(json!(false)), Some(json!(true))),
            (Some(Json::Null), Some(json!(true))),
            (None, Some(json!(false))),
            (Some(json!("yes")), None),
        ] {
            let mut c = case("not_null", json!({"column_name": "id", "model": model}));
            c.config.extend(config.map(|v| ("store_failures", v)));
            c.flags.extend(flag.map(|v| ("STORE_FAILURES", v)));
            cases.push(c);
        }
        cases
    }

    #[test]
    fn native_builtin_tests_render_as_the_macros_do() {
        for case in cases() {
            for phase in [Phase::Compile, Phase::Run] {
                let native = render(&case, Vec::new(), phase);
                let jinja = render(&case, vec![jinja_copies()], phase);
                assert_eq!(native.2, 1, "{} was not answered natively", case.test);
                assert_eq!(jinja.2, 0, "the copies of {} did not run", case.test);
                assert_eq!(
                    (&native.0, &native.1),
                    (&jinja.0, &jinja.1),
                    "{} {:?} {:?}",
                    case.test,
                    case.kwargs,
                    case.config
                );
                let id = format!("macro.dbt.test_{}", case.test);
                assert!(native.1.contains(&id), "{:?}", native.1);
            }
        }
    }

    #[test]
    fn arguments_the_macros_do_not_take_go_to_jinja() {
        let model = json!("{{ get_where_subquery(ref('orders')) }}");
        for kwargs in [
            json!({"column_name": "id", "model": model, "extra": 1}),
            json!({"model": model}),
            json!({"column_name": "id", "model": model, "values": "abc"}),
        ] {
            let test = if kwargs.get("values").is_some() {
                "accepted_values"
            } else {
                "not_null"
            };
            let c = case(test, kwargs);
            let (native, calls) = try_render(&c, Vec::new(), Phase::Compile);
            assert_eq!(calls, 0, "{:?}", c.kwargs);
            let (jinja, _) = try_render(&c, vec![jinja_copies()], Phase::Compile);
            assert_eq!(native, jinja, "{:?}", c.kwargs);
        }
    }

    #[test]
    fn parse_time_renders_stay_in_jinja() {
        let c = case(
            "not_null",
            json!({"column_name": "id", "model": "{{ get_where_subquery(ref('orders')) }}"}),
        );
        assert_eq!(render(&c, Vec::new(), Phase::Parse).2, 0);
    }

    #[test]
    fn a_project_override_of_a_dispatched_test_turns_it_off() {
        let c = case(
            "unique",
            json!({"column_name": "id", "model": "{{ get_where_subquery(ref('orders')) }}"}),
        );
        let (_, _, calls) = render(&c, vec![jinja_copies()], Phase::Compile);
        assert_eq!(calls, 0);
        let (sql, _, calls) = render(&c, Vec::new(), Phase::Compile);
        assert_eq!(calls, 1);
        assert!(sql.contains("from \"db\".\"main\".\"orders\""), "{sql}");
    }
}

//! Jinja2 behaviour dbt projects rely on and minijinja lacks natively:
//! `%` formatting, datetime arithmetic, `caller()` with arguments and
//! mutable nested literals. Each test renders a model and checks the SQL.

mod support;

use hangar_jinja::{NodeInput, Phase};
use support::{Names, jinja_with_macros};

fn jinja(macros: &str) -> hangar_jinja::Jinja {
    let (jinja, diagnostics) = jinja_with_macros(macros);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    jinja
}

/// Renders `model` with `macros` defined; an error becomes its message.
fn render_with(macros: &str, model: &str) -> Result<String, String> {
    let node = NodeInput::new(Phase::Compile, "proj", "models/m.sql", model);
    jinja(macros)
        .render_node(&node, &Names, None)
        .map(|o| o.sql)
        .map_err(|d| d.message)
}

fn render(model: &str) -> String {
    render_with("", model).unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn render_err(model: &str) -> String {
    match render_with("", model) {
        Ok(sql) => panic!("expected an error, rendered {sql:?}"),
        Err(e) => e,
    }
}

// --- % formatting -----------------------------------------------------------

#[test]
fn named_percent_formatting() {
    assert_eq!(
        render("{{ '%(name)s and %(n)d' % {'name': 'x', 'n': 3} }}"),
        "x and 3"
    );
    assert_eq!(
        render("{% set d = {'t': 'orders', 'n': 2.5} %}{{ \"%(t)s: %(n)06.2f%%\" % d }}"),
        "orders: 002.50%"
    );
    assert_eq!(
        render("{% set row = {'id': 7} %}{{ 'id=%(id)s, again %(id)03d' % row }}"),
        "id=7, again 007"
    );
}

#[test]
fn positional_percent_formatting_follows_python() {
    assert_eq!(
        render("{{ '%05.2f|%-3s|%r|%i|%%' % (3.14159, 'a', 'b', 4.9) }}"),
        "03.14|a  |'b'|4|%"
    );
    assert_eq!(render("{{ '%s/%s' % (none, true) }}"), "None/True");
    assert_eq!(render("{{ '%s' % ['a', 1] }}"), "['a', 1]");
    // A filter binds tighter than `%`, `~` looser, as in Jinja2.
    assert_eq!(
        render("{% set n = 'ab' %}{{ 'x' ~ '%s' % n|upper ~ 'y' }}"),
        "xABy"
    );
    assert_eq!(render("{% set t = ('a', 'b') %}{{ '%s-%s' % t }}"), "a-b");
    // A variable format string formats too; numbers still take the remainder.
    assert_eq!(
        render("{% set f = '%d rows' %}{% set n = 7 %}{{ f % n }} {{ n % 4 }} {{ -7 % 3 }}"),
        "7 rows 3 2"
    );
    // SQL outside tags is never touched.
    assert_eq!(
        render("select 7 % 3, '%s' % x where a like '%{{ 'b' }}%'"),
        "select 7 % 3, '%s' % x where a like '%b%'"
    );
}

#[test]
fn percent_formatting_in_macros() {
    let macros = "{% macro label(t, n) %}{{ '%(t)s_%(n)02d' % {'t': t, 'n': n} }}{% endmacro %}";
    assert_eq!(
        render_with(macros, "{{ label('part', 3) }}").as_deref(),
        Ok("part_03")
    );
}

#[test]
fn percent_formatting_errors_are_clear() {
    assert!(
        render_err("{{ '%(missing)s' % {} }}")
            .contains("format key 'missing' not found in the mapping"),
    );
    assert!(
        render_err("{{ '%s %s' % ('a',) }}").contains("not enough arguments for format string")
    );
    assert!(
        render_err("{{ '%s' % ('a', 'b') }}")
            .contains("not all arguments converted during string formatting")
    );
    assert!(
        render_err("{{ '%d' % 'x' }}").contains("%d format: a real number is required, not str")
    );
    assert!(render_err("{{ '%(a)s' % ('x',) }}").contains("format requires a mapping"));
    assert!(render_err("{{ '%y' % 1 }}").contains("unsupported format character 'y'"));
}

// --- modules.datetime -------------------------------------------------------

const DT: &str = "{% set dt = modules.datetime %}{% set d = dt.datetime(2024, 3, 5, 6, 7, 8) %}";

#[test]
fn datetime_arithmetic() {
    let r = |body: &str| render(&format!("{DT}{body}"));
    assert_eq!(r("{{ d - dt.timedelta(days=3) }}"), "2024-03-02 06:07:08");
    assert_eq!(
        r("{{ (d + dt.timedelta(hours=20, minutes=1)).strftime('%Y-%m-%d %H:%M') }}"),
        "2024-03-06 02:08"
    );
    assert_eq!(r("{{ dt.timedelta(weeks=1) + d }}"), "2024-03-12 06:07:08");
    assert_eq!(
        r("{{ (dt.date(2024, 3, 1) - dt.date(2024, 2, 1)).days }}"),
        "29"
    );
    assert_eq!(
        r("{{ dt.date(2024, 3, 1) - dt.timedelta(days=1, hours=5) }}"),
        "2024-02-29"
    );
    assert_eq!(r("{{ d - dt.datetime(2024, 3, 4) }}"), "1 day, 6:07:08");
    assert_eq!(
        r(
            "{% set td = dt.datetime(2024, 3, 4) - d %}{{ td }} {{ td.days }} {{ td.seconds }} {{ td.total_seconds() }}"
        ),
        "-2 days, 17:52:52 -2 64372 -108428.0"
    );
    assert_eq!(
        r("{{ dt.timedelta(days=1) - dt.timedelta(seconds=1, microseconds=5) }}"),
        "23:59:58.999995"
    );
    assert_eq!(
        r(
            "{% set later = d + dt.timedelta(days=1) %}{{ later > d }} {{ d >= later }} {{ d == dt.datetime(2024, 3, 5, 6, 7, 8) }} {{ [later, d]|sort|first }}"
        ),
        "True False True 2024-03-05 06:07:08"
    );
    assert_eq!(
        r(
            "{{ (d - dt.timedelta(days=40)).date() }} {{ d.date().isoformat() }} {{ d.isoformat() }} {{ d.year }}-{{ d.month }}"
        ),
        "2024-01-25 2024-03-05 2024-03-05T06:07:08 2024-3"
    );
    assert_eq!(
        r("{{ d.replace(day=1, hour=0) }} {{ dt.timedelta(days=2) > dt.timedelta(hours=47) }}"),
        "2024-03-01 00:07:08 True"
    );
    assert_eq!(
        r("{{ '%s | %r | %r | %r' % (d, d, d.date(), d - dt.datetime(2024, 3, 4)) }}"),
        "2024-03-05 06:07:08 | datetime.datetime(2024, 3, 5, 6, 7, 8) | datetime.date(2024, 3, 5) | datetime.timedelta(days=1, seconds=22028)"
    );
}

#[test]
fn datetime_now_and_run_started_at() {
    assert_eq!(
        render(
            "{% set dt = modules.datetime %}{% set cutoff = dt.datetime.now() - dt.timedelta(days=3) %}{{ (dt.datetime.now() - cutoff).days }} {{ cutoff < dt.datetime.now() }}"
        ),
        "3 True"
    );
    assert_eq!(
        render("{{ (run_started_at - modules.datetime.timedelta(days=1)).isoformat() }}"),
        "2026-11-21T01:02:03.456789+00:00"
    );
    assert_eq!(
        render(
            "{{ (run_started_at - modules.datetime.datetime(2026, 11, 1).replace(tzinfo=run_started_at.tzinfo)).days }}"
        ),
        "21"
    );
}

#[test]
fn datetimes_pass_through_macros() {
    let macros = "{% macro days_between(a, b) %}{{ (a - b).days }}{% endmacro %}";
    assert_eq!(
        render_with(
            macros,
            "{{ days_between(modules.datetime.date(2024, 12, 25), modules.datetime.date(2024, 1, 1)) }}"
        )
        .as_deref(),
        Ok("359")
    );
}

#[test]
fn ordinary_plus_and_minus_keep_working() {
    assert_eq!(
        render(
            "{% set a = 5 %}{% set b = 2 %}{% set f = 0.5 %}{{ a - b }} {{ a + b }} {{ a - f }} {{ a + b * 2 }} {{ a - b - 1 }} {{ -a + b }}"
        ),
        "3 7 4.5 9 2 -3"
    );
    assert_eq!(
        render(
            "{% set s = 'ab' %}{% set t = 'cd' %}{% set l = [1] %}{% set m = [2] %}{{ s + t }} {{ s ~ t ~ 1 }} {{ (l + m)|join(',') }} {{ (l + [3])|join(',') }}"
        ),
        "abcd abcd1 1,2 1,3"
    );
    assert_eq!(
        render(
            "{% set ns = namespace(total=0) %}{% for i in range(5) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }} {% for x in [1, 2] %}{{ loop.length - loop.index }}{% endfor %}"
        ),
        "10 10"
    );
    assert!(
        render_err("{% set s = 'a' %}{% set n = 1 %}{{ s - n }}")
            .contains("tried to use - operator on unsupported types string and number")
    );
}

#[test]
fn datetime_arithmetic_errors_are_clear() {
    let e = |body: &str| render_err(&format!("{DT}{body}"));
    assert!(
        e("{% set n = 1 %}{{ d - n }}")
            .contains("unsupported operand type(s) for -: 'datetime.datetime' and 'number'")
    );
    assert!(e("{{ d + d }}").contains(
        "unsupported operand type(s) for +: 'datetime.datetime' and 'datetime.datetime'"
    ));
    assert!(
        e("{{ run_started_at - d }}")
            .contains("can't subtract offset-naive and offset-aware datetimes")
    );
    assert!(
        e("{{ d - d.date() }}")
            .contains("unsupported operand type(s) for -: 'datetime.datetime' and 'datetime.date'")
    );
    assert!(
        e("{{ dt.timedelta(days='x') }}").contains("unsupported type for timedelta days component")
    );
    assert!(e("{{ d + dt.timedelta(days=3000000) }}").contains("date value out of range"));
}

#[test]
fn errors_in_rewritten_expressions_point_at_the_users_line() {
    let model = "select 1\n{% set d = modules.datetime.datetime(2024, 1, 1) %}{% set n = 1 %}\n-- {{ '%s' % n }}\n{{ d - n }}\nselect 2";
    let node = NodeInput::new(Phase::Compile, "proj", "models/m.sql", model);
    let d = jinja("")
        .render_node(&node, &Names, None)
        .expect_err("datetime minus int fails");
    assert!(
        d.message.contains("unsupported operand type(s) for -"),
        "{}",
        d.message
    );
    let location = d.location.expect("located");
    assert_eq!(location.line, 4);
}

// --- caller() with arguments ------------------------------------------------

// As in Jinja2, `caller` inside a call block's body is that body's own
// caller, so macros that pass their caller on alias it first.
const CALLER_MACROS: &str = "
{% macro each(items) %}{% for i in items %}[{{ caller(i) }}]{% endfor %}{% endmacro %}
{% macro each_kw(items) %}{% for i in items %}{{ caller(row=i, n=loop.index) }};{% endfor %}{% endmacro %}
{% macro twice() %}{{ caller(1) }}{{ caller(2) }}{% endmacro %}
{% macro tree(node) %}{% set outer = caller %}{{ caller(node.name) }}{% for c in node.children %}({% call(n) tree(c) %}{{ outer(n) }}{% endcall %}){% endfor %}{% endmacro %}
{% macro wrap_each(items) %}{% set outer = caller %}<{% call(x) each(items) %}{{ outer(x) }}!{% endcall %}>{% endmacro %}
";

fn render_caller(model: &str) -> Result<String, String> {
    render_with(CALLER_MACROS, model)
}

#[test]
fn caller_with_arguments() {
    assert_eq!(
        render_caller(
            "{% call(row) each([{'name': 'a'}, {'name': 'b'}]) %}{{ row.name }}{% endcall %}"
        )
        .as_deref(),
        Ok("[a][b]")
    );
    // The body sees the calling template's variables.
    assert_eq!(
        render_caller(
            "{% set prefix = 'p_' %}{% call(c) each(['x', 'y']) %}{{ prefix ~ c }}{% endcall %}"
        )
        .as_deref(),
        Ok("[p_x][p_y]")
    );
    assert_eq!(
        render_caller("{% call(row, n) each_kw(['a', 'b']) %}{{ n }}={{ row }}{% endcall %}")
            .as_deref(),
        Ok("1=a;2=b;")
    );
}

#[test]
fn caller_body_runs_on_every_call() {
    assert_eq!(
        render_caller("{% set seen = [] %}{% call(x) twice() %}{% do seen.append(x) %}<{{ x }}>{% endcall %} {{ seen }}")
            .as_deref(),
        Ok("<1><2> [1, 2]")
    );
}

#[test]
fn nested_and_recursive_call_blocks() {
    assert_eq!(
        render_caller("{% set t = {'name': 'r', 'children': [{'name': 'a', 'children': []}, {'name': 'b', 'children': [{'name': 'c', 'children': []}]}]} %}{% call(n) tree(t) %}{{ n|upper }}{% endcall %}")
            .as_deref(),
        Ok("R(A)(B(C))")
    );
    assert_eq!(
        render_caller("{% call(v) wrap_each([1, 2]) %}{{ v * 10 }}{% endcall %}").as_deref(),
        Ok("<[10!][20!]>")
    );
    // A call block inside a macro body, calling another macro.
    let macros = format!(
        "{CALLER_MACROS}{{% macro listing(items) %}}{{% call(i) each(items) %}}{{{{ i }}}}{{% endcall %}}{{% endmacro %}}"
    );
    assert_eq!(
        render_with(&macros, "{{ listing([3, 4]) }}").as_deref(),
        Ok("[3][4]")
    );
}

#[test]
fn caller_without_arguments_still_works() {
    let macros = "{% macro wrap() %}<{{ caller() }}>{% endmacro %}";
    assert_eq!(
        render_with(macros, "{% call wrap() %}inner {{ 1 + 1 }}{% endcall %}").as_deref(),
        Ok("<inner 2>")
    );
}

#[test]
fn caller_argument_errors() {
    let e = render_caller("{% call twice() %}x{% endcall %}").expect_err("too many arguments");
    assert!(e.contains("too many arguments"), "{e}");
}

// --- mutable literals -------------------------------------------------------

#[test]
fn nested_literals_are_mutable() {
    assert_eq!(
        render(
            "{% set d = {'a': []} %}{% do d['a'].append(1) %}{% do d.a.append(2) %}{{ d['a'] }}"
        ),
        "[1, 2]"
    );
    assert_eq!(
        render(
            "{% set l = [[1], {}] %}{% do l[0].append(2) %}{% do l[1].update({'k': 'v'}) %}{{ l[0] }} {{ l[1].k }} {{ l|length }}"
        ),
        "[1, 2] v 2"
    );
    assert_eq!(
        render(
            "{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% do ns.items.append(i) %}{% endfor %}{{ ns.items }}"
        ),
        "[0, 1, 2]"
    );
    assert_eq!(
        render(
            "{% set x = var('not_set', []) %}{% do x.append('v') %}{% set y = none or {} %}{% do y.update({'k': 1}) %}{{ x }} {{ y.k }}"
        ),
        "['v'] 1"
    );
}

#[test]
fn macro_default_arguments_are_mutable() {
    let macros = "
{% macro collect(cols=[], opts={'seen': []}) %}{% do cols.append('x') %}{% do opts.seen.append(1) %}{{ cols|join(',') }}/{{ opts.seen|length }}{% endmacro %}
{% macro fresh() %}{{ return({'rows': []}) }}{% endmacro %}";
    // Each call gets a fresh default (Python would share one list).
    assert_eq!(
        render_with(
            macros,
            "{{ collect() }}|{{ collect() }}|{{ collect(['a']) }}"
        )
        .as_deref(),
        Ok("x/1|x/1|a,x/1")
    );
    assert_eq!(
        render_with(
            macros,
            "{% set r = fresh() %}{% do r.rows.append(5) %}{% do r.update({'n': 1}) %}{{ r.rows }} {{ r.n }}"
        )
        .as_deref(),
        Ok("[5] 1")
    );
}

#[test]
fn read_only_literals_behave_as_before() {
    assert_eq!(
        render(
            "{% for c in ['a', 'b'] %}{{ c }}{% endfor %} {{ 'a' in ['a'] }} {{ ['x', 'y']|join('+') }} {{ {'k': 1}['k'] }}"
        ),
        "ab True x+y 1"
    );
}

#[test]
fn mutating_an_immutable_list_says_why() {
    let e = render_err("{% set x = [3, 1]|sort %}{% do x.append(2) %}");
    assert!(e.contains("cannot append() this seq"), "{e}");
}

//! Rendering speed of ordinary model templates. Ignored by default; run with
//! `cargo test --release -p hangar_jinja --test bench_render -- --ignored --nocapture`.

mod support;

use hangar_jinja::{NodeInput, Phase};
use support::{Names, jinja_with_macros};

const MACROS: &str = "{% macro cents(col) %}({{ col }} / 100)::numeric(16, 2){% endmacro %}
{% macro col_list(cols, prefix='') %}{% for c in cols %}{{ prefix ~ c }}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}";

/// (label, model text): what dbt models usually look like.
const MODELS: &[(&str, &str)] = &[
    (
        "plain ref + macro",
        "{{ config(materialized='table') }}select {{ cents('amount') }}, {{ dbt.hash('id') }} from {{ ref('orders') }}",
    ),
    (
        "list literals + loop",
        "{{ config(materialized='table', tags=['finance', 'daily']) }}\n{% set cols = ['id', 'amount', 'status'] %}\nselect {{ col_list(cols, prefix='o.') }}\nfrom {{ ref('orders') }} o\n{% if is_incremental() %}where o.updated_at > (select max(updated_at) from {{ this }}){% endif %}",
    ),
    (
        "jinja arithmetic",
        "{% set ns = namespace(total=0) %}{% for i in range(20) %}{% set ns.total = ns.total + i %}{% endfor %}\nselect {{ ns.total }} as total, {{ ns.total - 3 }} as less, '{{ 'x' ~ ns.total }}' as label from {{ ref('orders') }}",
    ),
    (
        "cross-db macros",
        "select {{ dbt.dateadd('day', 3, 'created_at') }} as due, {{ dbt.datediff('a', 'b', 'day') }} as age, {{ dbt.concat(['a', 'b']) }} as ab from {{ source('raw', 'orders') }}",
    ),
];

#[test]
#[ignore = "benchmark; run explicitly in release"]
fn render_speed() {
    let (jinja, diagnostics) = jinja_with_macros(MACROS);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let n = 10_000;
    for (label, sql) in MODELS {
        let node = NodeInput::new(Phase::Compile, "proj", "models/m.sql", sql);
        let first = jinja.render_node(&node, &Names, None).expect("renders");
        assert!(!first.sql.is_empty());
        let start = std::time::Instant::now();
        for _ in 0..n {
            jinja.render_node(&node, &Names, None).expect("renders");
        }
        let elapsed = start.elapsed();
        eprintln!(
            "{label:>24}: {n} renders in {:>7.1} ms ({:.1} µs each)",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_secs_f64() * 1e6 / n as f64
        );
    }
}

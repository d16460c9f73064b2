--- options
{"adapters": ["duckdb"], "phase": "run"}
--- model
{%- set t = run_query('select id, name from t') -%}
rows={{ t.rows | length }} first={{ t[0][0] }} {{ t.rows[1]['name'] }} names={{ t.column_names }} values={{ t.columns[1].values() }}
{% call statement('main', fetch_result=True) %}select {{ 40 + 2 }}{% endcall %}
{%- set res = load_result('main') -%}
loaded={{ res.table.rows[0][1] }} data={{ res.data }} response={{ res.response.message }}
rel={{ adapter.get_relation(database='db', schema='s', identifier='exists') }} none={{ adapter.get_relation(database='db', schema='s', identifier='nope') is none }}
cols={% for c in adapter.get_columns_in_relation(this) %}{{ c.name }}:{{ c.data_type }} {% endfor %}
list={% for r in adapter.list_relations_without_caching(this) %}{{ r.identifier }}({{ r.type }}) {% endfor %}
quote={{ adapter.quote('x') }} type={{ adapter.type() }} incremental={{ is_incremental() }}

--- options
{"adapters": ["duckdb", "postgres"], "node_config": {"where": "status = 'placed'"}, "test_kwargs": {"column_name": "id", "model": "{{ get_where_subquery(ref('orders')) }}"}}
--- macro macros/show.sql
{% test show(model, column_name) %}
select {{ column_name }} from {{ model }}
{% endtest %}
--- model
{{ test_show(**_dbt_generic_test_kwargs) }}

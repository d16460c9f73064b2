--- options
{"adapters": ["duckdb"], "test_kwargs": {"column_name": "id", "model": "{{ get_where_subquery(ref('orders')) }}", "parent": "{{ get_where_subquery(source('raw', 'orders')) }}"}}
--- macro macros/where.sql
{% macro duckdb__get_where_subquery(relation) -%}
    {% do return('(select * from ' ~ relation ~ ' where not deleted) live') %}
{%- endmacro %}
--- macro macros/show.sql
{% test show(model, column_name, parent) %}
select {{ column_name }} from {{ model }} join {{ parent }}
{% endtest %}
--- model
{{ test_show(**_dbt_generic_test_kwargs) }}

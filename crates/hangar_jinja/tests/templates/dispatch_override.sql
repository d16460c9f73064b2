--- options
{"adapters": ["duckdb", "postgres"], "dispatch": {"dbt": ["proj", "dbt"]}}
--- macro macros/overrides.sql
{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}
my_dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
{% macro generate_schema_name(custom_schema_name, node) -%}
custom_{{ custom_schema_name }}
{%- endmacro %}
--- macro my_pkg:macros/pkg.sql
{% macro greet(name) %}{{ return(adapter.dispatch('greet', 'my_pkg')(name)) }}{% endmacro %}
{% macro default__greet(name) %}hello {{ helper(name) }}{% endmacro %}
{% macro helper(name) %}<{{ name }}>{% endmacro %}
--- model
{{ dateadd('day', 1, 'd') }}
{{ generate_schema_name('x', none) }} / {{ dbt.generate_schema_name('x', none) }}
{{ my_pkg.greet('world') }}

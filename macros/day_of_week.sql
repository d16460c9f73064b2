{#-
    ISO day of week (1 = Monday ... 7 = Sunday).
    Dispatched: Postgres and DuckDB know extract(isodow ...), Snowflake spells it dayofweekiso.
-#}
{% macro day_of_week(column_name) -%}
    {{ return(adapter.dispatch('day_of_week', 'the_hanger')(column_name)) }}
{%- endmacro %}

{% macro default__day_of_week(column_name) -%}
    cast(extract(isodow from {{ column_name }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro snowflake__day_of_week(column_name) -%}
    dayofweekiso({{ column_name }})
{%- endmacro %}

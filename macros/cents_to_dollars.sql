{#- Integer cents to a decimal dollar amount, portable across warehouses. -#}
{% macro cents_to_dollars(column_name, scale=2) -%}
    cast({{ column_name }} as {{ dbt.type_numeric() }}) / 100
{%- endmacro %}

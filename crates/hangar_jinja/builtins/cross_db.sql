{# Cross-database macros, shapes from dbt-adapters' utils/*.sql. #}
{% macro current_timestamp() -%}{{ adapter.dispatch('current_timestamp', 'dbt')() }}{%- endmacro %}
{% macro default__current_timestamp() -%}current_timestamp{%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) %}
  {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{% endmacro %}
{% macro default__dateadd(datepart, interval, from_date_or_timestamp) %}
    dateadd(
        {{ datepart }},
        {{ interval }},
        {{ from_date_or_timestamp }}
        )
{% endmacro %}

{% macro datediff(first_date, second_date, datepart) %}
  {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{% endmacro %}
{% macro default__datediff(first_date, second_date, datepart) -%}
    datediff(
        {{ datepart }},
        {{ first_date }},
        {{ second_date }}
        )
{%- endmacro %}

{% macro date_trunc(datepart, date) -%}
  {{ return(adapter.dispatch('date_trunc', 'dbt') (datepart, date)) }}
{%- endmacro %}
{% macro default__date_trunc(datepart, date) -%}
    date_trunc('{{datepart}}', {{date}})
{%- endmacro %}

{% macro last_day(date, datepart) %}
  {{ return(adapter.dispatch('last_day', 'dbt') (date, datepart)) }}
{% endmacro %}
{%- macro default_last_day(date, datepart) -%}
    cast(
        {{dbt.dateadd('day', '-1',
        dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))
        )}}
        as date)
{%- endmacro -%}
{% macro default__last_day(date, datepart) -%}
    {{dbt.default_last_day(date, datepart)}}
{%- endmacro %}

{% macro concat(fields) -%}
  {{ return(adapter.dispatch('concat', 'dbt')(fields)) }}
{%- endmacro %}
{% macro default__concat(fields) -%}
    {{ fields|join(' || ') }}
{%- endmacro %}

{% macro hash(field) -%}
  {{ return(adapter.dispatch('hash', 'dbt') (field)) }}
{%- endmacro %}
{% macro default__hash(field) -%}
    md5(cast({{ field }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro safe_cast(field, type) %}
  {{ return(adapter.dispatch('safe_cast', 'dbt') (field, type)) }}
{% endmacro %}
{% macro default__safe_cast(field, type) %}
    cast({{field}} as {{type}})
{% endmacro %}

{% macro cast_bool_to_text(field) %}
  {{ adapter.dispatch('cast_bool_to_text', 'dbt') (field) }}
{% endmacro %}
{% macro default__cast_bool_to_text(field) %}
    cast({{ field }} as {{ dbt.type_string() }})
{% endmacro %}

{% macro split_part(string_text, delimiter_text, part_number) %}
  {{ return(adapter.dispatch('split_part', 'dbt') (string_text, delimiter_text, part_number)) }}
{% endmacro %}
{% macro default__split_part(string_text, delimiter_text, part_number) %}
    split_part(
        {{ string_text }},
        {{ delimiter_text }},
        {{ part_number }}
        )
{% endmacro %}

{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
    {{ return(adapter.dispatch('listagg', 'dbt') (measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}
{% macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {% if limit_num -%}
    array_to_string(
        array_slice(
            array_agg(
                {{ measure }}
            ){% if order_by_clause -%}
            within group ({{ order_by_clause }})
            {%- endif %}
            ,0
            ,{{ limit_num }}
        ),
        {{ delimiter_text }}
        )
    {%- else %}
    listagg(
        {{ measure }},
        {{ delimiter_text }}
        )
        {% if order_by_clause -%}
        within group ({{ order_by_clause }})
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{% macro any_value(expression) -%}
    {{ return(adapter.dispatch('any_value', 'dbt') (expression)) }}
{% endmacro %}
{% macro default__any_value(expression) -%}
    any_value({{ expression }})
{%- endmacro %}

{% macro bool_or(expression) -%}
    {{ return(adapter.dispatch('bool_or', 'dbt') (expression)) }}
{% endmacro %}
{% macro default__bool_or(expression) -%}
    bool_or({{ expression }})
{%- endmacro %}

{% macro escape_single_quotes(expression) %}
      {{ return(adapter.dispatch('escape_single_quotes', 'dbt') (expression)) }}
{% endmacro %}
{% macro default__escape_single_quotes(expression) -%}
{{ expression | replace("'","''") }}
{%- endmacro %}

{%- macro string_literal(value) -%}
  {{ return(adapter.dispatch('string_literal', 'dbt') (value)) }}
{%- endmacro -%}
{% macro default__string_literal(value) -%}
    '{{ value }}'
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) -%}
    {{ return(adapter.dispatch('replace', 'dbt') (field, old_chars, new_chars)) }}
{% endmacro %}
{% macro default__replace(field, old_chars, new_chars) %}
    replace(
        {{ field }},
        {{ old_chars }},
        {{ new_chars }}
    )
{% endmacro %}

{% macro length(expression) -%}
    {{ return(adapter.dispatch('length', 'dbt') (expression)) }}
{% endmacro %}
{% macro default__length(expression) %}
    length(
        {{ expression }}
    )
{%- endmacro -%}

{% macro right(string_text, length_expression) -%}
    {{ return(adapter.dispatch('right', 'dbt') (string_text, length_expression)) }}
{% endmacro %}
{% macro default__right(string_text, length_expression) %}
    right(
        {{ string_text }},
        {{ length_expression }}
    )
{%- endmacro -%}

{% macro position(substring_text, string_text) -%}
    {{ return(adapter.dispatch('position', 'dbt') (substring_text, string_text)) }}
{% endmacro %}
{% macro default__position(substring_text, string_text) %}
    position(
        {{ substring_text }} in {{ string_text }}
    )
{%- endmacro -%}

{% macro except() %}
  {{ return(adapter.dispatch('except', 'dbt')()) }}
{% endmacro %}
{% macro default__except() %}
    except
{% endmacro %}

{% macro intersect() %}
  {{ return(adapter.dispatch('intersect', 'dbt')()) }}
{% endmacro %}
{% macro default__intersect() %}
    intersect
{% endmacro %}

{# date_spine and its helpers, as in dbt's global project. #}
{% macro get_powers_of_two(upper_bound) %}
    {{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}
{% endmacro %}

{% macro default__get_powers_of_two(upper_bound) %}
    {% if upper_bound <= 0 %}
        {{ exceptions.raise_compiler_error("upper bound must be positive") }}
    {% endif %}
    {% for _ in range(1, 100) %}
        {% if upper_bound <= 2 ** loop.index %}{{ return(loop.index) }}{% endif %}
    {% endfor %}
{% endmacro %}

{% macro generate_series(upper_bound) %}
    {{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}
{% endmacro %}

{% macro default__generate_series(upper_bound) %}
    {% set n = dbt.get_powers_of_two(upper_bound) %}
    with p as (
        select 0 as generated_number union all select 1
    ), unioned as (
    select
    {% for i in range(n) %}
    p{{ i }}.generated_number * power(2, {{ i }})
    {% if not loop.last %} + {% endif %}
    {% endfor %}
    + 1
    as generated_number
    from
    {% for i in range(n) %}
    p as p{{ i }}
    {% if not loop.last %} cross join {% endif %}
    {% endfor %}
    )
    select *
    from unioned
    where generated_number <= {{ upper_bound }}
    order by generated_number
{% endmacro %}

{% macro get_intervals_between(start_date, end_date, datepart) -%}
    {{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro %}

{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
    {%- call statement('get_intervals_between', fetch_result=True) %}
        select {{ dbt.datediff(start_date, end_date, datepart) }}
    {%- endcall -%}
    {%- set value_list = load_result('get_intervals_between') -%}
    {%- if value_list and value_list['data'] -%}
        {{ return(value_list['data'][0][0]) }}
    {%- else -%}
        {{ return(1) }}
    {%- endif -%}
{%- endmacro %}

{% macro date_spine(datepart, start_date, end_date) %}
    {{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(datepart, start_date, end_date) %}
    with rawdata as (
        {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}
    ),
    all_periods as (
        select (
            {{ dbt.dateadd(datepart, "row_number() over (order by 1) - 1", start_date) }}
        ) as date_{{ datepart }}
        from rawdata
    ),
    filtered as (
        select * from all_periods where date_{{ datepart }} <= {{ end_date }}
    )
    select * from filtered
{% endmacro %}

--- options
{"adapters": ["duckdb"], "test_kwargs": {"column_name": "{{ not rendered }}", "model": "{{ get_where_subquery(ref('orders')) }}", "to": "ref('customers')", "field": "id", "values": ["a", "{{ var('missing_var', 'b') }}"], "bounds": {"low": 1, "high": "{{ 1 + 1 }}"}, "note": "at {{ 'noon' }}"}}
--- macro macros/show.sql
{% test show(model, column_name, to, field, values, bounds, note) %}
model={{ model }} column={{ column_name }} to={{ to.identifier }}({{ to is string }}) field={{ field }}
values={{ values }} bounds={{ bounds.low }}-{{ bounds.high }} note={{ note }}
{% endtest %}
--- model
{{ test_show(**_dbt_generic_test_kwargs) }}

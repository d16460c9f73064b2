--- macro macros/cents.sql
{% macro cents_to_dollars(col) %}
  {% if col == 'bad' %}
    {{ exceptions.raise_compiler_error("column " ~ col ~ " is not allowed") }}
  {% endif %}
  ({{ col }} / 100)
{% endmacro %}
{% macro outer(col) %}
  {{ cents_to_dollars(col) }}
{% endmacro %}
--- model
select
  {{ outer('bad') }}
from t

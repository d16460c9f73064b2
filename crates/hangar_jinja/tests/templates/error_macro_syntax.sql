--- macro macros/broken.sql
{% macro broken(x) %}
  {{ x + }}
{% endmacro %}
--- model
select {{ broken(1) }}

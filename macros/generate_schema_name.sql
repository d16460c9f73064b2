{#-
    Schema naming by environment (dbt's generate_schema_name_for_env pattern,
    adapted so dev and ci stay isolated per layer):
      - no custom schema            -> target.schema
      - prod target                 -> the custom schema as is (marts, staging, raw...)
      - any other target (dev, ci)  -> <target.schema>_<custom schema> (dev_marts...)
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- elif target.name == 'prod' -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

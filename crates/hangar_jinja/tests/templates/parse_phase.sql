--- options
{"adapters": ["duckdb"], "phase": "parse"}
--- model
{{ config(materialized='incremental') }}
execute={{ execute }} get='{{ config.get('materialized') }}'
{%- set t = run_query('select 1') %}
rows={{ t.rows | length }}
{% if execute %}{{ ref('only_at_runtime') }}{% endif %}
select * from {{ ref('missing') }}

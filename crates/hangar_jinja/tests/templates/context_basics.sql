--- options
{"adapters": ["duckdb", "postgres", "snowflake"], "cli_vars": {"start": "2024-01-01"}, "project_vars": {"start": "ignored", "limit": 10}, "node_config": {"materialized": "view"}}
--- model
{{ config(materialized='table', tags=['a', 'b'], pre_hook="select 1") }}
-- this: {{ this }} / {{ this.schema }} / {{ this.identifier }}
-- target: {{ target.name }} {{ target.schema }} {{ target.type }}
-- execute: {{ execute }}, incremental: {{ is_incremental() }}
-- var: {{ var('start') }} {{ var('limit') }} {{ var('nope', 'fallback') }}
-- env_var: {{ env_var('HANGAR_TEST_SURELY_UNSET', 'dflt') }}
-- config.get: {{ config.get('materialized') }} {{ config.get('absent', 'd') }}
-- ids: {{ invocation_id }} {{ run_started_at.strftime('%Y-%m-%d %H:%M:%S') }} {{ run_started_at }}
-- doc: {{ doc('orders') }}; graph: {{ graph.nodes['model.proj.a'].name }}; model: {{ model.name }}
-- json: {{ tojson({'a': [1, 2], 'b': none}) }} {{ fromjson('{"x": 1}').x }} {{ local_md5('hangar') }}
-- yaml: {{ fromyaml('a: [1, 2]').a[1] }}; zip: {{ zip([1, 2], ['a', 'b']) }}; set: {{ set([1, 1, 2]) | length }}
{{ log('debug message') }}{{ log('info message', info=True) }}{{ print('printed') }}{{ exceptions.warn('careful') }}
select * from {{ ref('orders') }} join {{ ref('pkg', 'customers') }} using (id)
join {{ ref('versioned', v=2) }} using (id) join {{ source('raw', 'events') }} using (id)

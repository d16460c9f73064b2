{#-
    Where staging models read raw data from.

    In production the raw tables are the `gym_ops` source (the operational
    database, loaded by an EL tool). Locally and in CI there is no such
    database, so the same tables are shipped as seeds named raw_<table>.

    Staging models never call source() or ref() directly: they call
    {{ raw_table('members') }}. Returning ref() (not a source pointing at the
    seed schema) matters: dbt adds no edge from a source to a seed, so only a
    ref() makes `dbt build` load each seed before the staging model that
    reads it. The branch is taken at parse time, so the DAG matches the target.

    var('raw_from_seeds') overrides the choice; by default every target but
    prod reads the seeds.
-#}
{% macro raw_table(table_name) -%}
    {%- if var('raw_from_seeds', target.name != 'prod') -%}
        {{ ref('raw_' ~ table_name) }}
    {%- else -%}
        {{ source('gym_ops', table_name) }}
    {%- endif -%}
{%- endmacro %}

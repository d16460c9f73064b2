{{ config(materialized='ephemeral') }}

-- One row per calendar month of the reporting period. date_spine stops
-- before end_date, hence the day added to the last reporting day.
-- Ephemeral: inlined as a CTE into the finance marts, never built alone.
{{ dbt.date_spine(
    'month',
    "cast('" ~ var('reporting_start_date') ~ "' as date)",
    dbt.dateadd('day', 1, "cast('" ~ var('reporting_end_date') ~ "' as date)")
) }}

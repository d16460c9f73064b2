{{
    config(
        materialized='incremental',
        unique_key='check_in_id',
        on_schema_change='append_new_columns'
    )
}}

-- One row per check-in. Incremental: each run only processes check-ins
-- newer than the latest one already loaded (minus a day of late arrivals,
-- which unique_key deduplicates).
with visits as (

    select * from {{ ref('int_member_visits_enriched') }}

    {% if is_incremental() %}
    where checked_in_at > (
        select {{ dbt.dateadd('day', -1, 'max(checked_in_at)') }} from {{ this }}
    )
    {% endif %}

)

select
    check_in_id,
    member_id,
    gym_id,
    visit_date,
    checked_in_at,
    checked_out_at,
    duration_minutes,
    iso_day_of_week,
    hour_of_day,
    is_weekend,
    is_home_gym,
    member_visit_number,
    member_visit_number = 1 as is_first_visit
from visits

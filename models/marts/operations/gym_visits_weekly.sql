-- Visits per gym and ISO week (weeks start on Monday).
with daily as (

    select * from {{ ref('gym_visits_daily') }}

)

select
    gym_id,
    cast({{ dbt.date_trunc('week', 'visit_date') }} as date) as week_start_date,
    sum(visit_count) as visit_count,
    sum(first_visit_count) as first_visit_count,
    count(*) as open_days_with_visits,
    max(visit_count) as busiest_day_visit_count
from daily
group by
    gym_id,
    cast({{ dbt.date_trunc('week', 'visit_date') }} as date)

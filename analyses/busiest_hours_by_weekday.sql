-- Ad-hoc: average check-ins per weekday and hour across all gyms, to plan
-- front-desk shifts. Compiled by `dbt compile`, never run.
select
    iso_day_of_week,
    hour_of_day,
    count(*) as visit_count
from {{ ref('fct_check_ins') }}
group by iso_day_of_week, hour_of_day
order by iso_day_of_week, hour_of_day

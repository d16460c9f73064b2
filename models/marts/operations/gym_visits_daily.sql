-- Visits per gym and day, with the busiest hour, for staffing.
with check_ins as (

    select * from {{ ref('fct_check_ins') }}

),

hourly as (

    select
        gym_id,
        visit_date,
        hour_of_day,
        count(*) as visits_in_hour
    from check_ins
    group by gym_id, visit_date, hour_of_day

),

peak_hour as (

    select
        gym_id,
        visit_date,
        hour_of_day as peak_hour,
        row_number() over (
            partition by gym_id, visit_date
            order by visits_in_hour desc, hour_of_day
        ) as hour_rank
    from hourly

),

daily as (

    select
        gym_id,
        visit_date,
        min(iso_day_of_week) as iso_day_of_week,
        count(*) as visit_count,
        count(distinct member_id) as unique_member_count,
        sum(case when is_first_visit then 1 else 0 end) as first_visit_count,
        avg(cast(duration_minutes as {{ dbt.type_numeric() }})) as average_duration_minutes
    from check_ins
    group by gym_id, visit_date

)

select
    daily.gym_id,
    daily.visit_date,
    daily.iso_day_of_week,
    daily.visit_count,
    daily.unique_member_count,
    daily.first_visit_count,
    daily.average_duration_minutes,
    peak_hour.peak_hour
from daily
inner join peak_hour
    on daily.gym_id = peak_hour.gym_id
    and daily.visit_date = peak_hour.visit_date
    and peak_hour.hour_rank = 1

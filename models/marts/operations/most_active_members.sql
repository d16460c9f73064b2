-- The members who visited most over the last 90 days of the reporting
-- period, for the loyalty programme.
{% set window_days = 90 %}

with check_ins as (

    select * from {{ ref('fct_check_ins') }}
    where visit_date > {{ dbt.dateadd('day', -window_days, "cast('" ~ var('reporting_end_date') ~ "' as date)") }}

),

ascents as (

    select
        member_id,
        count(*) as ascent_count,
        sum(case when is_send then 1 else 0 end) as send_count,
        max(case when is_send and discipline = 'boulder' then grade_rank end) as hardest_boulder_rank
    from {{ ref('fct_ascents') }}
    where climbed_on > {{ dbt.dateadd('day', -window_days, "cast('" ~ var('reporting_end_date') ~ "' as date)") }}
    group by member_id

),

visits as (

    select
        member_id,
        count(*) as visit_count,
        count(distinct gym_id) as gyms_visited,
        sum(duration_minutes) as minutes_climbed
    from check_ins
    group by member_id

),

ranked as (

    select
        visits.member_id,
        visits.visit_count,
        visits.gyms_visited,
        visits.minutes_climbed,
        coalesce(ascents.ascent_count, 0) as ascent_count,
        coalesce(ascents.send_count, 0) as send_count,
        ascents.hardest_boulder_rank,
        row_number() over (order by visits.visit_count desc, visits.minutes_climbed desc, visits.member_id) as activity_rank
    from visits
    left join ascents
        on visits.member_id = ascents.member_id

)

select
    ranked.activity_rank,
    ranked.member_id,
    members.full_name,
    members.home_gym_id,
    ranked.visit_count,
    ranked.gyms_visited,
    ranked.minutes_climbed,
    ranked.ascent_count,
    ranked.send_count,
    'V' || cast(ranked.hardest_boulder_rank as {{ dbt.type_string() }}) as hardest_boulder_grade
from ranked
inner join {{ ref('dim_members') }} as members
    on ranked.member_id = members.member_id
where ranked.activity_rank <= {{ var('most_active_members_limit') }}
